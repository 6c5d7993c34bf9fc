"""The append-only, hash-chained audit trail.

Every sign-in, failure, lockout, sign-out, administrative change and denial is one
``AuditEvent``.  Actions are named ``source:subject:action``.  Each row's hash covers its
content and the previous row's hash; :func:`verify_chain` proves nothing was changed or
removed.  Database triggers (see the migration) refuse UPDATE and DELETE on the table.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import json.encoder
from collections.abc import Callable, Generator, Sequence
from contextlib import closing
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from json.encoder import encode_basestring_ascii
from typing import Any

from sqlalchemy import ColumnElement, String, Text, cast, func, insert, type_coerce, update
from sqlalchemy import select as sa_select
from sqlalchemy.engine import Connection
from sqlmodel import Session, SQLModel, col, select

from sharing.db import utcnow
from sharing.models import AuditChainHead, AuditEvent
from sharing.permissions import Actor

GENESIS_HASH = "0" * 64


class AuditAction(StrEnum):
    """Everything the audit trail records."""

    SIGNIN_SUCCEEDED = "auth:signin:succeeded"
    SIGNIN_FAILED = "auth:signin:failed"
    SIGNIN_SECOND_FACTOR_FAILED = "auth:totp:failed"
    ACCOUNT_LOCKED = "auth:account:locked"
    TOTP_ENROLLED = "auth:totp:enrolled"
    SIGNOUT = "auth:signout:completed"
    SESSION_EXPIRED = "auth:session:expired"
    SSO_SIGNIN_REFUSED = "auth:sso:refused"
    SSO_IDENTITY_LINKED = "auth:sso:linked"
    SSO_USER_PROVISIONED = "auth:sso:provisioned"
    PERMISSION_DENIED = "access:permission:denied"
    ORGANISATION_CREATED = "admin:organisation:created"
    ORGANISATION_SSO_CONFIGURED = "admin:organisation:sso_configured"
    USER_CREATED = "admin:user:created"
    USER_DEACTIVATED = "admin:user:deactivated"
    USER_REACTIVATED = "admin:user:reactivated"
    PASSWORD_RESET = "admin:user:password_reset"
    SECOND_FACTOR_RESET = "admin:user:totp_reset"
    DEMO_SEEDED = "system:demo:seeded"
    PERSON_CREATED = "sharing:person:created"
    ITEM_CREATED = "sharing:item:created"
    AGREEMENT_CREATED = "sharing:agreement:created"
    AGREEMENT_STATUS_CHANGED = "sharing:agreement:status_changed"
    CONSENT_RECORDED = "sharing:consent:recorded"
    CONSENT_WITHDRAWN = "sharing:consent:withdrawn"
    DISCLOSURE_REFUSED = "sharing:disclosure:refused"
    DISCLOSURE_REQUESTED = "sharing:disclosure:requested"
    DISCLOSURE_APPROVED = "sharing:disclosure:approved"
    DISCLOSURE_REJECTED = "sharing:disclosure:rejected"
    DISCLOSURE_EMERGENCY = "sharing:disclosure:emergency"
    DISCLOSURE_REVIEWED = "sharing:disclosure:reviewed"
    DISCLOSURE_CONSENT_WITHDRAWN = "sharing:disclosure:consent_withdrawn"
    ITEM_READ_DENIED = "sharing:item:read_denied"
    SAR_LOGGED = "sharing:sar:logged"
    SAR_IDENTITY_CHECKED = "sharing:sar:identity_checked"
    SAR_EXTENDED = "sharing:sar:extended"
    SAR_COMPLETED = "sharing:sar:completed"
    SAR_EXPORTED = "sharing:sar:exported"
    RETENTION_RULE_CHANGED = "sharing:retention:rule_changed"
    RETENTION_DELETED = "sharing:retention:deleted"
    RETENTION_ANONYMISED = "sharing:retention:anonymised"
    PERSON_ANONYMISED = "sharing:retention:person_anonymised"
    POLICY_CHANGED = "admin:policy:changed"
    REPORT_RECORDED = "cases:report:recorded"
    REPORT_TRIAGED = "cases:report:triaged"
    CASE_OPENED = "cases:case:opened"
    CASE_UPDATED = "cases:case:updated"
    CASE_PARTY_ADDED = "cases:party:added"
    RISK_ASSESSED = "cases:risk:assessed"
    FIRST_CONTACT_RECORDED = "cases:contact:first_recorded"
    INCIDENT_RECORDED = "cases:incident:recorded"
    EVIDENCE_ADDED = "cases:evidence:added"
    EVIDENCE_DOWNLOADED = "cases:evidence:downloaded"
    CASE_REVIEW_LAPSED = "cases:case_review:lapsed"
    STAGE_MOVED = "cases:stage:moved"
    CLOSURE_REQUESTED = "cases:closure:requested"
    CLOSURE_APPROVED = "cases:closure:approved"
    CLOSURE_REFUSED = "cases:closure:refused"
    CASE_REOPENED = "cases:case:reopened"
    CLOSURE_PROPOSED = "cases:closure:proposed"
    CASE_REVIEW_FLAGGED = "cases:case_review:flagged"
    CASE_REVIEW_APPLIED = "cases:case_review:applied"
    CASE_REVIEW_DECIDED = "cases:case_review:decided"
    CASE_REVIEW_COMPLETED = "cases:case_review:completed"
    INTERVENTION_RECORDED = "cases:intervention:recorded"
    INTERVENTION_UPDATED = "cases:intervention:updated"
    INTERVENTION_REFUSED = "cases:intervention:refused"
    # Panels and their meetings.
    PANEL_CREATED = "panels:panel:created"
    PANEL_UPDATED = "panels:panel:updated"
    MEETING_SCHEDULED = "panels:meeting:scheduled"
    MEETING_MOVED = "panels:meeting:moved"
    MEETING_CANCELLED = "panels:meeting:cancelled"
    MEETING_OPENED = "panels:meeting:opened"
    MEETING_CLOSED = "panels:meeting:closed"
    MEETING_JOINED = "panels:meeting:joined"
    ATTENDANCE_RECORDED = "panels:attendance:recorded"
    INTEREST_DECLARED = "panels:interest:declared"
    CURRENT_ITEM_SET = "panels:meeting:current_item_set"
    VERBAL_DISCLOSURE_LOGGED = "panels:disclosure:verbal_logged"
    # The chair's running notes: written, corrected (a new note replacing one), and read by a
    # participant (which notes they were given, and which items' notes were withheld from them).
    MEETING_NOTE_WRITTEN = "panels:note:written"
    MEETING_NOTE_CORRECTED = "panels:note:corrected"
    MEETING_NOTES_READ = "panels:notes:read"
    CALENDAR_TOKEN_ISSUED = "panels:calendar:token_issued"
    CALENDAR_TOKEN_RESET = "panels:calendar:token_reset"
    REFERRAL_MADE = "panels:referral:made"
    REFERRAL_ACCEPTED = "panels:referral:accepted"
    REFERRAL_DEFERRED = "panels:referral:deferred"
    REFERRAL_DECLINED = "panels:referral:declined"
    AGENDA_BUILT = "panels:agenda:built"
    AGENDA_REORDERED = "panels:agenda:reordered"
    AGENDA_PUBLISHED = "panels:agenda:published"
    PACK_READ = "panels:pack:read"
    PACK_DOWNLOADED = "panels:pack:downloaded"
    PACK_PREVIEWED = "panels:pack:previewed"
    DECISION_RECORDED = "panels:decision:recorded"
    DECISION_AMENDED = "panels:decision:amended"
    DECISION_ACTION_ASSIGNED = "panels:decision:action_assigned"
    MINUTES_DRAFTED = "panels:minutes:drafted"
    MINUTES_CIRCULATED = "panels:minutes:circulated"
    MINUTES_COMMENTED = "panels:minutes:commented"
    MINUTES_APPROVED = "panels:minutes:approved"
    MINUTES_READ = "panels:minutes:read"
    MINUTES_DOWNLOADED = "panels:minutes:downloaded"
    ACTION_PLAN_CREATED = "actions:plan:created"
    ACTION_PLAN_AGREED = "actions:plan:agreed"
    ACTION_PLAN_REVIEWED = "actions:plan:reviewed"
    ACTION_ADDED = "actions:action:added"
    ACTION_ASSIGNED = "actions:action:assigned"
    ACTION_UPDATED = "actions:action:updated"
    AGENCY_ACTIONS_EXPORTED = "actions:agency:exported"
    VICTIM_CONTACT_RECORDED = "actions:contact:recorded"
    REMINDER_RAISED = "notifications:reminder:raised"
    NOTIFICATION_PREFERENCE_CHANGED = "notifications:preference:changed"
    EMAIL_SENT = "notifications:email:sent"
    EMAIL_FAILED = "notifications:email:failed"
    SCHEDULER_LEADER_ACQUIRED = "scheduler:leader:acquired"
    SCHEDULER_LEADER_RELEASED = "scheduler:leader:released"
    SCHEDULER_LEADER_LOST = "scheduler:leader:lost"
    JOB_COMPLETED = "scheduler:job:completed"
    JOB_FAILED = "scheduler:job:failed"
    # An administrator asked for a job to run at once (the run itself is the system's).
    JOB_RUN_REQUESTED = "scheduler:job:run_requested"


class Outcome(StrEnum):
    SUCCESS = "success"
    FAILURE = "failure"
    DENIED = "denied"


# The canonical form an event's hash covers.  Stored hashes depend on it byte for byte:
# never change the keys, the separators, the key order or how values are rendered.
_CANONICAL_JSON = json.JSONEncoder(sort_keys=True, separators=(",", ":"), default=str)


def canonical_form(
    occurred_at: datetime,
    action: str,
    outcome: str,
    actor_user_id: int | None,
    actor_organisation_id: int | None,
    actor_label: str | None,
    subject_type: str | None,
    subject_id: str | None,
    reason: str | None,
    detail: dict[str, Any],
    ip_address: str | None,
    prev_hash: str,
) -> bytes:
    """The bytes an event's hash covers, from its stored values (``occurred_at`` timezone-aware UTC)."""
    body = {
        "occurred_at": occurred_at.isoformat(),
        "action": action,
        "outcome": outcome,
        "actor_user_id": actor_user_id,
        "actor_organisation_id": actor_organisation_id,
        "actor_label": actor_label,
        "subject_type": subject_type,
        "subject_id": subject_id,
        "reason": reason,
        "detail": detail,
        "ip_address": ip_address,
        "prev_hash": prev_hash,
    }
    return _CANONICAL_JSON.encode(body).encode("utf-8")


def _canonical(event: AuditEvent) -> bytes:
    return canonical_form(
        event.occurred_at,
        event.action,
        event.outcome,
        event.actor_user_id,
        event.actor_organisation_id,
        event.actor_label,
        event.subject_type,
        event.subject_id,
        event.reason,
        event.detail,
        event.ip_address,
        event.prev_hash,
    )


def compute_hash(event: AuditEvent) -> str:
    return hashlib.sha256(_canonical(event)).hexdigest()


def lock_audit_chain(session: Session) -> None:
    """Take the audit chain's lock until the caller's transaction ends.

    Updating the chain head takes the write lock on SQLite and the head row's lock on
    PostgreSQL, so appends are strictly one transaction at a time.  Every append takes it;
    a writer that checks something and then writes under the same lock (the reminders
    sweep checking its dedupe keys) takes it before the check.
    """
    session.execute(
        update(AuditChainHead)
        .where(col(AuditChainHead.id) == 1)
        .values(last_hash=AuditChainHead.last_hash)
        # The head is read back with populate_existing: no need to search the session.
        .execution_options(synchronize_session=False)
    )


def _locked_head(session: Session) -> AuditChainHead:
    lock_audit_chain(session)
    head = session.get(AuditChainHead, 1, populate_existing=True)
    if head is None:
        head = AuditChainHead(id=1, last_hash=GENESIS_HASH)
        session.add(head)
        session.flush()
    return head


@dataclass(frozen=True)
class AuditRecord:
    """One event to append with :func:`record_events`: the arguments of :func:`record_event`."""

    action: AuditAction
    outcome: Outcome
    actor: Actor | None = None
    actor_label: str | None = None
    subject_type: str | None = None
    subject_id: str | int | None = None
    reason: str | None = None
    detail: dict[str, Any] | None = None
    ip_address: str | None = None


def _event_values(record: AuditRecord, prev_hash: str) -> dict[str, Any]:
    """The stored values of an event (all but its id and hash), as ``canonical_form`` names them."""
    actor = record.actor
    return {
        "occurred_at": utcnow(),
        "action": str(record.action),
        "outcome": str(record.outcome),
        "actor_user_id": actor.user_id if actor else None,
        "actor_organisation_id": actor.organisation_id if actor else None,
        "actor_label": record.actor_label or (actor.label if actor else None),
        "subject_type": record.subject_type,
        "subject_id": None if record.subject_id is None else str(record.subject_id),
        "reason": record.reason,
        # Stored as JSON, so hash what will be read back (string keys, JSON types).
        "detail": json.loads(json.dumps(record.detail or {}, default=str)),
        "ip_address": record.ip_address or (actor.ip_address if actor else None),
        "prev_hash": prev_hash,
    }


def record_event(
    session: Session,
    *,
    action: AuditAction,
    outcome: Outcome,
    actor: Actor | None = None,
    actor_label: str | None = None,
    subject_type: str | None = None,
    subject_id: str | int | None = None,
    reason: str | None = None,
    detail: dict[str, Any] | None = None,
    ip_address: str | None = None,
) -> AuditEvent:
    """Append one event to the trail, inside the caller's transaction."""
    # Take the chain head first: this serialises writers on both databases.
    head = _locked_head(session)
    record = AuditRecord(action, outcome, actor, actor_label, subject_type, subject_id, reason, detail, ip_address)
    event = AuditEvent(**_event_values(record, head.last_hash), hash="")
    event.hash = compute_hash(event)
    session.add(event)
    session.flush()
    head.last_hash = event.hash
    head.last_event_id = event.id
    session.add(head)
    session.flush()
    return event


def record_events(session: Session, records: Sequence[AuditRecord]) -> list[int]:
    """Append many events, in order, inside the caller's transaction; returns their ids.

    The same lock and the same chain as :func:`record_event`, one event after another, but
    hashed here and written in multi-row inserts (a job raising thousands of reminders
    writes them in a few statements instead of a few thousand).
    """
    if not records:
        return []
    head = _locked_head(session)
    rows: list[dict[str, Any]] = []
    prev_hash = head.last_hash
    for record in records:
        values = _event_values(record, prev_hash)
        values["hash"] = prev_hash = hashlib.sha256(canonical_form(**values)).hexdigest()
        rows.append(values)
    table = SQLModel.metadata.tables[AuditEvent.__tablename__]
    # Multi-row inserts, their rows numbered in order (on both databases); the ids are read
    # back by hash, and an append whose ids would not follow the chain is refused whole.
    stored = {h: i for i, h in session.execute(insert(table).returning(table.c.id, table.c.hash), rows)}
    ids = [stored[row["hash"]] for row in rows]
    if any(earlier >= later for earlier, later in itertools.pairwise(ids)):
        raise RuntimeError("Audit events were not numbered in the order they were chained in.")
    head.last_hash = prev_hash
    head.last_event_id = ids[-1]
    session.add(head)
    session.flush()
    return ids


@dataclass(frozen=True)
class ChainReport:
    ok: bool
    checked: int
    first_bad_event_id: int | None = None
    problem: str | None = None


# verify_chain's fast path renders the canonical form itself instead of building a dict for
# json: the same bytes (keys in sorted order, each value encoded as the encoder would),
# checked against canonical_form by the tests.  Anything unusual falls back to canonical_form.
_CANONICAL_TEMPLATE = (
    '{"action":%s,"actor_label":%s,"actor_organisation_id":%s,"actor_user_id":%s,"detail":%s,'
    '"ip_address":%s,"occurred_at":%s,"outcome":%s,"prev_hash":"%s","reason":%s,"subject_id":%s,'
    '"subject_type":%s}'
)
_VERIFY_BATCH = 10_000
_DETAIL_CACHE_SIZE = 4096


def _reusable_c_encoder() -> Callable[[Any], str] | None:
    """The json module's C encoder with ``_CANONICAL_JSON``'s settings, made once, not per call
    (no circular-reference check: parsed JSON has no cycles).  ``None`` if unavailable."""
    make_encoder = getattr(json.encoder, "c_make_encoder", None)
    if make_encoder is None:
        return None
    try:
        c_encode = make_encoder(None, str, encode_basestring_ascii, None, ":", ",", True, False, True)
    except TypeError:
        return None

    def encode(value: Any) -> str:
        return "".join(c_encode(value, 0))

    sample = {"b": [1.5, None, True, {"d": -2, "c": ""}], "a": "\u00e9\n"}
    return encode if encode(sample) == _CANONICAL_JSON.encode(sample) else None


def _detail_renderer() -> Callable[[str], str]:
    """``_CANONICAL_JSON.encode(json.loads(text))`` for a stored ``detail``, with less overhead."""
    encode = _reusable_c_encoder() or _CANONICAL_JSON.encode
    scan: Callable[[str, int], tuple[Any, int]] = json.JSONDecoder().scan_once  # type: ignore[attr-defined]

    def render(text: str) -> str:
        try:
            value, end = scan(text, 0)
        except StopIteration:
            end = -1
        if end != len(text):  # whitespace around it, or not JSON at all (json.loads raises)
            value = json.loads(text)
        return encode(value)

    return render


def _stored_time_text(dialect_name: str) -> ColumnElement[Any]:
    """``occurred_at`` as the text ``YYYY-MM-DD HH:MM:SS.ffffff`` in UTC, without making datetimes.

    That is how SQLite stores it already; PostgreSQL renders it (on its own CPU).
    """
    if dialect_name == "postgresql":
        return func.to_char(func.timezone("UTC", AuditEvent.occurred_at), "YYYY-MM-DD HH24:MI:SS.US")
    return type_coerce(AuditEvent.occurred_at, String)


def _stored_hash_matches(connection: Connection, event_id: int, stored_hash: str) -> bool:
    """The slow, exact check of one row: its values read with the model's own column types."""
    query = sa_select(*_typed_chain_columns()).where(col(AuditEvent.id) == event_id)
    try:
        typed = connection.execute(query).first()
        return typed is not None and hashlib.sha256(canonical_form(*typed)).hexdigest() == stored_hash
    except (TypeError, ValueError, AttributeError):  # a stored value none of our writers could have made
        return False


def _typed_chain_columns() -> list[Any]:
    return [
        col(column)
        for column in (
            AuditEvent.occurred_at,
            AuditEvent.action,
            AuditEvent.outcome,
            AuditEvent.actor_user_id,
            AuditEvent.actor_organisation_id,
            AuditEvent.actor_label,
            AuditEvent.subject_type,
            AuditEvent.subject_id,
            AuditEvent.reason,
            AuditEvent.detail,
            AuditEvent.ip_address,
            AuditEvent.prev_hash,
        )
    ]


def _chain_rows(connection: Connection, from_id: int | None) -> Generator[Sequence[Any], None, None]:
    """The stored values ``verify_chain`` needs, as plain tuples in id order (from ``from_id`` on).

    Read straight from the driver's cursor, in the session's connection and transaction: the
    columns need no conversion, and a million rows through SQLAlchemy's result objects cost
    seconds.  PostgreSQL (psycopg) streams them: the server keeps sending rows while they are
    checked, instead of waiting for each batch to be asked for.  Close the iterator before
    using the connection again; closing reads the rest of the stream rather than cancelling
    the query, which would abort the caller's transaction.
    """
    query = sa_select(
        col(AuditEvent.id),
        _stored_time_text(connection.dialect.name),
        col(AuditEvent.action),
        col(AuditEvent.outcome),
        col(AuditEvent.actor_user_id),
        col(AuditEvent.actor_organisation_id),
        col(AuditEvent.actor_label),
        col(AuditEvent.subject_type),
        col(AuditEvent.subject_id),
        col(AuditEvent.reason),
        cast(col(AuditEvent.detail), Text),
        col(AuditEvent.ip_address),
        col(AuditEvent.prev_hash),
        col(AuditEvent.hash),
    ).order_by(col(AuditEvent.id))
    if from_id is not None:
        query = query.where(col(AuditEvent.id) >= from_id)

    driver = (connection.dialect.name, connection.dialect.driver)
    if driver not in {("postgresql", "psycopg"), ("sqlite", "pysqlite")}:
        with connection.execute(query.execution_options(yield_per=_VERIFY_BATCH)) as result:
            for rows in result.partitions():
                yield from rows
        return

    # Only constants and an id are bound: render them into the statement.
    sql = str(query.compile(dialect=connection.dialect, compile_kwargs={"literal_binds": True}))
    cursor = connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
    if driver[0] == "sqlite":
        try:
            cursor.execute(sql)
            yield from cursor
        finally:
            cursor.close()
        return

    from psycopg import pq

    # Chunks of rows need libpq 17 (psycopg's binary package brings its own); else row by row.
    size = _VERIFY_BATCH if pq.version() >= 170000 else 1
    stream = cursor.stream(sql, size=size)
    try:
        # Not ``yield from``: closing this generator would then close the stream, cancelling it.
        for row in stream:  # noqa: UP028
            yield row
    finally:
        for _ in stream:
            pass
        cursor.close()


def verify_chain(session: Session) -> ChainReport:
    """Walk the whole trail and check every link and every row's content.

    Rows are streamed in id order as plain tuples of stored values, so memory stays flat
    however long the trail is, and each row's canonical form is rendered straight from them.
    A row whose hash does not match that way is checked again, the exact way (its values
    read through the model's column types, as :func:`compute_hash` sees them), before it is
    reported; if it does match then, the walk carries on after it.

    The chain head is read *before* the rows: every event up to the one it names must then
    be present, and events appended while the walk runs are checked like the rest instead of
    looking like removed rows at the end.
    """
    head = session.exec(
        select(AuditChainHead.last_event_id, AuditChainHead.last_hash).where(AuditChainHead.id == 1)
    ).first()
    head_event_id, head_hash = head if head is not None else (None, None)
    reached_head = False
    expected_prev = GENESIS_HASH
    checked = 0

    connection = session.connection()
    sha256 = hashlib.sha256
    esc = encode_basestring_ascii
    render_detail = _detail_renderer()
    template = _CANONICAL_TEMPLATE
    details: dict[str, str] = {"{}": "{}"}
    from_id: int | None = None
    confirmed: int | None = None  # a row the exact check has passed (the walk restarts at it)
    while True:
        suspect: tuple[int, str] | None = None
        with closing(_chain_rows(connection, from_id)) as rows:
            for (
                event_id,
                stored_at,
                action,
                outcome,
                user_id,
                organisation_id,
                label,
                subject_type,
                subject_id,
                reason,
                detail,
                ip_address,
                prev_hash,
                row_hash,
            ) in rows:
                if prev_hash != expected_prev:
                    return ChainReport(False, checked, event_id, "a row is missing or out of order before this one")
                if event_id != confirmed:
                    canonical = None
                    try:
                        if (
                            len(stored_at) == 26
                            and stored_at[10] == " "
                            and stored_at[19] == "."
                            and (user_id is None or user_id.__class__ is int)
                            and (organisation_id is None or organisation_id.__class__ is int)
                        ):
                            # datetime.isoformat() of the aware UTC value: no fraction when it is zero.
                            fraction = "" if stored_at[20:] == "000000" else stored_at[19:]
                            occurred_at = f"{stored_at[:10]}T{stored_at[11:19]}{fraction}+00:00"
                            detail_json = details.get(detail)
                            if detail_json is None:
                                if len(details) >= _DETAIL_CACHE_SIZE:
                                    details = {"{}": "{}"}
                                detail_json = details[detail] = render_detail(detail)
                            canonical = template % (
                                esc(action),
                                "null" if label is None else esc(label),
                                "null" if organisation_id is None else organisation_id,
                                "null" if user_id is None else user_id,
                                detail_json,
                                "null" if ip_address is None else esc(ip_address),
                                esc(occurred_at),
                                esc(outcome),
                                prev_hash,  # equal to the previous row's checked hash: hex digits
                                "null" if reason is None else esc(reason),
                                "null" if subject_id is None else esc(subject_id),
                                "null" if subject_type is None else esc(subject_type),
                            )
                    except (TypeError, ValueError):
                        canonical = None
                    if canonical is None or sha256(canonical.encode()).hexdigest() != row_hash:
                        suspect = (event_id, row_hash)
                        break
                if event_id == head_event_id:
                    if row_hash != head_hash:
                        return ChainReport(False, checked, event_id, "the newest row or the chain head was changed")
                    reached_head = True
                expected_prev = row_hash
                checked += 1
        if suspect is None:
            break
        # Decide the exact way, now that the rows iterator has let go of the connection.
        event_id, row_hash = suspect
        if not _stored_hash_matches(connection, event_id, row_hash):
            return ChainReport(False, checked, event_id, "this row was changed after it was written")
        from_id = confirmed = event_id
    if head is not None and not reached_head and not (head_event_id is None and head_hash == expected_prev):
        return ChainReport(False, checked, None, "the newest rows were removed")
    return ChainReport(True, checked)


def list_events(
    session: Session,
    *,
    actions: Sequence[str] | None = None,
    actor_user_id: int | None = None,
    subject_type: str | None = None,
    subject_id: str | None = None,
    limit: int = 200,
) -> list[AuditEvent]:
    """Raw query used by the audit services and tests; callers check permission first."""
    query = select(AuditEvent)
    if actions:
        query = query.where(col(AuditEvent.action).in_(list(actions)))
    if actor_user_id is not None:
        query = query.where(AuditEvent.actor_user_id == actor_user_id)
    if subject_type is not None:
        query = query.where(AuditEvent.subject_type == subject_type)
    if subject_id is not None:
        query = query.where(AuditEvent.subject_id == subject_id)
    return list(session.exec(query.order_by(col(AuditEvent.id).desc()).limit(limit)))


SIGN_IN_ACTIONS: tuple[AuditAction, ...] = (
    AuditAction.SIGNIN_SUCCEEDED,
    AuditAction.SIGNIN_FAILED,
    AuditAction.SIGNIN_SECOND_FACTOR_FAILED,
    AuditAction.ACCOUNT_LOCKED,
    AuditAction.SIGNOUT,
    AuditAction.SESSION_EXPIRED,
)


def list_my_sign_in_activity(*, session: Session, actor: Actor, limit: int = 8) -> list[AuditEvent]:
    """A person's own recent sign-ins, failures and sign-outs, so they can spot misuse."""
    if actor.user_id is None:
        return []
    query = (
        select(AuditEvent)
        .where(
            AuditEvent.subject_type == "user",
            AuditEvent.subject_id == str(actor.user_id),
            col(AuditEvent.action).in_([str(a) for a in SIGN_IN_ACTIONS]),
        )
        .order_by(col(AuditEvent.id).desc())
        .limit(limit)
    )
    return list(session.exec(query))


def get_audit_trail(*, session: Session, actor: Actor, action_prefix: str = "", limit: int = 200) -> list[AuditEvent]:
    """The newest audit events, for information-sharing officers and administrators."""
    from sharing.access import require
    from sharing.permissions import Permission

    require(actor, Permission.AUDIT_EVENTS_READ, subject_type="audit_event")
    query = select(AuditEvent)
    if action_prefix:
        query = query.where(col(AuditEvent.action).startswith(action_prefix))
    return list(session.exec(query.order_by(col(AuditEvent.id).desc()).limit(limit)))


def check_audit_chain(*, session: Session, actor: Actor) -> ChainReport:
    """Prove the trail is whole (for information-sharing officers and administrators)."""
    from sharing.access import require
    from sharing.permissions import Permission

    require(actor, Permission.AUDIT_EVENTS_READ, subject_type="audit_event")
    return verify_chain(session)
