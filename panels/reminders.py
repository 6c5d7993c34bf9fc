"""Reminders: the due-date rules, and the job bodies that raise them.

The rules are pure functions of a record's dates, the organisation's ``CasePolicy`` and
the day: each returns the reminders due (``Due``), every one under a stable *dedupe key*
naming what it is about and the date it counts from (``action:42:due:2026-12-01``).  The
sweep raises a reminder only if no reminder with its key exists (the key is unique in
``reminder``), so running the sweep twice, or again after a crash, raises nothing twice;
and a changed date (a new due date, a new contact with the victim) makes a new key.

No flooding: one reminder when something falls due, one when it is overdue, nothing more
about it; actions overdue longer than ``ContactCadence.action_escalation_overdue_days`` then
go to the owner organisation's managers in one weekly digest.

"Today" is the day in the portal's time zone.  Every rule runs from the lead
organisation's policy, never a number written here.
"""

from __future__ import annotations

import importlib
import inspect
import logging
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from dateutil.relativedelta import relativedelta
from sqlalchemy import func, insert, text, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, SQLModel, col, select

from panels.action_models import (
    OPEN_ACTION_STATUSES,
    ActionPlan,
    ActionStatus,
    CaseAction,
    CaseContact,
    Reminder,
    ReminderKind,
)
from panels.action_plans import plan_agreement_due_from, users_with_role
from panels.agenda import publish_due_agendas
from panels.case_models import Case, CaseReport, Intervention
from panels.incidents import refresh_case_review_flags
from panels.meetings import MeetingStatus, format_when, meeting_path, working_days_before
from panels.models import Meeting, Panel
from panels.notifications import (
    AGENCY_ACTIONS_PATH,
    AGREEMENTS_PATH,
    RECORDS_PATH,
    Notice,
    action_path,
    case_path,
    local_date,
    long_date,
    notify_many,
)
from panels.panel_config import panel_people
from panels.policy import CasePolicy, ContactCadence, LegalClocks, StagePolicy, get_case_policy
from panels.vocabulary import CaseStage, CaseStatus, InterventionKind, InterventionStatus
from sharing.audit import AuditAction, AuditRecord, Outcome, lock_audit_chain, record_events
from sharing.config import get_settings
from sharing.db import transaction, utcnow
from sharing.models import Organisation, Role, SharingAgreement, SubjectAccessRequest, User
from sharing.permissions import SYSTEM_ACTOR
from sharing.register import flag_expired_consent
from sharing.retention import records_past_retention
from sharing.vocabulary import AgreementStatus

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Due:
    """A reminder that is due: who hears of it is decided by the job, not the rule."""

    key: str
    kind: ReminderKind
    due_on: date
    title: str
    body: str
    link_path: str
    case_id: int | None = None
    case_reference: str = ""
    subject_type: str = ""
    subject_id: int | None = None


@dataclass(frozen=True)
class About:
    """What a reminder is about: a case (its reference may appear in the words) and a record."""

    subject_type: str
    subject_id: int
    case_id: int | None = None
    reference: str = ""

    def due(self, key: str, kind: ReminderKind, due_on: date, title: str, body: str, link_path: str) -> Due:
        return Due(
            key, kind, due_on, title, body, link_path, self.case_id, self.reference, self.subject_type, self.subject_id
        )


def _case(case_id: int, reference: str) -> About:
    return About("case", case_id, case_id, reference)


def add_months(day: date, months: int) -> date:
    result: date = day + relativedelta(months=months)
    return result


def _due_or_overdue(
    stem: str,
    due_on: date,
    today: date,
    kinds: tuple[ReminderKind, ReminderKind],
    what: str,
    link_path: str,
    about: About,
) -> list[Due]:
    """The one reminder on the day something is due, and the one after it was missed."""
    where = f" on case {about.reference}" if about.reference else ""
    if today == due_on:
        return [about.due(f"{stem}:due:{due_on}", kinds[0], due_on, f"{what} due today{where}",
                          f"{what}{where} is due today, {long_date(due_on)}.", link_path)]  # fmt: skip
    if today > due_on:
        return [about.due(f"{stem}:overdue:{due_on}", kinds[1], due_on, f"{what} overdue{where}",
                          f"{what}{where} was due on {long_date(due_on)} and is now overdue.", link_path)]  # fmt: skip
    return []


# --- The rules ---------------------------------------------------------------------------------


def action_reminders(
    *, action_id: int, number: int, case_id: int, case_reference: str, due_on: date, status: str, today: date
) -> list[Due]:
    """An open action: on its due day, and once when overdue."""
    if not ActionStatus(status).is_open:
        return []
    return _due_or_overdue(
        f"action:{action_id}", due_on, today, (ReminderKind.ACTION_DUE, ReminderKind.ACTION_OVERDUE),
        f"Action {number}", action_path(action_id), About("case_action", action_id, case_id, case_reference),
    )  # fmt: skip


def first_contact_reminders(
    *, case_id: int, reference: str, due_at: datetime | None, made: bool, now: datetime, today: date
) -> list[Due]:
    """First contact with the victim by the risk level's deadline: on the day, and once late."""
    if due_at is None or made:
        return []
    due_day = local_date(due_at)
    kinds = (ReminderKind.FIRST_CONTACT_DUE, ReminderKind.FIRST_CONTACT_OVERDUE)
    what = "First contact with the victim"
    stem = f"case:{case_id}:first_contact"
    about = _case(case_id, reference)
    if now > due_at:  # late from the deadline's minute, not only from the next day
        return _due_or_overdue(stem, due_day, due_day + timedelta(days=1), kinds, what, case_path(case_id), about)
    if today == due_day:
        return _due_or_overdue(stem, due_day, today, kinds, what, case_path(case_id), about)
    return []


def contact_reminders(
    *,
    case_id: int,
    reference: str,
    last_contact_on: date | None,
    last_update_on: date | None,
    cadence: ContactCadence,
    today: date,
) -> list[Due]:
    """Contact the victim every ``victim_contact_every_days`` (West Kent) and update them on
    progress every ``victim_update_every_days`` (Reading), counted from the latest of each.
    Before the first contact, the first-contact rule applies instead."""
    dues: list[Due] = []
    about = _case(case_id, reference)
    if last_contact_on is not None:
        next_on = last_contact_on + timedelta(days=cadence.victim_contact_every_days)
        dues += _due_or_overdue(
            f"case:{case_id}:victim_contact", next_on, today,
            (ReminderKind.VICTIM_CONTACT_DUE, ReminderKind.VICTIM_CONTACT_OVERDUE),
            "Contact with the victim", case_path(case_id), about,
        )  # fmt: skip
    if last_update_on is not None:
        next_on = last_update_on + timedelta(days=cadence.victim_update_every_days)
        dues += _due_or_overdue(
            f"case:{case_id}:victim_update", next_on, today,
            (ReminderKind.VICTIM_UPDATE_DUE, ReminderKind.VICTIM_UPDATE_OVERDUE),
            "Progress update to the victim", case_path(case_id), about,
        )  # fmt: skip
    return dues


def next_plan_review_on(agreed_on: date | None, last_reviewed_on: date | None, cadence: ContactCadence) -> date | None:
    """When the agreed plan is next due for review (every ``action_plan_review_every_months``)."""
    anchor = last_reviewed_on or agreed_on
    return add_months(anchor, cadence.action_plan_review_every_months) if anchor else None


def plan_reminders(
    *,
    case_id: int,
    reference: str,
    due_to_agree_by: date,
    agreed_on: date | None,
    last_reviewed_on: date | None,
    cadence: ContactCadence,
    today: date,
) -> list[Due]:
    """Agree the plan with the complainant by its day; then review it on its cadence."""
    about = _case(case_id, reference)
    if agreed_on is None:
        return _due_or_overdue(
            f"case:{case_id}:plan_agreement", due_to_agree_by, today,
            (ReminderKind.PLAN_AGREEMENT_DUE, ReminderKind.PLAN_AGREEMENT_OVERDUE),
            "Agreeing the action plan with the complainant", case_path(case_id), about,
        )  # fmt: skip
    review_on = next_plan_review_on(agreed_on, last_reviewed_on, cadence)
    assert review_on is not None
    return _due_or_overdue(
        f"case:{case_id}:plan_review", review_on, today,
        (ReminderKind.PLAN_REVIEW_DUE, ReminderKind.PLAN_REVIEW_OVERDUE),
        "Action plan review", case_path(case_id), about,
    )  # fmt: skip


def stage_reminders(
    *,
    case_id: int,
    reference: str,
    stage: str,
    stage_entered_on: date,
    next_review_on: date | None,
    stages: StagePolicy,
    today: date,
) -> list[Due]:
    """The case's next review (``Case.next_review_on``) and the enquiry stage's limit."""
    dues: list[Due] = []
    about = _case(case_id, reference)
    if next_review_on is not None:
        dues += _due_or_overdue(
            f"case:{case_id}:stage_review", next_review_on, today,
            (ReminderKind.STAGE_REVIEW_DUE, ReminderKind.STAGE_REVIEW_OVERDUE),
            "Case review", case_path(case_id), about,
        )  # fmt: skip
    if stage == CaseStage.ENQUIRY:
        limit = stage_entered_on + timedelta(days=stages.enquiry_max_days)
        dues += _due_or_overdue(
            f"case:{case_id}:enquiry_limit", limit, today,
            (ReminderKind.ENQUIRY_LIMIT_DUE, ReminderKind.ENQUIRY_LIMIT_PASSED),
            "End of the initial enquiry stage", case_path(case_id), about,
        )  # fmt: skip
    return dues


def intervention_reminders(
    *,
    intervention_id: int,
    case_id: int,
    reference: str,
    kind: str,
    expires_on: date | None,
    review_request_by: date | None,
    earliest_proceedings_on: date | None,
    monitoring_ends_on: date | None,
    clocks: LegalClocks,
    today: date,
) -> list[Due]:
    """The legal clocks of an intervention in force.

    * It ends (a NoSP after 12 months...): once, from ``nosp_expiry_warning_days`` before.
    * A Notice of Intention's review period ends: once, on the day (or at once if later).
    * Proceedings may be issued: once, from the earliest day.
    * A Demotion Order's monitoring ends: once, ``nosp_expiry_warning_days`` before, to decide
      between restoring the secure tenancy and seeking possession.
    """
    label = InterventionKind(kind).label if kind in InterventionKind._value2member_map_ else kind
    link = case_path(case_id)
    about = About("intervention", intervention_id, case_id, reference)
    dues: list[Due] = []
    warn = timedelta(days=clocks.nosp_expiry_warning_days)
    stem = f"intervention:{intervention_id}"
    if expires_on is not None and expires_on - warn <= today <= expires_on:
        dues.append(about.due(
            f"{stem}:expiring:{expires_on}", ReminderKind.INTERVENTION_EXPIRING, expires_on,
            f"{label} ends on {long_date(expires_on)}: case {reference}",
            f"The {label} on case {reference} ends on {long_date(expires_on)}. Alert the witnesses and decide what "
            "happens next.", link,
        ))  # fmt: skip
    if review_request_by is not None and today >= review_request_by:
        ends = "ends today" if today == review_request_by else f"ended on {long_date(review_request_by)}"
        dues.append(about.due(
            f"{stem}:review_request_by:{review_request_by}", ReminderKind.REVIEW_REQUEST_PERIOD_ENDS, review_request_by,
            f"Review period {ends}: case {reference}",
            f"The tenant's time to ask for a review of the {label} on case {reference} {ends}.", link,
        ))  # fmt: skip
    if earliest_proceedings_on is not None and today >= earliest_proceedings_on:
        dues.append(about.due(
            f"{stem}:proceedings:{earliest_proceedings_on}", ReminderKind.PROCEEDINGS_POSSIBLE, earliest_proceedings_on,
            f"Proceedings may now be issued: case {reference}",
            f"From {long_date(earliest_proceedings_on)} proceedings may be issued on the {label} on case {reference}.",
            link,
        ))  # fmt: skip
    if monitoring_ends_on is not None and monitoring_ends_on - warn <= today <= monitoring_ends_on:
        dues.append(about.due(
            f"{stem}:monitoring_ends:{monitoring_ends_on}", ReminderKind.MONITORING_ENDING, monitoring_ends_on,
            f"Monitoring ends on {long_date(monitoring_ends_on)}: case {reference}",
            f"Monitoring of the {label} on case {reference} ends on {long_date(monitoring_ends_on)}: restore the "
            "tenancy or seek possession.", link,
        ))  # fmt: skip
    return dues


def agreement_reminders(
    *, agreement_id: int, reference: str, review_on: date, ends_on: date, warning_days: int, today: date
) -> list[Due]:
    """An active sharing agreement's review and end, once each, ``warning_days`` ahead."""
    warn = timedelta(days=warning_days)
    about = About("sharing_agreement", agreement_id)
    dues: list[Due] = []
    if today >= review_on - warn:
        dues.append(about.due(
            f"agreement:{agreement_id}:review:{review_on}", ReminderKind.AGREEMENT_REVIEW_DUE, review_on,
            f"Sharing agreement {reference} is due for review", f"Sharing agreement {reference} is due for review on "
            f"{long_date(review_on)}.", AGREEMENTS_PATH,
        ))  # fmt: skip
    if today >= ends_on - warn:
        dues.append(about.due(
            f"agreement:{agreement_id}:ends:{ends_on}", ReminderKind.AGREEMENT_ENDING, ends_on,
            f"Sharing agreement {reference} ends on {long_date(ends_on)}",
            f"Sharing agreement {reference} ends on {long_date(ends_on)}. Renew it or sharing under it stops.",
            AGREEMENTS_PATH,
        ))  # fmt: skip
    return dues


def sar_reminders(*, sar_id: int, deadline: date, warning_days: int, today: date) -> list[Due]:
    """An open subject access request: once ``warning_days`` before its deadline, once late."""
    about = About("subject_access_request", sar_id)
    if today > deadline:
        return [about.due(
            f"sar:{sar_id}:overdue:{deadline}", ReminderKind.SAR_OVERDUE, deadline,
            f"Subject access request {sar_id} is overdue",
            f"Subject access request {sar_id} was due on {long_date(deadline)}.", RECORDS_PATH,
        )]  # fmt: skip
    if today >= deadline - timedelta(days=warning_days):
        return [about.due(
            f"sar:{sar_id}:due:{deadline}", ReminderKind.SAR_DUE_SOON, deadline,
            f"Subject access request {sar_id} is due on {long_date(deadline)}",
            f"Subject access request {sar_id} must be answered by {long_date(deadline)}.", RECORDS_PATH,
        )]  # fmt: skip
    return []


def escalation_due(
    *, organisation_id: int, organisation: str, overdue_days: list[int], cadence: ContactCadence, today: date
) -> list[Due]:
    """The weekly digest to an organisation's managers: its actions overdue by more than
    ``action_escalation_overdue_days`` (``overdue_days``: how late each open action is)."""
    limit = cadence.action_escalation_overdue_days
    late = [d for d in overdue_days if d > limit]
    if not late:
        return []
    year, week, _ = today.isocalendar()
    count = len(late)
    noun = "action" if count == 1 else "actions"
    return [About("organisation", organisation_id).due(
        f"escalation:{organisation_id}:{year}-W{week:02d}", ReminderKind.ACTIONS_ESCALATED, today,
        f"{count} {noun} more than {limit} days overdue",
        f"{count} {noun} owned by {organisation} {'is' if count == 1 else 'are'} more than {limit} days overdue; "
        f"the longest by {max(late)} days.", AGENCY_ACTIONS_PATH,
    )]  # fmt: skip


# --- Raising reminders --------------------------------------------------------------------------


Pending = tuple[Due, list[int]]
"""A reminder due, and who hears of it."""

# Reminders the sweep raises per transaction: the session stays small, other writers get
# the database between chunks, and a chunk that fails loses only itself.
SWEEP_CHUNK = 500
# How many keys one ``IN (...)`` list carries.
_IN_LIST = 500
# Tries per chunk when another writer raised one of its keys after they were checked.
_CHUNK_ATTEMPTS = 3


def raise_reminders(session: Session, pending: Iterable[Pending], *, now: datetime | None = None) -> Counter[str]:
    """Raise each reminder whose key is new, inside the caller's transaction: the row, its
    recipients' notifications (and immediate emails) and an audit event, all written in
    bulk.  Returns how many of each kind were raised.

    The keys are checked once without a lock (nothing new: nothing written), then again
    under the audit chain's lock, which every transaction raising reminders holds before it
    commits: two sweeps at once raise each key once, the later seeing what the earlier
    committed.  (Should a writer that does not take the lock raise a key in between, the
    unique key refuses the insert and the whole transaction rolls back.)
    """
    fresh = _not_raised(session, pending)
    if not fresh:
        return Counter()
    lock_audit_chain(session)
    fresh = _not_raised(session, fresh)
    if not fresh:
        return Counter()
    now = now or utcnow()
    table = SQLModel.metadata.tables[Reminder.__tablename__]
    created = utcnow()
    written = session.execute(
        insert(table).returning(table.c.id, table.c.dedupe_key),
        [
            {
                "dedupe_key": due.key, "kind": str(due.kind), "due_on": due.due_on, "case_id": due.case_id,
                "subject_type": due.subject_type, "subject_id": due.subject_id,
                "recipient_user_ids": list(recipients), "created_at": created,
            }
            for due, recipients in fresh
        ],
    ).all()  # fmt: skip
    reminder_ids = {key: reminder_id for reminder_id, key in written}
    notify_many(
        session,
        [
            Notice(recipients, str(due.kind), due.title, due.body, due.link_path, due.case_reference,
                   reminder_ids[due.key])
            for due, recipients in fresh
        ],
    )  # fmt: skip
    record_events(
        session,
        [
            AuditRecord(
                action=AuditAction.REMINDER_RAISED, outcome=Outcome.SUCCESS, actor=SYSTEM_ACTOR,
                subject_type=due.subject_type or None, subject_id=due.subject_id,
                detail={"key": due.key, "kind": str(due.kind), "recipients": list(recipients)},
            )
            for due, recipients in fresh
        ],
    )  # fmt: skip
    expiring = [
        due.subject_id
        for due, _ in fresh
        if due.kind == ReminderKind.INTERVENTION_EXPIRING and due.subject_type == "intervention"
    ]
    if expiring:  # the intervention records when its expiry was first warned of
        session.execute(
            update(Intervention)
            .where(col(Intervention.id).in_(expiring), col(Intervention.expiry_warned_at).is_(None))
            .values(expiry_warned_at=now)
        )
    return Counter(str(due.kind) for due, _ in fresh)


def _not_raised(session: Session, pending: Iterable[Pending]) -> list[Pending]:
    """Those of ``pending`` whose key no reminder has yet (each key once)."""
    pending = list(pending)
    keys = list(dict.fromkeys(due.key for due, _ in pending))
    taken: set[str] = set()
    for start in range(0, len(keys), _IN_LIST):
        chunk = keys[start : start + _IN_LIST]
        taken.update(session.exec(select(Reminder.dedupe_key).where(col(Reminder.dedupe_key).in_(chunk))).all())
    fresh: list[Pending] = []
    for due, recipients in pending:
        if due.key not in taken:
            taken.add(due.key)
            fresh.append((due, recipients))
    return fresh


def raise_in_chunks(*, engine: Engine, pending: Sequence[Pending], now: datetime) -> Counter[str]:
    """Raise ``pending`` ``SWEEP_CHUNK`` at a time, each chunk in a transaction of its own
    (all of it or none of it).  A chunk whose insert meets a key another writer raised
    after the check is tried again, checked afresh, so the rest of it is still raised once.
    A chunk that fails otherwise is logged and the others go on; then :class:`ChunksFailed`
    says how many failed, carrying the counts of those raised."""
    raised: Counter[str] = Counter()
    failures: list[str] = []
    for start in range(0, len(pending), SWEEP_CHUNK):
        chunk = pending[start : start + SWEEP_CHUNK]
        try:
            raised.update(_raise_chunk(engine, chunk, now))
        except Exception as error:
            log.exception("Raising reminders %s to %s failed", chunk[0][0].key, chunk[-1][0].key)
            failures.append(f"{type(error).__name__}: {error}")
    if failures:
        chunks = -(-len(pending) // SWEEP_CHUNK)
        raise ChunksFailed(f"{len(failures)} of {chunks} chunks of reminders failed ({failures[0]})", raised)
    return raised


def _raise_chunk(engine: Engine, chunk: Sequence[Pending], now: datetime) -> Counter[str]:
    attempt = 1
    while True:
        try:
            with transaction(engine) as session:
                _forget_plans_of_smaller_tables(session)
                return raise_reminders(session, chunk, now=now)
        except IntegrityError:
            if attempt == _CHUNK_ATTEMPTS:
                raise
            log.info("Reminders %s to %s met a key raised meanwhile: checking again", chunk[0][0].key, chunk[-1][0].key)
            attempt += 1


def _forget_plans_of_smaller_tables(session: Session) -> None:
    """On PostgreSQL, have the connection plan its foreign-key checks afresh.

    A connection keeps the plans of the checks each insert makes (is there such a reminder,
    such an email?), made when it first ran them.  Made while those tables were nearly
    empty, they read the whole table; a sweep raising thousands of reminders grows the
    tables under them, and every check would read all of it again.  Planned again per
    chunk, they use the primary keys.
    """
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("DISCARD PLANS"))


class ChunksFailed(Exception):
    """Some chunks of reminders could not be raised; ``raised`` counts those that were."""

    def __init__(self, message: str, raised: Counter[str]) -> None:
        super().__init__(message)
        self.raised = raised


class _People:
    """Who hears of what, looked up once per run."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self._by_role: dict[tuple[int, Role], list[int]] = {}
        self._active: dict[int, bool] = {}

    def with_role(self, organisation_id: int, role: Role) -> list[int]:
        key = (organisation_id, role)
        if key not in self._by_role:
            self._by_role[key] = users_with_role(self.session, organisation_id, role)
        return self._by_role[key]

    def active(self, user_id: int) -> bool:
        if user_id not in self._active:
            user = self.session.get(User, user_id)
            self._active[user_id] = user is not None and user.is_active
        return self._active[user_id]

    def action_team(self, action: CaseAction) -> list[int]:
        """As :func:`panels.action_plans.action_recipients`: the owner, or (without an active
        one) the owner organisation's managers."""
        if action.owner_user_id is not None and self.active(action.owner_user_id):
            return [action.owner_user_id]
        return self.with_role(action.owner_organisation_id, Role.MANAGER)

    def case_team(self, case: Case) -> list[int]:
        """The lead officer; without one, the lead organisation's managers (or its officers)."""
        if case.lead_officer_user_id is not None and self.active(case.lead_officer_user_id):
            return [case.lead_officer_user_id]
        org = case.lead_organisation_id
        return self.with_role(org, Role.MANAGER) or self.with_role(org, Role.LEAD_OFFICER)

    def sharing_officers(self, organisation_id: int) -> list[int]:
        return self.with_role(organisation_id, Role.INFORMATION_SHARING_OFFICER) or self.with_role(
            organisation_id, Role.MANAGER
        )


class _Policies:
    def __init__(self, session: Session) -> None:
        self.session = session
        self._cache: dict[int, CasePolicy] = {}

    def of(self, organisation_id: int) -> CasePolicy:
        if organisation_id not in self._cache:
            self._cache[organisation_id] = get_case_policy(self.session, organisation_id)
        return self._cache[organisation_id]


SweepStep = Callable[[Session, datetime, date], dict[str, int]]


@dataclass(frozen=True)
class ReminderRules:
    """A sweep step made of reminder rules: ``find(session, now, today)`` reads what is due
    and who hears of it; the sweep then raises it in chunks (:func:`raise_in_chunks`).
    Called as a plain step, it raises everything in the caller's transaction."""

    find: Callable[[Session, datetime, date], list[Pending]]

    def __call__(self, session: Session, now: datetime, today: date) -> dict[str, int]:
        return dict(raise_reminders(session, self.find(session, now, today), now=now))


def _action_dues(session: Session, now: datetime, today: date) -> list[Pending]:
    rows = session.exec(
        select(CaseAction, Case.reference)
        .join(Case, col(Case.id) == col(CaseAction.case_id))
        .where(
            col(CaseAction.status).in_([str(s) for s in OPEN_ACTION_STATUSES]),
            col(CaseAction.due_on) <= today,
            Case.status != CaseStatus.CLOSED,
        )
        .order_by(col(CaseAction.id))
    ).all()
    people = _People(session)
    pending: list[Pending] = []
    for action, reference in rows:
        assert action.id is not None
        dues = action_reminders(
            action_id=action.id, number=action.number, case_id=action.case_id, case_reference=reference,
            due_on=action.due_on, status=action.status, today=today,
        )  # fmt: skip
        if dues:
            team = people.action_team(action)
            pending += [(d, team) for d in dues]
    return pending


def _case_dues(session: Session, now: datetime, today: date) -> list[Pending]:
    cases = session.exec(select(Case).where(Case.status != CaseStatus.CLOSED).order_by(col(Case.id))).all()
    if not cases:
        return []
    open_ids = select(Case.id).where(Case.status != CaseStatus.CLOSED)
    plans = {p.case_id: p for p in session.exec(select(ActionPlan).where(col(ActionPlan.case_id).in_(open_ids)))}
    contacts = {
        case_id: (first, last)
        for case_id, first, last in session.exec(
            select(CaseContact.case_id, func.min(CaseContact.contacted_at), func.max(CaseContact.contacted_at))
            .where(col(CaseContact.case_id).in_(open_ids))
            .group_by(col(CaseContact.case_id))
        ).all()
    }
    updates = dict(
        session.exec(
            select(CaseContact.case_id, func.max(CaseContact.contacted_at))
            .where(col(CaseContact.case_id).in_(open_ids), col(CaseContact.progress_update))
            .group_by(col(CaseContact.case_id))
        ).all()
    )
    reports = dict(
        session.exec(
            select(CaseReport.case_id, func.min(CaseReport.received_at))
            .where(col(CaseReport.case_id).in_(open_ids))
            .group_by(col(CaseReport.case_id))
        ).all()
    )
    people, policies = _People(session), _Policies(session)
    pending: list[Pending] = []
    for case in cases:
        assert case.id is not None
        policy = policies.of(case.lead_organisation_id)
        first, last = contacts.get(case.id, (None, None))
        # The first contact is the one the case records, or the earliest contact recorded here.
        first_contact = case.first_contact_made_at or _aware(first)
        last_contact = max((t for t in (case.first_contact_made_at, _aware(last)) if t is not None), default=None)
        last_update = _aware(updates.get(case.id)) or first_contact
        plan = plans.get(case.id)
        if plan is not None:
            due_by = plan.due_to_agree_by
        else:
            reported = _aware(reports.get(case.id)) or case.opened_at
            due_by = plan_agreement_due_from(reported, policy.cadence)
        dues = [
            *first_contact_reminders(
                case_id=case.id, reference=case.reference, due_at=case.first_contact_due_at,
                made=first_contact is not None, now=now, today=today,
            ),
            *contact_reminders(
                case_id=case.id, reference=case.reference,
                last_contact_on=local_date(last_contact) if last_contact else None,
                last_update_on=local_date(last_update) if last_update else None, cadence=policy.cadence, today=today,
            ),
            *plan_reminders(
                case_id=case.id, reference=case.reference, due_to_agree_by=due_by,
                agreed_on=plan.agreed_on if plan else None, last_reviewed_on=plan.last_reviewed_on if plan else None,
                cadence=policy.cadence, today=today,
            ),
            *stage_reminders(
                case_id=case.id, reference=case.reference, stage=case.stage,
                stage_entered_on=local_date(case.stage_changed_at), next_review_on=case.next_review_on,
                stages=policy.stages, today=today,
            ),
        ]  # fmt: skip
        if dues:
            team = people.case_team(case)
            pending += [(d, team) for d in dues]
    return pending


def _aware(moment: datetime | None) -> datetime | None:
    """Aggregates (min/max) bypass the column type on SQLite: make them UTC-aware again."""
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=UTC)


def _intervention_dues(session: Session, now: datetime, today: date) -> list[Pending]:
    rows = session.exec(
        select(Intervention, Case)
        .join(Case, col(Case.id) == col(Intervention.case_id))
        .where(Intervention.status == InterventionStatus.SERVED, Case.status != CaseStatus.CLOSED)
        .order_by(col(Intervention.id))
    ).all()
    people, policies = _People(session), _Policies(session)
    pending: list[Pending] = []
    for intervention, case in rows:
        assert intervention.id is not None and case.id is not None
        dues = intervention_reminders(
            intervention_id=intervention.id, case_id=case.id, reference=case.reference, kind=intervention.kind,
            expires_on=intervention.expires_on, review_request_by=intervention.review_request_by,
            earliest_proceedings_on=intervention.earliest_proceedings_on,
            monitoring_ends_on=intervention.monitoring_ends_on,
            clocks=policies.of(case.lead_organisation_id).clocks, today=today,
        )  # fmt: skip
        if dues:
            team = people.case_team(case)
            pending += [(d, team) for d in dues]
    return pending


def _agreement_dues(session: Session, now: datetime, today: date) -> list[Pending]:
    from sharing.models import AgreementParty

    settings = get_settings()
    people = _People(session)
    pending: list[Pending] = []
    agreements = session.exec(
        select(SharingAgreement)
        .where(SharingAgreement.status == AgreementStatus.ACTIVE)
        .order_by(col(SharingAgreement.id))
    ).all()
    for agreement in agreements:
        assert agreement.id is not None
        dues = agreement_reminders(
            agreement_id=agreement.id, reference=agreement.reference, review_on=agreement.review_on,
            ends_on=agreement.ends_on, warning_days=settings.agreement_warning_days, today=today,
        )  # fmt: skip
        if not dues:
            continue
        parties = session.exec(
            select(AgreementParty.organisation_id).where(AgreementParty.agreement_id == agreement.id)
        ).all()
        officers = [u for org in parties for u in people.sharing_officers(org)]
        pending += [(d, officers) for d in dues]
    return pending


def _sar_dues(session: Session, now: datetime, today: date) -> list[Pending]:
    settings = get_settings()
    people = _People(session)
    pending: list[Pending] = []
    for sar in session.exec(
        select(SubjectAccessRequest)
        .where(col(SubjectAccessRequest.completed_on).is_(None))
        .order_by(col(SubjectAccessRequest.id))
    ):
        assert sar.id is not None
        dues = sar_reminders(
            sar_id=sar.id, deadline=sar.extended_to or sar.due_on, warning_days=settings.sar_reminder_days, today=today
        )
        pending += [(d, people.sharing_officers(sar.organisation_id)) for d in dues]
    return pending


def _retention_dues(session: Session, now: datetime, today: date) -> list[Pending]:
    """One reminder a week per organisation with records past their retention period."""
    due = records_past_retention(session=session, actor=SYSTEM_ACTOR, today=today)
    by_org = Counter(d.owner_organisation_id for d in due)
    people = _People(session)
    year, week, _ = today.isocalendar()
    pending: list[Pending] = []
    for org_id, count in sorted(by_org.items()):
        noun = "record has" if count == 1 else "records have"
        pending.append((About("organisation", org_id).due(
            f"retention:{org_id}:{year}-W{week:02d}", ReminderKind.RETENTION_DUE, today,
            f"{count} {noun} passed the retention period",
            f"{count} {noun} passed the retention period and should be deleted or anonymised.", RECORDS_PATH,
        ), people.sharing_officers(org_id)))  # fmt: skip
    return pending


def _consent_step(session: Session, now: datetime, today: date) -> dict[str, int]:
    """Disclosures resting on consent that has run out: flagged and recipients told (idempotent)."""
    flagged = flag_expired_consent(session=session, actor=SYSTEM_ACTOR, today=today)
    return {"consent_disclosures_flagged": len(flagged)} if flagged else {}


def _closure_step(session: Session, now: datetime, today: date) -> dict[str, int]:
    """Quiet cases proposed for closure (003 §8.5), when the stages module provides
    ``propose_quiet_cases_for_closure``; it is given those of ``session``, ``actor``, ``today``
    and ``now`` it names, as keywords."""
    try:
        stages = importlib.import_module("panels.stages")
    except ImportError:
        return {}
    propose = getattr(stages, "propose_quiet_cases_for_closure", None)
    if propose is None:
        return {}
    offered = {"session": session, "actor": SYSTEM_ACTOR, "today": today, "now": now}
    wanted = inspect.signature(propose).parameters
    proposed = propose(**{name: value for name, value in offered.items() if name in wanted})
    count = len(proposed) if hasattr(proposed, "__len__") else int(proposed or 0)
    return {"closures_proposed": count} if count else {}


def _case_review_step(session: Session, now: datetime, today: date) -> dict[str, int]:
    """ASB Case Review flags re-checked as incidents age out of the counted periods (and
    against a council's changed thresholds)."""
    changed = refresh_case_review_flags(session=session, actor=SYSTEM_ACTOR, now=now)
    return {"case_review_flags_changed": len(changed)} if changed else {}


def _meeting_dues(session: Session, now: datetime, today: date) -> list[Pending]:
    """A reminder to each panel's people ``meeting_reminder_working_days`` before it meets
    (one per meeting and start time: a moved meeting is reminded of again)."""
    days = get_settings().meeting_reminder_working_days
    if days <= 0:
        return []
    # Working days before a meeting never span more than a few weeks of calendar time.
    horizon = now + timedelta(days=days * 2 + 14)
    meetings = session.exec(
        select(Meeting, Panel)
        .join(Panel, col(Panel.id) == col(Meeting.panel_id))
        .where(
            Meeting.status == MeetingStatus.SCHEDULED, col(Meeting.starts_at) > now, col(Meeting.starts_at) <= horizon
        )
        .order_by(col(Meeting.starts_at))
    ).all()
    pending: list[Pending] = []
    for meeting, panel in meetings:
        assert meeting.id is not None
        if working_days_before(meeting.starts_at, days) > now:
            continue
        where = " and online" if meeting.venue and meeting.video_link else ""
        where = f" at {meeting.venue}{where}" if meeting.venue else " online"
        agenda = (
            "The agenda and your pack are published."
            if meeting.agenda_published_at is not None
            else "Its agenda is not published yet."
        )
        due = About("meeting", meeting.id).due(
            f"meeting:{meeting.id}:reminder:{meeting.starts_at:%Y-%m-%dT%H:%M}", ReminderKind.MEETING_REMINDER,
            local_date(meeting.starts_at), f"Reminder: the {panel.name} meets on {format_when(meeting.starts_at)}",
            f"The {panel.name} meets on {format_when(meeting.starts_at)}{where}. {agenda}", meeting_path(meeting.id),
        )  # fmt: skip
        pending.append((due, panel_people(session, panel)))
    return pending


def _agendas_step(session: Session, now: datetime, today: date) -> dict[str, int]:
    """Agendas whose publication time has come, published to the panel's members (a published
    agenda is not published again)."""
    published = publish_due_agendas(session=session, actor=SYSTEM_ACTOR, now=now)
    return {"agendas_published": len(published)} if published else {}


SWEEP_STEPS: dict[str, SweepStep] = {
    "actions": ReminderRules(_action_dues),
    "cases": ReminderRules(_case_dues),
    "interventions": ReminderRules(_intervention_dues),
    "agreements": ReminderRules(_agreement_dues),
    "subject_access_requests": ReminderRules(_sar_dues),
    "retention": ReminderRules(_retention_dues),
    "expired_consent": _consent_step,
    "quiet_cases": _closure_step,
    "case_review_flags": _case_review_step,
    "agendas": _agendas_step,
    "meetings": ReminderRules(_meeting_dues),
}


def register_sweep_step(name: str, step: SweepStep) -> None:
    """Add a step to the reminders sweep (another module's clock).  The step runs in the
    sweep's transaction as ``step(session, now, today)``, must be idempotent, and returns
    counts of what it did."""
    SWEEP_STEPS[name] = step


class SweepIncomplete(Exception):
    """Some steps of the sweep failed (the others' reminders were kept)."""


def sweep_reminders(*, engine: Engine, now: datetime | None = None) -> dict[str, int]:
    """The reminders sweep (a scheduled job): every rule above, for every open record.

    Each step runs in a transaction of its own, so one failing clock (another module's
    step, say) does not stop every other reminder; it is logged and the run reports it as
    failed (:class:`SweepIncomplete`).  The reminder rules' steps read what is due in one
    transaction and raise it in chunks of ``SWEEP_CHUNK``, each in a transaction of its own
    (:func:`raise_in_chunks`): a morning when thousands fall due neither holds the database
    for minutes nor loses all of them to one failure.  Reminders are idempotent by their
    dedupe keys, so a step or a chunk run again raises nothing twice.  Returns how many
    reminders of each kind were raised.
    """
    now = now or utcnow()
    today = local_date(now)
    counts: Counter[str] = Counter()
    failed: list[str] = []
    for name, step in list(SWEEP_STEPS.items()):
        try:
            if isinstance(step, ReminderRules):
                with transaction(engine) as session:
                    pending = step.find(session, now, today)
                counts.update(raise_in_chunks(engine=engine, pending=pending, now=now))
            else:
                with transaction(engine) as session:
                    counts.update(step(session, now, today))
        except Exception as error:
            if isinstance(error, ChunksFailed):
                counts.update(error.raised)
            log.exception("Reminder sweep step %s failed", name)
            failed.append(f"{name} ({type(error).__name__}: {error})")
    if failed:
        raise SweepIncomplete(f"Steps that failed: {'; '.join(failed)}. Counts of the others: {dict(counts)}")
    return dict(counts)


def queue_manager_digests(*, session: Session, now: datetime | None = None) -> dict[str, int]:
    """The weekly digest to each organisation's managers of its actions overdue by more than
    its policy's ``action_escalation_overdue_days`` (a scheduled job; once per week)."""
    now = now or utcnow()
    today = local_date(now)
    rows = session.exec(
        select(col(CaseAction.owner_organisation_id), col(CaseAction.due_on))
        .join(Case, col(Case.id) == col(CaseAction.case_id))
        .where(
            col(CaseAction.status).in_([str(s) for s in OPEN_ACTION_STATUSES]),
            col(CaseAction.due_on) < today,
            Case.status != CaseStatus.CLOSED,
        )
    ).all()
    late: dict[int, list[int]] = {}
    for org_id, due_on in rows:
        late.setdefault(org_id, []).append((today - due_on).days)
    people, policies = _People(session), _Policies(session)
    names = dict(session.exec(select(Organisation.id, Organisation.name)).all())
    pending: list[Pending] = []
    for org_id, days in sorted(late.items()):
        dues = escalation_due(
            organisation_id=org_id, organisation=names.get(org_id, ""), overdue_days=days,
            cadence=policies.of(org_id).cadence, today=today,
        )  # fmt: skip
        pending += [(d, people.with_role(org_id, Role.MANAGER)) for d in dues]
    return dict(raise_reminders(session, pending, now=now))
