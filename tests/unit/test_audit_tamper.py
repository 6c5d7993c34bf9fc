"""Tampering with a migrated audit trail, on the suite's kind of database (SQLite, or
PostgreSQL when ``PORTAL_TEST_DATABASE_URL`` names one).

Every test works on its own separate, migrated database (see ``audit_triggers``): the shared
test database's chain must stay whole for the other tests.  Rows are changed through raw
SQL with the append-only triggers dropped, which are then re-created as the migration made
them.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import exc, insert, text, update
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, create_engine, select

import sharing.audit
from sharing.audit import (
    GENESIS_HASH,
    AuditAction,
    ChainReport,
    Outcome,
    canonical_form,
    compute_hash,
    record_event,
    verify_chain,
)
from sharing.db import make_engine, transaction, utcnow
from sharing.models import AuditChainHead, AuditEvent
from sharing.permissions import Actor
from tests.conftest import TEST_DATABASE_URL
from tests.unit.audit_triggers import separate_database, trigger_definitions, triggers_dropped

ON_POSTGRESQL = TEST_DATABASE_URL.startswith("postgresql")


@pytest.fixture
def tamper_url(tmp_path: Path) -> Iterator[str]:
    with separate_database(TEST_DATABASE_URL, tmp_path) as url:
        yield url


@pytest.fixture
def tamper_db(tamper_url: str) -> Iterator[Engine]:
    engine = make_engine(tamper_url)
    yield engine
    engine.dispose()


@pytest.fixture
def slow_checks(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The ids of rows ``verify_chain`` had to re-check the slow way (its fast path disagreed)."""
    seen: list[int] = []
    exact = sharing.audit._stored_hash_matches

    def counting(connection: Any, event_id: int, stored_hash: str) -> bool:
        seen.append(event_id)
        return exact(connection, event_id, stored_hash)

    monkeypatch.setattr(sharing.audit, "_stored_hash_matches", counting)
    return seen


def write_events(engine: Engine, n: int = 6) -> list[int]:
    with transaction(engine) as session:
        events = [
            record_event(
                session,
                action=AuditAction.SIGNIN_FAILED,
                outcome=Outcome.FAILURE,
                actor_label=f"zoë-{i}@example.com",
                subject_type="user",
                subject_id=100 + i,
                reason=f"event {i} – wrong password",
                detail={"i": i, "nested": {"b": [1, 2], "a": None}, "name": "Siân Ó Briain"},
                ip_address="192.0.2.1",
            )
            for i in range(n)
        ]
    return [e.id for e in events if e.id is not None]


def verify(engine: Engine) -> ChainReport:
    with Session(engine) as session:
        return verify_chain(session)


def tamper(engine: Engine, statement: str, **params: Any) -> None:
    with triggers_dropped(engine) as connection:
        connection.execute(text(statement), params)


# --- the untouched chain ---------------------------------------------------------------


def test_a_separate_chain_verifies_on_the_fast_path(tamper_db: Engine, slow_checks: list[int]) -> None:
    ids = write_events(tamper_db)
    report = verify(tamper_db)
    assert report == ChainReport(True, len(ids))
    assert slow_checks == []


def test_an_empty_trail_verifies(tamper_db: Engine) -> None:
    assert verify(tamper_db) == ChainReport(True, 0)


def test_the_triggers_come_back_exactly_as_migrated(tamper_db: Engine) -> None:
    migrated = trigger_definitions(tamper_db)
    assert {name for name, _ in migrated} >= {"audit_event_no_update"}
    (event_id, *_) = write_events(tamper_db, 2)
    with triggers_dropped(tamper_db) as connection:
        dropped = trigger_names_on(connection)
        connection.execute(text("UPDATE audit_event SET reason = 'allowed now' WHERE id = :id"), {"id": event_id})
    assert dropped == []
    assert trigger_definitions(tamper_db) == migrated
    with pytest.raises(exc.DBAPIError, match="append-only"), tamper_db.begin() as connection:
        connection.execute(text("UPDATE audit_event SET reason = 'refused again' WHERE id = :id"), {"id": event_id})
    with pytest.raises(exc.DBAPIError, match="append-only"), tamper_db.begin() as connection:
        connection.execute(text("DELETE FROM audit_event WHERE id = :id"), {"id": event_id})


def trigger_names_on(connection: Any) -> list[str]:
    if connection.dialect.name == "postgresql":
        query = "SELECT tgname FROM pg_trigger WHERE tgrelid = 'audit_event'::regclass AND NOT tgisinternal"
    else:
        query = "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'audit_event'"
    return [str(name) for (name,) in connection.execute(text(query))]


# --- one stored row changed --------------------------------------------------------------

EDITS: dict[str, str] = {
    "reason": "reason = 'nothing happened'",
    "reason to null": "reason = NULL",
    "detail": """detail = '{"i": 99}'""",
    "nested detail": """detail = '{"i": 2, "name": "Siân Ó Briain", "nested": {"a": null, "b": [1, 3]}}'""",
    "actor_label": "actor_label = 'someone-else@example.com'",
    "actor_user_id": "actor_user_id = 7",
    "action": "action = 'auth:signin:succeeded'",
    "outcome": "outcome = 'success'",
    "subject_id": "subject_id = '1'",
    "ip_address": "ip_address = '198.51.100.7'",
    "hash": f"hash = '{'e' * 64}'",
    "occurred_at": (
        "occurred_at = occurred_at + interval '1 microsecond'"
        if ON_POSTGRESQL
        else "occurred_at = '2020-02-02 02:02:02.000001'"
    ),
}


@pytest.mark.parametrize("edit", list(EDITS))
def test_a_changed_row_is_reported_at_that_row(tamper_db: Engine, slow_checks: list[int], edit: str) -> None:
    ids = write_events(tamper_db)
    target = ids[2]
    tamper(tamper_db, f"UPDATE audit_event SET {EDITS[edit]} WHERE id = :id", id=target)
    report = verify(tamper_db)
    assert not report.ok
    assert report.first_bad_event_id == target
    assert report.checked == 2
    assert report.problem == "this row was changed after it was written"
    assert slow_checks == [target]  # the fast path's verdict was confirmed the exact way


def test_a_changed_prev_hash_is_reported_as_a_broken_link(tamper_db: Engine) -> None:
    ids = write_events(tamper_db)
    tamper(tamper_db, "UPDATE audit_event SET prev_hash = :fake WHERE id = :id", fake="a" * 64, id=ids[3])
    report = verify(tamper_db)
    assert (report.ok, report.first_bad_event_id, report.checked) == (False, ids[3], 3)
    assert report.problem == "a row is missing or out of order before this one"


def test_a_changed_row_with_a_recomputed_hash_breaks_the_next_link(tamper_db: Engine) -> None:
    ids = write_events(tamper_db)
    with Session(tamper_db) as session:
        stored = session.get(AuditEvent, ids[2])
        assert stored is not None
        stored.reason = "nothing happened"
        new_hash = compute_hash(stored)
    tamper(
        tamper_db, "UPDATE audit_event SET reason = 'nothing happened', hash = :h WHERE id = :id", h=new_hash, id=ids[2]
    )
    report = verify(tamper_db)
    assert (report.ok, report.first_bad_event_id, report.checked) == (False, ids[3], 3)
    assert report.problem == "a row is missing or out of order before this one"


def test_a_replaced_newest_row_is_caught_by_the_chain_head(tamper_db: Engine) -> None:
    ids = write_events(tamper_db)
    with Session(tamper_db) as session:
        newest = session.get(AuditEvent, ids[-1])
        assert newest is not None
        newest.reason = "nothing happened"
        new_hash = compute_hash(newest)
    tamper(
        tamper_db,
        "UPDATE audit_event SET reason = 'nothing happened', hash = :h WHERE id = :id",
        h=new_hash,
        id=ids[-1],
    )
    report = verify(tamper_db)
    assert (report.ok, report.first_bad_event_id, report.checked) == (False, ids[-1], len(ids) - 1)
    assert report.problem == "the newest row or the chain head was changed"


def bulk_chain(engine: Engine, n: int) -> list[int]:
    """``n`` valid, chained events written straight into the table (far quicker than record_event)."""
    rows: list[dict[str, Any]] = []
    prev = GENESIS_HASH
    for i in range(n):
        fields: dict[str, Any] = {
            "occurred_at": datetime(2026, 1, 1, tzinfo=UTC) + timedelta(milliseconds=i),
            "action": "auth:signin:failed",
            "outcome": "failure",
            "actor_user_id": None,
            "actor_organisation_id": None,
            "actor_label": f"bulk-{i}",
            "subject_type": "user",
            "subject_id": str(i),
            "reason": None,
            "detail": {"i": i},
            "ip_address": None,
            "prev_hash": prev,
        }
        prev = hashlib.sha256(canonical_form(**fields)).hexdigest()
        rows.append({**fields, "hash": prev})
    with engine.begin() as connection:
        connection.execute(insert(AuditEvent), rows)
        ids = list(connection.execute(select(AuditEvent.id).order_by(col(AuditEvent.id))).scalars())
        connection.execute(update(AuditChainHead).values(last_hash=prev, last_event_id=ids[-1]))
    return [i for i in ids if i is not None]


def test_stopping_early_on_a_long_trail_leaves_the_callers_transaction_usable(
    tamper_db: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The walk stops at the first break with most rows still unread; on PostgreSQL the stream
    is then read to its end, not cancelled, which would abort the caller's transaction."""
    ids = bulk_chain(tamper_db, 20_000)
    monkeypatch.setattr(sharing.audit, "_VERIFY_BATCH", 50)
    assert verify(tamper_db) == ChainReport(True, len(ids))
    tamper(tamper_db, "UPDATE audit_event SET reason = 'edited' WHERE id = :id", id=ids[10])
    with Session(tamper_db) as session:
        assert verify_chain(session) == ChainReport(False, 10, ids[10], "this row was changed after it was written")
        record_event(session, action=AuditAction.DEMO_SEEDED, outcome=Outcome.FAILURE, reason="chain check failed")
        session.commit()
    assert verify(tamper_db).first_bad_event_id == ids[10]


def _clumsy_fast_path(monkeypatch: pytest.MonkeyPatch, *fumbled: int) -> None:
    """Make the fast path render the wrong ``detail`` for the events written with these ``i``."""
    real = sharing.audit._detail_renderer

    def clumsy() -> Any:
        render = real()
        return lambda stored: "[]" if any(f'"i": {i},' in stored for i in fumbled) else render(stored)

    monkeypatch.setattr(sharing.audit, "_detail_renderer", clumsy)


def test_a_row_the_fast_path_gets_wrong_is_checked_the_exact_way_and_the_walk_goes_on(
    tamper_db: Engine, slow_checks: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    ids = write_events(tamper_db)
    _clumsy_fast_path(monkeypatch, 1, 3)
    assert verify(tamper_db) == ChainReport(True, len(ids))
    assert slow_checks == [ids[1], ids[3]]


def test_after_an_exact_check_passes_a_later_change_is_still_found(
    tamper_db: Engine, slow_checks: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    ids = write_events(tamper_db)
    tamper(tamper_db, "UPDATE audit_event SET ip_address = NULL WHERE id = :id", id=ids[4])
    _clumsy_fast_path(monkeypatch, 1)
    assert verify(tamper_db) == ChainReport(False, 4, ids[4], "this row was changed after it was written")
    assert slow_checks == [ids[1], ids[4]]


# --- rows removed ------------------------------------------------------------------------


def test_a_removed_middle_row_is_reported_at_the_row_after_it(tamper_db: Engine) -> None:
    ids = write_events(tamper_db)
    tamper(tamper_db, "DELETE FROM audit_event WHERE id = :id", id=ids[2])
    report = verify(tamper_db)
    assert (report.ok, report.first_bad_event_id, report.checked) == (False, ids[3], 2)
    assert report.problem == "a row is missing or out of order before this one"


def test_a_removed_first_row_is_reported_at_the_second(tamper_db: Engine) -> None:
    ids = write_events(tamper_db)
    tamper(tamper_db, "DELETE FROM audit_event WHERE id = :id", id=ids[0])
    report = verify(tamper_db)
    assert (report.ok, report.first_bad_event_id, report.checked) == (False, ids[1], 0)


def test_removing_the_newest_rows_is_reported(tamper_db: Engine) -> None:
    ids = write_events(tamper_db)
    tamper(tamper_db, "DELETE FROM audit_event WHERE id >= :id", id=ids[4])
    report = verify(tamper_db)
    assert report == ChainReport(False, 4, None, "the newest rows were removed")


def test_removing_every_row_is_reported(tamper_db: Engine) -> None:
    write_events(tamper_db)
    tamper(tamper_db, "DELETE FROM audit_event")
    assert verify(tamper_db) == ChainReport(False, 0, None, "the newest rows were removed")


def test_events_appended_during_the_walk_are_checked_not_reported(
    tamper_db: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The head is read before the rows; an append in between (another writer) is fine."""
    ids = write_events(tamper_db, 3)
    appended: list[int] = []
    rows_of = sharing.audit._chain_rows

    def append_first(connection: Any, from_id: int | None) -> Any:
        if not appended:
            appended.extend(write_events(tamper_db, 2))  # committed by another connection
        return rows_of(connection, from_id)

    monkeypatch.setattr(sharing.audit, "_chain_rows", append_first)
    assert verify(tamper_db) == ChainReport(True, len(ids) + 2)
    assert len(appended) == 2


# --- the fast path and compute_hash agree -----------------------------------------------

AWKWARD_DETAILS: list[dict[str, Any]] = [
    {},
    {"nested": {"z": [1, {"y": None, "x": [True, False]}], "a": {}}, "empty": [], "none": None},
    {"text": 'quote " backslash \\ slash / tab \t newline \n control \x01 del \x7f'},
    {"non-ascii": "Zoë, Siân, Ó Briain, Øster, 北京, Ελλάδα, 🙂 (outside the BMP)", "ключ": "значение"},
    {"numbers": [0, -1, 2**70, 0.1, -0.0, 1e-7, 1e22, 1.5e300, 3.141592653589793]},
    {"B": 1, "a": 2, "_": 3, "10": 4, "9": 5, "é": 6, "e": 7},
]


def test_the_fast_path_agrees_with_compute_hash(
    tamper_db: Engine, slow_checks: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Whole-second times for the first events (isoformat() leaves out a zero fraction), then the clock.
    fixed = iter(
        [datetime(2026, 11, 21, 5, 19, 2, tzinfo=UTC), datetime(2026, 11, 21, 5, 19, 3, 500000, tzinfo=UTC)] * 3
    )
    monkeypatch.setattr(sharing.audit, "utcnow", lambda: next(fixed, None) or utcnow())
    actor = Actor(user_id=42, organisation_id=7, email="siân@example.com", ip_address="2001:db8::1")
    with transaction(tamper_db) as session:
        written = [
            record_event(
                session,
                action=AuditAction.USER_CREATED,
                outcome=Outcome.SUCCESS,
                actor=actor if i % 2 else None,
                actor_label=None if i % 2 else "système – “quoted”",
                subject_type=None if i % 3 == 0 else "user",
                subject_id=None if i % 3 == 0 else f"ü{i}",
                reason=None if i % 2 else "raison: «accès refusé» \\ done",
                detail=detail,
            )
            for i, detail in enumerate(AWKWARD_DETAILS * 2)
        ]

    report = verify(tamper_db)
    assert report == ChainReport(True, len(written))
    assert slow_checks == []  # every row hashed to its stored hash on the fast path alone
    with Session(tamper_db) as session:
        stored = list(session.exec(select(AuditEvent).order_by(col(AuditEvent.id))))
    assert [e.hash for e in stored] == [e.hash for e in written]
    assert all(compute_hash(e) == e.hash for e in stored)
    assert [e.detail for e in stored] == AWKWARD_DETAILS * 2
    assert stored[0].occurred_at == datetime(2026, 11, 21, 5, 19, 2, tzinfo=UTC)
    assert stored[0].occurred_at.isoformat() == "2026-11-21T05:19:02+00:00"


_TEXT = st.text(st.characters(codec="utf-8", exclude_characters="\x00"), max_size=12)
_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | _TEXT,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_TEXT, inner, max_size=3),
    max_leaves=10,
)


def test_the_fast_path_agrees_with_compute_hash_for_any_content(
    tmp_path: Path, slow_checks: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    now = [datetime(2026, 1, 1, tzinfo=UTC)]
    monkeypatch.setattr(sharing.audit, "utcnow", lambda: now[0])
    with separate_database(TEST_DATABASE_URL, tmp_path) as url:
        engine = make_engine(url)

        @settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
        @given(
            detail=st.dictionaries(_TEXT, _JSON, max_size=4),
            label=st.none() | _TEXT,
            reason=st.none() | _TEXT,
            subject_id=st.none() | _TEXT,
            microsecond=st.sampled_from([0, 1, 500_000, 999_999]),
        )
        def check(
            detail: dict[str, Any], label: str | None, reason: str | None, subject_id: str | None, microsecond: int
        ) -> None:
            now[0] = now[0].replace(microsecond=microsecond) + timedelta(seconds=1)
            with transaction(engine) as session:
                written = record_event(
                    session,
                    action=AuditAction.SIGNIN_FAILED,
                    outcome=Outcome.FAILURE,
                    actor_label=label,
                    subject_type="user",
                    subject_id=subject_id,
                    reason=reason,
                    detail=detail,
                )
            report = verify(engine)
            assert report.ok, (report, detail)
            assert slow_checks == [], detail
            with Session(engine) as session:
                stored = session.get(AuditEvent, written.id)
            assert stored is not None
            assert compute_hash(stored) == stored.hash == written.hash

        try:
            check()
        finally:
            engine.dispose()


# --- stored spellings and session settings that must not matter --------------------------


@pytest.mark.skipif(ON_POSTGRESQL, reason="SQLite keeps times as text that can be spelled differently")
def test_an_equivalent_spelling_of_a_stored_time_is_checked_the_slow_way(
    tamper_db: Engine, slow_checks: list[int]
) -> None:
    ids = write_events(tamper_db, 3)
    tamper(tamper_db, "UPDATE audit_event SET occurred_at = replace(occurred_at, ' ', 'T') WHERE id = :id", id=ids[1])
    tamper(
        tamper_db,
        """UPDATE audit_event SET detail = ' { "nested": {"a": null, "b": [1, 2]},
        "name": "Si\\u00e2n \\u00d3 Briain", "i": 0 } ' WHERE id = :id""",
        id=ids[0],
    )
    # The hash covers values, not how the database spells them: same instant, same JSON value.
    assert verify(tamper_db) == ChainReport(True, 3)
    assert slow_checks == [ids[1]]


@pytest.mark.skipif(ON_POSTGRESQL, reason="PostgreSQL refuses such values in typed columns")
@pytest.mark.parametrize(
    "edit",
    [
        "occurred_at = 'not a time'",
        "occurred_at = '2026-99-99 99:99:99.999999'",
        "detail = 'not json'",
        "actor_user_id = 'seven'",
        "actor_user_id = 7.5",
    ],
)
def test_a_value_no_writer_could_have_stored_is_reported_not_raised(
    tamper_db: Engine, slow_checks: list[int], edit: str
) -> None:
    ids = write_events(tamper_db, 4)
    tamper(tamper_db, f"UPDATE audit_event SET {edit} WHERE id = :id", id=ids[2])
    assert verify(tamper_db) == ChainReport(False, 2, ids[2], "this row was changed after it was written")
    assert slow_checks == [ids[2]]


@pytest.mark.skipif(not ON_POSTGRESQL, reason="only PostgreSQL sessions have a time zone")
def test_a_session_time_zone_other_than_utc_does_not_matter(
    tamper_db: Engine, tamper_url: str, slow_checks: list[int]
) -> None:
    ids = write_events(tamper_db)
    elsewhere = create_engine(tamper_url, connect_args={"options": "-c timezone=Pacific/Chatham"})
    try:
        with elsewhere.connect() as connection:
            assert connection.execute(text("SHOW timezone")).scalar_one() == "Pacific/Chatham"
        assert verify(elsewhere) == ChainReport(True, len(ids))
    finally:
        elsewhere.dispose()
    assert slow_checks == []
