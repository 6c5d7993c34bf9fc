"""The TOTP second factor: who must use it, enrolment, verification and replay refusal."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from urllib.parse import unquote

import pyotp
import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from sharing.accounts import (
    WRONG_CODE,
    SignInStep,
    confirm_totp_enrolment,
    new_totp_secret,
    second_factor_required,
    totp_provisioning_uri,
    verify_second_factor,
)
from sharing.audit import AuditAction, Outcome
from sharing.config import get_settings
from sharing.crypto import decrypt_secret
from sharing.db import transaction
from sharing.directory import set_user_active
from sharing.errors import AccountLocked, SignInFailed
from sharing.models import Role, SignInTicket, User
from sharing.permissions import ROLES_REQUIRING_TOTP, Actor
from tests.unit.conftest import Clock
from tests.unit.helpers import (
    actions_about_user,
    audit_events,
    last_audit_id,
    load_user,
    redeem,
    sign_in,
    wrong_code,
)

MakeUser = Callable[..., tuple[int, str]]


def _code_at(secret: str, moment: datetime) -> str:
    return pyotp.TOTP(secret).at(moment)


def _enrol(engine: Engine, user_id: int, secret: str, code: str) -> SignInStep:
    with transaction(engine) as session:
        return confirm_totp_enrolment(session=session, user_id=user_id, secret=secret, code=code)


def _verify(engine: Engine, user_id: int, code: str) -> SignInStep:
    with transaction(engine) as session:
        return verify_second_factor(session=session, user_id=user_id, code=code)


def _tickets_of(engine: Engine, user_id: int) -> list[SignInTicket]:
    with Session(engine) as session:
        return list(session.exec(select(SignInTicket).where(SignInTicket.user_id == user_id)))


def test_roles_requiring_totp_are_administrator_and_information_sharing_officer() -> None:
    assert frozenset({Role.ADMINISTRATOR, Role.INFORMATION_SHARING_OFFICER}) == ROLES_REQUIRING_TOTP


@pytest.mark.parametrize(
    "roles",
    [
        (Role.ADMINISTRATOR,),
        (Role.INFORMATION_SHARING_OFFICER,),
        (Role.PANEL_MEMBER, Role.ADMINISTRATOR),
    ],
)
def test_privileged_roles_must_enrol_before_finishing_sign_in(
    engine: Engine, make_user: MakeUser, roles: tuple[Role, ...]
) -> None:
    user_id, email = make_user(roles)
    before = last_audit_id(engine)
    step = sign_in(engine, email)
    assert step == SignInStep(user_id=user_id, next="enrol_totp", ticket=None)
    assert _tickets_of(engine, user_id) == []
    assert actions_about_user(engine, user_id, since=before) == []


@pytest.mark.parametrize("roles", [(Role.LEAD_OFFICER,), (Role.PANEL_MEMBER,)])
def test_other_roles_sign_in_with_a_password_alone(
    engine: Engine, make_user: MakeUser, roles: tuple[Role, ...]
) -> None:
    user_id, email = make_user(roles)
    step = sign_in(engine, email)
    assert step.next == "done"
    assert step.ticket
    assert len(_tickets_of(engine, user_id)) == 1


def test_demo_accounts_are_excused_only_while_demo_mode_is_on(
    engine: Engine, make_user: MakeUser, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = get_settings()
    assert settings.is_demo
    user_id, email = make_user((Role.ADMINISTRATOR,), is_demo=True)
    assert sign_in(engine, email).next == "done"

    monkeypatch.setattr(settings, "demo_mode", False)
    assert sign_in(engine, email).next == "enrol_totp"
    with Session(engine) as session:
        assert second_factor_required(session, load_user(engine, user_id)) is True


def test_second_factor_required_for_any_enrolled_account(engine: Engine, make_user: MakeUser) -> None:
    user_id, _ = make_user((Role.PANEL_MEMBER,), password=None)
    with Session(engine) as session:
        user = session.get(User, user_id)
        assert user is not None
        assert second_factor_required(session, user) is False
        user.totp_enabled = True
        assert second_factor_required(session, user) is True


def test_provisioning_uri_names_the_portal_and_the_person() -> None:
    secret = new_totp_secret()
    uri = unquote(totp_provisioning_uri(email="dana@example.com", secret=secret))
    assert uri.startswith("otpauth://totp/")
    assert "ASB Panel Portal" in uri
    assert "dana@example.com" in uri
    assert f"secret={secret}" in uri
    assert new_totp_secret() != secret


def test_enrolment_with_a_wrong_code_fails_and_counts_towards_lockout(engine: Engine, make_user: MakeUser) -> None:
    user_id, email = make_user((Role.ADMINISTRATOR,))
    assert sign_in(engine, email).next == "enrol_totp"
    secret = new_totp_secret()
    before = last_audit_id(engine)

    with pytest.raises(SignInFailed) as caught:
        _enrol(engine, user_id, secret, wrong_code(secret))
    assert caught.value.message == WRONG_CODE

    user = load_user(engine, user_id)
    assert user.totp_enabled is False
    assert user.totp_secret_encrypted is None
    assert user.failed_attempts == 1
    rows = audit_events(engine, subject_type="user", subject_id=user_id, since=before)
    assert [(e.action, e.outcome, e.reason) for e in rows] == [
        (AuditAction.SIGNIN_SECOND_FACTOR_FAILED, Outcome.FAILURE, "wrong code while setting up the authenticator")
    ]
    assert _tickets_of(engine, user_id) == []


def test_enrolment_with_the_current_code_turns_totp_on(engine: Engine, make_user: MakeUser) -> None:
    user_id, email = make_user((Role.INFORMATION_SHARING_OFFICER,))
    assert sign_in(engine, email).next == "enrol_totp"
    secret = new_totp_secret()
    before = last_audit_id(engine)

    step = _enrol(engine, user_id, secret, pyotp.TOTP(secret).now())
    assert step.next == "done"
    assert step.ticket

    user = load_user(engine, user_id)
    assert user.totp_enabled is True
    assert user.totp_secret_encrypted
    assert secret not in user.totp_secret_encrypted
    assert decrypt_secret(user.totp_secret_encrypted) == secret
    assert user.totp_last_step is not None

    rows = audit_events(engine, subject_type="user", subject_id=user_id, since=before)
    assert [(e.action, e.outcome, e.actor_label) for e in rows] == [(AuditAction.TOTP_ENROLLED, Outcome.SUCCESS, email)]
    started = redeem(engine, step.ticket)
    assert started.user_id == user_id
    assert actions_about_user(engine, user_id, since=before)[-1] == AuditAction.SIGNIN_SUCCEEDED

    # From now on the password alone is not enough.
    assert sign_in(engine, email) == SignInStep(user_id=user_id, next="totp", ticket=None)


def test_sign_in_after_enrolment_needs_a_fresh_code_and_refuses_replays(
    engine: Engine, make_user: MakeUser, clock: Clock
) -> None:
    user_id, email = make_user((Role.ADMINISTRATOR,))
    secret = new_totp_secret()
    enrol_code = _code_at(secret, clock.now)
    assert _enrol(engine, user_id, secret, enrol_code).next == "done"
    assert sign_in(engine, email).next == "totp"
    before = last_audit_id(engine)

    # The code used to enrol cannot be used again.
    with pytest.raises(SignInFailed) as replayed:
        _verify(engine, user_id, enrol_code)
    assert replayed.value.message == WRONG_CODE

    # Thirty seconds on, the authenticator shows a new code, which works once.
    clock.advance(seconds=30)
    fresh = _code_at(secret, clock.now)
    step = _verify(engine, user_id, f"{fresh[:3]} {fresh[3:]}")
    assert step.next == "done"
    assert step.ticket
    with pytest.raises(SignInFailed):
        _verify(engine, user_id, fresh)
    # Still refused in the next window, where it would otherwise be accepted as "previous".
    clock.advance(seconds=30)
    with pytest.raises(SignInFailed):
        _verify(engine, user_id, fresh)

    rows = audit_events(engine, subject_type="user", subject_id=user_id, since=before)
    assert [(e.action, e.reason) for e in rows] == [
        (AuditAction.SIGNIN_SECOND_FACTOR_FAILED, "wrong second-factor code")
    ] * 3
    # The good code in between cleared the count, so only the two later refusals remain.
    assert load_user(engine, user_id).failed_attempts == 2
    # A good code clears the count.
    assert _verify(engine, user_id, _code_at(secret, clock.now)).next == "done"
    assert load_user(engine, user_id).failed_attempts == 0


def test_codes_outside_the_one_step_window_are_refused(engine: Engine, make_user: MakeUser, clock: Clock) -> None:
    user_id, _ = make_user((Role.ADMINISTRATOR,), password=None)
    secret = new_totp_secret()
    assert _enrol(engine, user_id, secret, _code_at(secret, clock.now)).next == "done"
    clock.advance(seconds=300)
    stale = _code_at(secret, clock.now - timedelta(seconds=90))
    future = _code_at(secret, clock.now + timedelta(seconds=90))
    accepted = {_code_at(secret, clock.now + timedelta(seconds=s)) for s in (-30, 0, 30)}
    refused = [code for code in (stale, future) if code not in accepted] + ["12345", "1234567"]
    before = last_audit_id(engine)
    for code in refused:
        with pytest.raises(SignInFailed) as caught:
            _verify(engine, user_id, code)
        assert caught.value.message == WRONG_CODE
    assert actions_about_user(engine, user_id, since=before) == [AuditAction.SIGNIN_SECOND_FACTOR_FAILED] * len(refused)
    # The previous window is still accepted (clock drift).
    assert _verify(engine, user_id, _code_at(secret, clock.now - timedelta(seconds=30))).next == "done"


def test_wrong_codes_lock_the_account(engine: Engine, make_user: MakeUser, clock: Clock) -> None:
    user_id, _ = make_user((Role.ADMINISTRATOR,), password=None)
    secret = new_totp_secret()
    assert _enrol(engine, user_id, secret, _code_at(secret, clock.now)).next == "done"
    clock.advance(seconds=60)
    before = last_audit_id(engine)
    threshold = get_settings().lockout_threshold
    for _ in range(threshold):
        with pytest.raises(SignInFailed):
            _verify(engine, user_id, wrong_code(secret, clock.now))
    assert load_user(engine, user_id).locked_until is not None

    with pytest.raises(AccountLocked):
        _verify(engine, user_id, _code_at(secret, clock.now))
    assert actions_about_user(engine, user_id, since=before) == [
        *[AuditAction.SIGNIN_SECOND_FACTOR_FAILED] * threshold,
        AuditAction.ACCOUNT_LOCKED,
        AuditAction.SIGNIN_FAILED,
    ]
    # The lock outlasts the code windows; once it has passed, a current code works.
    clock.advance(minutes=get_settings().lockout_minutes, seconds=1)
    assert _verify(engine, user_id, _code_at(secret, clock.now)).next == "done"


def test_an_enrolled_authenticator_cannot_be_replaced_at_sign_in(
    engine: Engine, make_user: MakeUser, clock: Clock
) -> None:
    user_id, email = make_user((Role.ADMINISTRATOR,))
    secret = new_totp_secret()
    assert _enrol(engine, user_id, secret, _code_at(secret, clock.now)).next == "done"
    assert sign_in(engine, email).next == "totp"
    # A later time window, so the replay guard is not what refuses the attempt below.
    clock.advance(seconds=60)
    before = last_audit_id(engine)

    # Someone who knows only the password tries to set up their own authenticator instead.
    other = new_totp_secret()
    with pytest.raises(SignInFailed):
        _enrol(engine, user_id, other, _code_at(other, clock.now))

    user = load_user(engine, user_id)
    assert decrypt_secret(user.totp_secret_encrypted or "") == secret
    rows = audit_events(engine, subject_type="user", subject_id=user_id, since=before)
    assert [(e.action, e.reason) for e in rows] == [
        (AuditAction.SIGNIN_SECOND_FACTOR_FAILED, "authenticator already set up")
    ]
    assert len(_tickets_of(engine, user_id)) == 1  # only the one from enrolment
    # The real authenticator still works.
    assert _verify(engine, user_id, _code_at(secret, clock.now)).next == "done"


def test_verifying_a_code_for_an_account_without_totp_is_refused(engine: Engine, make_user: MakeUser) -> None:
    user_id, _ = make_user(password=None)
    before = last_audit_id(engine)
    with pytest.raises(SignInFailed) as caught:
        _verify(engine, user_id, "123456")
    assert "start again" in caught.value.message
    assert actions_about_user(engine, user_id, since=before) == []
    assert _tickets_of(engine, user_id) == []


def test_second_step_for_a_deactivated_account_is_refused(engine: Engine, make_user: MakeUser, admin: Actor) -> None:
    user_id, email = make_user((Role.ADMINISTRATOR,))
    assert sign_in(engine, email).next == "enrol_totp"
    with transaction(engine) as session:
        set_user_active(session=session, actor=admin, user_id=user_id, active=False)
    secret = new_totp_secret()
    with pytest.raises(SignInFailed) as caught:
        _enrol(engine, user_id, secret, pyotp.TOTP(secret).now())
    assert "start again" in caught.value.message
    assert load_user(engine, user_id).totp_enabled is False
    assert audit_events(engine, action=AuditAction.TOTP_ENROLLED, subject_id=user_id) == []
