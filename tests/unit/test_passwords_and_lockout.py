"""Password hashing, refusing wrong credentials without saying which part was wrong, and
locking an account after repeated failures."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from sqlalchemy.engine import Engine

from sharing.accounts import (
    INACTIVE_ACCOUNT,
    WRONG_CREDENTIALS,
    hash_password,
    resolve_session,
    sign_in_with_password,
    verify_password,
)
from sharing.audit import AuditAction, Outcome
from sharing.config import get_settings
from sharing.db import transaction, utcnow
from sharing.directory import reset_password, set_user_active
from sharing.errors import AccountLocked, InvalidInput, SessionExpired, SignInFailed
from sharing.models import User
from sharing.permissions import Actor
from tests.conftest import unique
from tests.unit.helpers import (
    PASSWORD,
    audit_events,
    last_audit_id,
    load_user,
    sessions_of,
    sign_in,
    start_session_for,
    update_row,
)

MakeUser = Callable[..., tuple[int, str]]


def _fail_with_wrong_password(engine: Engine, email: str, times: int) -> list[SignInFailed]:
    errors = []
    for _ in range(times):
        with pytest.raises(SignInFailed) as caught:
            sign_in(engine, email, "not the password")
        errors.append(caught.value)
    return errors


def test_password_hash_is_argon2_and_verifies() -> None:
    password = unique("pw") + " long enough"
    hashed = hash_password(password)
    assert hashed != password
    assert password not in hashed
    assert hashed.startswith("$argon2id$")
    assert verify_password(hashed, password)
    assert not verify_password(hashed, password + "x")
    assert not verify_password(hashed, "")


def test_same_password_hashes_differently_each_time() -> None:
    assert hash_password("the same password") != hash_password("the same password")


def test_missing_or_broken_hash_never_verifies() -> None:
    assert verify_password(None, "anything") is False
    assert verify_password("", "anything") is False
    assert verify_password("not-an-argon2-hash", "not-an-argon2-hash") is False


def test_unknown_email_and_wrong_password_give_the_same_message(engine: Engine, make_user: MakeUser) -> None:
    user_id, email = make_user()
    unknown = f"{unique('nobody')}@example.com"
    before = last_audit_id(engine)

    with pytest.raises(SignInFailed) as unknown_error:
        sign_in(engine, unknown, PASSWORD)
    with pytest.raises(SignInFailed) as wrong_error:
        sign_in(engine, email, "not the password")

    assert unknown_error.value.message == WRONG_CREDENTIALS
    assert wrong_error.value.message == WRONG_CREDENTIALS
    assert not isinstance(wrong_error.value, AccountLocked)

    unknown_rows = audit_events(engine, actor_label=unknown, since=before)
    assert [(e.action, e.outcome, e.reason) for e in unknown_rows] == [
        (AuditAction.SIGNIN_FAILED, Outcome.FAILURE, "unknown email")
    ]
    assert unknown_rows[0].subject_id is None

    wrong_rows = audit_events(engine, subject_type="user", subject_id=user_id, since=before)
    assert [(e.action, e.outcome, e.reason, e.actor_label) for e in wrong_rows] == [
        (AuditAction.SIGNIN_FAILED, Outcome.FAILURE, "wrong password", email)
    ]
    assert load_user(engine, user_id).failed_attempts == 1


def test_failed_sign_in_records_the_ip_address(engine: Engine, make_user: MakeUser) -> None:
    user_id, email = make_user()
    before = last_audit_id(engine)
    with pytest.raises(SignInFailed):
        sign_in(engine, email, "not the password", ip_address="203.0.113.7")
    (row,) = audit_events(engine, action=AuditAction.SIGNIN_FAILED, subject_id=user_id, since=before)
    assert row.ip_address == "203.0.113.7"


def test_email_is_matched_ignoring_case_and_spaces(engine: Engine, make_user: MakeUser) -> None:
    user_id, email = make_user()
    step = sign_in(engine, f"  {email.upper()} ", PASSWORD)
    assert step.user_id == user_id
    assert step.next == "done"
    assert step.ticket


def test_account_without_password_cannot_sign_in_with_one(engine: Engine, make_user: MakeUser) -> None:
    user_id, email = make_user(password=None)
    before = last_audit_id(engine)
    with pytest.raises(SignInFailed) as caught:
        sign_in(engine, email, "")
    assert caught.value.message == WRONG_CREDENTIALS
    assert [e.reason for e in audit_events(engine, subject_id=user_id, since=before)] == ["wrong password"]


def test_a_successful_sign_in_clears_earlier_failures(engine: Engine, make_user: MakeUser) -> None:
    user_id, email = make_user()
    _fail_with_wrong_password(engine, email, 2)
    assert load_user(engine, user_id).failed_attempts == 2

    assert sign_in(engine, email).next == "done"
    assert load_user(engine, user_id).failed_attempts == 0

    # The count starts again: the earlier failures do not help towards a lock.
    threshold = get_settings().lockout_threshold
    _fail_with_wrong_password(engine, email, threshold - 1)
    user = load_user(engine, user_id)
    assert user.locked_until is None
    assert user.failed_attempts == threshold - 1
    assert audit_events(engine, action=AuditAction.ACCOUNT_LOCKED, subject_id=user_id) == []


def test_repeated_wrong_passwords_lock_the_account(engine: Engine, make_user: MakeUser) -> None:
    user_id, email = make_user()
    settings = get_settings()
    threshold = settings.lockout_threshold
    assert threshold == 5
    before = last_audit_id(engine)

    errors = _fail_with_wrong_password(engine, email, threshold)
    assert all(e.message == WRONG_CREDENTIALS for e in errors[:-1])

    user = load_user(engine, user_id)
    assert user.locked_until is not None
    assert user.locked_until > utcnow() + timedelta(minutes=settings.lockout_minutes - 1)
    assert user.locked_until <= utcnow() + timedelta(minutes=settings.lockout_minutes)
    assert user.failed_attempts == 0

    rows = audit_events(engine, subject_type="user", subject_id=user_id, since=before)
    assert [e.action for e in rows] == [AuditAction.SIGNIN_FAILED] * threshold + [AuditAction.ACCOUNT_LOCKED]
    locked_row = rows[-1]
    assert locked_row.outcome == Outcome.FAILURE
    assert locked_row.actor_label == email
    assert locked_row.reason == f"{threshold} failed attempts"
    assert locked_row.detail["locked_until"] == user.locked_until.isoformat()

    # While locked, even the right password is refused, and that does not extend the lock.
    before_locked = last_audit_id(engine)
    with pytest.raises(AccountLocked) as locked:
        sign_in(engine, email, PASSWORD)
    assert "locked" in locked.value.message
    assert str(threshold) in locked.value.message
    with pytest.raises(AccountLocked):
        sign_in(engine, email, "not the password")
    still = load_user(engine, user_id)
    assert still.locked_until == user.locked_until
    assert still.failed_attempts == 0
    refusals = audit_events(engine, subject_type="user", subject_id=user_id, since=before_locked)
    assert [(e.action, e.reason) for e in refusals] == [(AuditAction.SIGNIN_FAILED, "account locked")] * 2


def test_the_lock_ends_when_its_time_has_passed(engine: Engine, make_user: MakeUser) -> None:
    user_id, email = make_user()
    update_row(engine, User, user_id, locked_until=utcnow() + timedelta(minutes=15))
    with pytest.raises(AccountLocked):
        sign_in(engine, email, PASSWORD)

    update_row(engine, User, user_id, locked_until=utcnow() - timedelta(seconds=1))
    before = last_audit_id(engine)
    step = sign_in(engine, email, PASSWORD)
    assert step.next == "done"
    assert step.ticket
    user = load_user(engine, user_id)
    assert user.locked_until is None
    assert user.failed_attempts == 0
    assert audit_events(engine, subject_type="user", subject_id=user_id, since=before) == []

    # After the lock, a single wrong password is an ordinary failure again.
    with pytest.raises(SignInFailed) as caught:
        sign_in(engine, email, "not the password")
    assert not isinstance(caught.value, AccountLocked)
    assert load_user(engine, user_id).failed_attempts == 1


def test_a_deactivated_account_is_refused_without_counting(engine: Engine, make_user: MakeUser, admin: Actor) -> None:
    user_id, email = make_user()
    with transaction(engine) as session:
        set_user_active(session=session, actor=admin, user_id=user_id, active=False)
    before = last_audit_id(engine)

    with pytest.raises(SignInFailed) as caught:
        sign_in(engine, email, PASSWORD)
    assert caught.value.message == INACTIVE_ACCOUNT
    assert load_user(engine, user_id).failed_attempts == 0
    # A wrong password does not reveal that the account is deactivated.
    with pytest.raises(SignInFailed) as wrong:
        sign_in(engine, email, "not the password")
    assert wrong.value.message == WRONG_CREDENTIALS

    rows = audit_events(engine, subject_type="user", subject_id=user_id, since=before)
    assert [(e.action, e.reason) for e in rows] == [
        (AuditAction.SIGNIN_FAILED, "account deactivated"),
        (AuditAction.SIGNIN_FAILED, "wrong password"),
    ]


def test_admin_password_reset_clears_the_lock_and_ends_sessions(
    engine: Engine, make_user: MakeUser, admin: Actor
) -> None:
    user_id, email = make_user()
    started = start_session_for(engine, email)
    _fail_with_wrong_password(engine, email, get_settings().lockout_threshold)
    assert load_user(engine, user_id).locked_until is not None
    before = last_audit_id(engine)

    new_password = "a brand new passphrase"
    with transaction(engine) as session:
        read = reset_password(session=session, actor=admin, user_id=user_id, new_password=new_password)
    assert read.locked_until is None

    user = load_user(engine, user_id)
    assert user.locked_until is None
    assert user.failed_attempts == 0
    (ended,) = sessions_of(engine, user_id)
    assert ended.ended_at is not None
    assert ended.end_reason == "password_reset"
    with transaction(engine) as session, pytest.raises(SessionExpired):
        resolve_session(session=session, token=started.token)

    rows = audit_events(engine, subject_type="user", subject_id=user_id, since=before)
    assert [e.action for e in rows] == [AuditAction.PASSWORD_RESET]
    assert rows[0].actor_user_id == admin.user_id
    assert rows[0].detail == {"sessions_ended": 1}
    assert new_password not in str(rows[0].detail)

    with pytest.raises(SignInFailed):
        sign_in(engine, email, PASSWORD)
    assert sign_in(engine, email, new_password).next == "done"


def test_password_reset_refuses_a_short_password(engine: Engine, make_user: MakeUser, admin: Actor) -> None:
    user_id, _ = make_user()
    old_hash = load_user(engine, user_id).password_hash
    before = last_audit_id(engine)
    with transaction(engine) as session, pytest.raises(InvalidInput) as caught:
        reset_password(session=session, actor=admin, user_id=user_id, new_password="short")
    assert set(caught.value.field_errors) == {"password"}
    assert str(get_settings().password_min_length) in caught.value.field_errors["password"]
    assert load_user(engine, user_id).password_hash == old_hash
    assert audit_events(engine, subject_id=user_id, since=before) == []


def test_the_attempt_that_locks_the_account_says_so(engine: Engine, make_user: Callable[..., tuple[int, str]]) -> None:
    _user_id, email = make_user()
    threshold = get_settings().lockout_threshold
    messages = []
    for _ in range(threshold):
        with pytest.raises(SignInFailed) as refused, transaction(engine) as session:
            sign_in_with_password(session=session, email=email, password="wrong password here")
        messages.append(refused.value.message)
    assert all(m == WRONG_CREDENTIALS for m in messages[:-1])
    assert messages[-1].startswith(f"This account is locked after {threshold} failed attempts.")
