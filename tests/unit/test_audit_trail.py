"""The hash-chained, append-only audit trail."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import exc, text
from sqlalchemy.engine import Engine
from sqlmodel import Session, SQLModel, col, select

from sharing.audit import (
    GENESIS_HASH,
    AuditAction,
    AuditRecord,
    ChainReport,
    Outcome,
    compute_hash,
    list_events,
    record_event,
    record_events,
    verify_chain,
)
from sharing.db import make_engine, transaction, utcnow
from sharing.models import AuditChainHead, AuditEvent
from sharing.permissions import SYSTEM_ACTOR, Actor
from tests.conftest import unique
from tests.unit.helpers import audit_events, last_audit_id


def _record(session: Session, n: int, label: str) -> list[AuditEvent]:
    return [
        record_event(
            session,
            action=AuditAction.SIGNIN_FAILED,
            outcome=Outcome.FAILURE,
            actor_label=label,
            subject_type="user",
            subject_id=n * 1000 + i,
            reason=f"event {i}",
            detail={"i": i, "nested": {"b": [1, 2], "a": None}},
            ip_address="192.0.2.1",
        )
        for i in range(n)
    ]


# --- the shared, migrated database -----------------------------------------------------


def test_events_are_chained_and_the_chain_verifies(engine: Engine) -> None:
    label = unique("chain")
    with transaction(engine) as session:
        written = _record(session, 30, label)
    stored = audit_events(engine, actor_label=label)
    assert [e.id for e in stored] == [e.id for e in written]
    for previous, event in itertools.pairwise(stored):
        assert event.prev_hash == previous.hash
    for event in stored:
        assert event.hash == compute_hash(event)
        assert len(event.hash) == 64
    assert stored[0].detail == {"i": 0, "nested": {"b": [1, 2], "a": None}}

    with Session(engine) as session:
        head = session.get(AuditChainHead, 1)
        report = verify_chain(session)
        newest = session.exec(select(AuditEvent).order_by(col(AuditEvent.id).desc())).first()
    assert report.ok, report
    assert report.problem is None
    assert report.checked >= 30
    assert newest is not None and head is not None
    assert head.last_hash == newest.hash
    assert head.last_event_id == newest.id


def test_events_appended_in_bulk_join_the_same_chain(engine: Engine) -> None:
    label = unique("bulk")
    records = [
        AuditRecord(
            action=AuditAction.REMINDER_RAISED, outcome=Outcome.SUCCESS, actor=SYSTEM_ACTOR, subject_type="case",
            subject_id=i, detail={"i": i, 2: "two", "when": utcnow().date()},
        )
        for i in range(5)
    ]  # fmt: skip
    with transaction(engine) as session:
        assert record_events(session, []) == []
        before = record_event(session, action=AuditAction.DEMO_SEEDED, outcome=Outcome.SUCCESS, actor_label=label)
        ids = record_events(session, [replace(r, actor_label=label) for r in records])
        after = record_event(session, action=AuditAction.DEMO_SEEDED, outcome=Outcome.SUCCESS, actor_label=label)
    stored = audit_events(engine, actor_label=label)
    assert [e.id for e in stored] == [before.id, *ids, after.id]
    for previous, event in itertools.pairwise(stored):
        assert event.prev_hash == previous.hash
    for event in stored:
        assert event.hash == compute_hash(event)
    assert stored[1].detail == {"i": 0, "2": "two", "when": str(utcnow().date())}
    assert (stored[1].actor_label, stored[1].subject_id, stored[1].subject_type) == (label, "0", "case")

    with transaction(engine) as session:
        alone = record_events(session, records[:2])
    with Session(engine) as session:
        head = session.get(AuditChainHead, 1)
        newest = session.get(AuditEvent, alone[-1])
        report = verify_chain(session)
    assert head is not None and newest is not None
    assert (head.last_event_id, head.last_hash) == (newest.id, newest.hash)
    assert report.ok, report


def test_the_actor_is_recorded(engine: Engine) -> None:
    actor = Actor(user_id=None, organisation_id=None, email=f"{unique('who')}@example.com", ip_address="192.0.2.8")
    with transaction(engine) as session:
        event = record_event(session, action=AuditAction.DEMO_SEEDED, outcome=Outcome.SUCCESS, actor=actor)
    (stored,) = audit_events(engine, actor_label=actor.email)
    assert stored.id == event.id
    assert stored.ip_address == "192.0.2.8"
    assert stored.detail == {}
    with transaction(engine) as session:
        record_event(session, action=AuditAction.DEMO_SEEDED, outcome=Outcome.SUCCESS, actor=SYSTEM_ACTOR)
    assert audit_events(engine, actor_label="system", since=event.id)


def test_a_rolled_back_action_leaves_no_event_and_no_gap(engine: Engine) -> None:
    label = unique("rolled-back")
    with pytest.raises(RuntimeError), transaction(engine) as session:
        _record(session, 3, label)
        raise RuntimeError("the action failed")
    assert audit_events(engine, actor_label=label) == []
    with Session(engine) as session:
        assert verify_chain(session).ok


def test_list_events_filters_newest_first(engine: Engine) -> None:
    label = unique("listed")
    with transaction(engine) as session:
        written = _record(session, 4, label)
        record_event(session, action=AuditAction.SIGNOUT, outcome=Outcome.SUCCESS, subject_type="thing", subject_id=7)
    with Session(engine) as session:
        found = list_events(session, subject_type="user", subject_id=str(written[2].subject_id))
        failed = list_events(session, actions=[AuditAction.SIGNIN_FAILED], limit=3)
    assert [e.id for e in found] == [written[2].id]
    assert [e.id for e in failed] == [e.id for e in reversed(written[1:])]


def _refused(engine: Engine, statement: str, **params: Any) -> None:
    """Run ``statement`` and expect the database to refuse it; roll back whatever happens."""
    with engine.connect() as connection:
        outer = connection.begin()
        try:
            with pytest.raises(exc.DBAPIError, match="append-only"):
                connection.execute(text(statement), params)
        finally:
            outer.rollback()


def _one_event(engine: Engine) -> AuditEvent:
    label = unique("guarded")
    with transaction(engine) as session:
        (event,) = _record(session, 1, label)
    return event


def test_the_database_refuses_to_update_audit_rows(engine: Engine) -> None:
    event = _one_event(engine)
    _refused(engine, "UPDATE audit_event SET reason = 'edited' WHERE id = :id", id=event.id)
    _refused(engine, "UPDATE audit_event SET hash = prev_hash")

    with pytest.raises(exc.DBAPIError), transaction(engine) as session:
        stored = session.get(AuditEvent, event.id)
        assert stored is not None
        stored.reason = "edited through the ORM"
        session.add(stored)

    (after,) = audit_events(engine, actor_label=event.actor_label)
    assert after.reason == event.reason
    assert after.hash == event.hash


def test_the_database_refuses_to_delete_audit_rows(engine: Engine) -> None:
    event = _one_event(engine)
    newest = last_audit_id(engine)
    _refused(engine, "DELETE FROM audit_event WHERE id = :id", id=event.id)
    _refused(engine, "DELETE FROM audit_event")

    with pytest.raises(exc.DBAPIError), transaction(engine) as session:
        stored = session.get(AuditEvent, event.id)
        session.delete(stored)

    assert [e.id for e in audit_events(engine, actor_label=event.actor_label)] == [event.id]
    assert last_audit_id(engine) == newest
    with Session(engine) as session:
        assert verify_chain(session).ok


def test_postgresql_also_refuses_truncate(engine: Engine) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("TRUNCATE exists only on PostgreSQL")
    _one_event(engine)
    _refused(engine, "TRUNCATE audit_event")
    assert last_audit_id(engine) > 0


# --- hashing, in memory ----------------------------------------------------------------


def _sample() -> AuditEvent:
    event = AuditEvent(
        occurred_at=utcnow(),
        action="auth:signin:failed",
        outcome="failure",
        actor_user_id=3,
        actor_organisation_id=4,
        actor_label="someone@example.com",
        subject_type="user",
        subject_id="3",
        reason="wrong password",
        detail={"a": 1},
        ip_address="192.0.2.1",
        prev_hash=GENESIS_HASH,
        hash="",
    )
    event.hash = compute_hash(event)
    return event


CHANGES: dict[str, Any] = {
    "occurred_at": timedelta(microseconds=1),
    "action": "auth:signin:succeeded",
    "outcome": "success",
    "actor_user_id": 5,
    "actor_organisation_id": None,
    "actor_label": "someone.else@example.com",
    "subject_type": "organisation",
    "subject_id": "4",
    "reason": "wrong passw0rd",
    "detail": {"a": 2},
    "ip_address": "192.0.2.2",
    "prev_hash": "f" * 64,
}


@pytest.mark.parametrize("field", list(CHANGES))
def test_changing_any_field_changes_the_hash(field: str) -> None:
    event = _sample()
    original = event.hash
    assert compute_hash(event) == original
    change = CHANGES[field]
    setattr(event, field, event.occurred_at + change if field == "occurred_at" else change)
    assert compute_hash(event) != original


def test_the_hash_ignores_key_order_and_the_stored_hash() -> None:
    event = _sample()
    original = event.hash
    event.detail = {"b": 2, "a": 1}
    reordered = compute_hash(event)
    event.detail = {"a": 1, "b": 2}
    assert compute_hash(event) == reordered != original
    event.hash = "anything"
    assert compute_hash(event) == reordered


# --- tampering, on a separate database without the triggers ----------------------------


@pytest.fixture
def scratch(tmp_path: Path) -> Iterator[Engine]:
    """A fresh SQLite database made from the models alone: no triggers guard it."""
    engine = make_engine(f"sqlite:///{(tmp_path / 'scratch.db').as_posix()}")
    SQLModel.metadata.create_all(engine)
    with transaction(engine) as session:
        _record(session, 5, "scratch")
    yield engine
    engine.dispose()


def _verify(engine: Engine) -> Any:
    with Session(engine) as session:
        return verify_chain(session)


def test_scratch_chain_starts_at_genesis_and_verifies(scratch: Engine) -> None:
    report = _verify(scratch)
    assert report.ok
    assert report.checked == 5
    with Session(scratch) as session:
        first = session.get(AuditEvent, 1)
    assert first is not None and first.prev_hash == GENESIS_HASH


def test_an_edited_row_is_detected(scratch: Engine) -> None:
    with scratch.begin() as connection:
        connection.execute(text("UPDATE audit_event SET reason = 'nothing happened' WHERE id = 3"))
    report = _verify(scratch)
    assert not report.ok
    assert report.first_bad_event_id == 3
    assert report.checked == 2
    assert report.problem is not None and "changed" in report.problem


def test_an_edited_detail_is_detected(scratch: Engine) -> None:
    with scratch.begin() as connection:
        connection.execute(text("""UPDATE audit_event SET detail = '{"i": 99}' WHERE id = 2"""))
    report = _verify(scratch)
    assert (report.ok, report.first_bad_event_id) == (False, 2)


def test_an_edited_row_with_a_recomputed_hash_breaks_the_next_link(scratch: Engine) -> None:
    with Session(scratch) as session:
        event = session.get(AuditEvent, 3)
        assert event is not None
        event.reason = "nothing happened"
        event.hash = compute_hash(event)
        session.add(event)
        session.commit()
    report = _verify(scratch)
    assert not report.ok
    assert report.first_bad_event_id == 4
    assert report.problem is not None and "missing" in report.problem


def test_a_removed_row_is_detected(scratch: Engine) -> None:
    with scratch.begin() as connection:
        connection.execute(text("DELETE FROM audit_event WHERE id = 2"))
    report = _verify(scratch)
    assert not report.ok
    assert report.first_bad_event_id == 3
    assert report.problem is not None and "missing" in report.problem


def test_removing_the_newest_rows_is_detected(scratch: Engine) -> None:
    with scratch.begin() as connection:
        connection.execute(text("DELETE FROM audit_event WHERE id >= 4"))
    report = _verify(scratch)
    assert not report.ok
    assert report.first_bad_event_id is None
    assert report.checked == 3
    assert report.problem is not None and "newest" in report.problem


def test_the_chain_continues_after_more_events(scratch: Engine) -> None:
    with transaction(scratch) as session:
        more = _record(session, 2, "later")
    with Session(scratch) as session:
        fifth = session.get(AuditEvent, 5)
    assert fifth is not None
    assert more[0].prev_hash == fifth.hash
    report = _verify(scratch)
    assert report.ok
    assert report.checked == 7


def test_a_bulk_append_starts_a_fresh_chain_at_genesis(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{(tmp_path / 'fresh.db').as_posix()}")
    SQLModel.metadata.create_all(engine)
    try:
        with transaction(engine) as session:
            ids = record_events(
                session, [AuditRecord(AuditAction.DEMO_SEEDED, Outcome.SUCCESS, detail={"n": n}) for n in range(3)]
            )
        with Session(engine) as session:
            first = session.get(AuditEvent, ids[0])
            assert first is not None and first.prev_hash == GENESIS_HASH
            assert verify_chain(session) == ChainReport(True, 3)
    finally:
        engine.dispose()


def test_detail_with_non_string_keys_still_verifies(engine: Engine) -> None:
    """JSON turns keys into strings; the hash must be of what is stored, or the chain breaks."""
    from sharing.audit import AuditAction, Outcome, record_event, verify_chain

    with transaction(engine) as session:
        record_event(
            session, action=AuditAction.DEMO_SEEDED, outcome=Outcome.SUCCESS, detail={2: "two", 10: "ten", "n": 1.5}
        )
    with transaction(engine) as session:
        report = verify_chain(session)
    assert report.ok, report
