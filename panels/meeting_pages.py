"""What the panel and meeting pages show: a panel's terms of reference and meetings, what a
reader may do at a meeting (and what is shown to them), the decisions of a meeting as the
reader's organisation may see them, a person's next meetings, and the set-up form's choices.

Case information is read only through ``sharing.reads`` (directly or through the agenda, pack,
referral and minutes services); this module adds the pages' framing around it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import func, or_
from sqlmodel import Session, col, select

from panels.agenda import may_see_before_publication
from panels.case_models import Case
from panels.meetings import (
    MeetingRead,
    MeetingStatus,
    format_day,
    format_when,
    get_meeting,
    meeting_read,
    next_available_meeting,
    panels_of_user,
)
from panels.minutes import get_minutes
from panels.models import (
    AgendaItem,
    Attendance,
    Decision,
    DecisionAction,
    DecisionAmendment,
    InterestDeclaration,
    Meeting,
    Panel,
    PanelMember,
    Referral,
)
from panels.packs import CONFLICTED, NOTHING_SHARED
from panels.panel_config import (
    CCP_DECISION_TYPES,
    DECISION_TYPES,
    PSG_DECISION_TYPES,
    TEP_DECISION_TYPES,
    decision_types_of,
    get_panel,
    is_chair,
    member_organisation_ids,
    panel_people,
    require_member,
    sits_on,
)
from panels.referrals import ReferralRead, list_case_referrals
from panels.vocabulary import CaseStatus
from sharing.access import require
from sharing.config import get_settings
from sharing.db import utcnow
from sharing.errors import InvalidInput
from sharing.models import Organisation, User
from sharing.permissions import Actor, Permission
from sharing.reads import ItemView, read_items
from sharing.vocabulary import PURPOSE_LABELS, Purpose

# --- Cadence in words --------------------------------------------------------------------------

_DAYS = {
    "MO": "Monday",
    "TU": "Tuesday",
    "WE": "Wednesday",
    "TH": "Thursday",
    "FR": "Friday",
    "SA": "Saturday",
    "SU": "Sunday",
}
_ORDINALS = {1: "first", 2: "second", 3: "third", 4: "fourth", 5: "fifth", -1: "last", -2: "second to last"}
_FREQUENCY = {"DAILY": ("Daily", "days"), "WEEKLY": ("Weekly", "weeks"), "MONTHLY": ("Monthly", "months"),
              "YEARLY": ("Yearly", "years")}  # fmt: skip


def _day_words(token: str) -> str | None:
    day = _DAYS.get(token[-2:])
    if day is None:
        return None
    number = token[:-2]
    if not number:
        return day
    try:
        ordinal = _ORDINALS.get(int(number))
    except ValueError:
        return None
    return f"the {ordinal} {day}" if ordinal else None


def _join(words: list[str]) -> str:
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


def describe_cadence(rule: str) -> str:
    """An RRULE in words, e.g. FREQ=MONTHLY;BYDAY=2TU is "Monthly on the second Tuesday".
    Patterns it cannot put into words are shown as they are."""
    text = rule.strip().upper().removeprefix("RRULE:")
    parts = dict(part.split("=", 1) for part in text.split(";") if "=" in part)
    frequency = _FREQUENCY.get(parts.get("FREQ", ""))
    known = {"FREQ", "INTERVAL", "BYDAY", "BYMONTHDAY"}
    if frequency is None or set(parts) - known:
        return f"On the pattern {text}"
    interval = parts.get("INTERVAL", "1")
    head = frequency[0] if interval == "1" else f"Every {interval} {frequency[1]}"
    if "BYDAY" in parts:
        days = [_day_words(token) for token in parts["BYDAY"].split(",")]
        if any(d is None for d in days):
            return f"On the pattern {text}"
        return f"{head} on {_join([d for d in days if d])}"
    if "BYMONTHDAY" in parts:
        return f"{head} on day {parts['BYMONTHDAY']} of the month"
    return head


def cadence_presets() -> list[tuple[str, str]]:
    """The usual patterns a panel meets on, as (RRULE, words)."""
    presets: list[tuple[str, str]] = []
    for number in (1, 2, 3, 4, -1):
        for code in ("MO", "TU", "WE", "TH", "FR"):
            rule = f"FREQ=MONTHLY;BYDAY={number}{code}"
            presets.append((rule, describe_cadence(rule)))
    for code in ("MO", "TU", "WE", "TH", "FR"):
        rule = f"FREQ=WEEKLY;INTERVAL=2;BYDAY={code}"
        presets.append((rule, f"Every two weeks on {_DAYS[code]}"))
    return presets


# --- The panel page ----------------------------------------------------------------------------


@dataclass(frozen=True)
class PanelPage:
    id: int
    name: str
    purpose: str
    chair: str
    deputy: str
    organisations: tuple[str, ...]
    members: tuple[str, ...]
    quorum: str
    decision_types: tuple[str, ...]
    cadence: str
    start_time: str
    duration_minutes: int
    venue: str
    video_link: str
    sharing_purpose: str
    agenda_cutoff: str
    is_chair: bool
    can_schedule: bool
    upcoming: tuple[MeetingRead, ...]
    past: tuple[MeetingRead, ...]


UPCOMING_DAYS = 400
PAST_SHOWN = 6


def _person(session: Session, user_id: int | None, names: dict[int, str]) -> str:
    user = session.get(User, user_id) if user_id else None
    if user is None:
        return ""
    return f"{user.full_name} ({names.get(user.organisation_id, '')})"


def _organisation_names(session: Session) -> dict[int, str]:
    return {i: n for i, n in session.exec(select(Organisation.id, Organisation.name)).all() if i is not None}


def quorum_words(panel: Panel, names: dict[int, str]) -> str:
    required = sorted(names.get(i, "") for i in panel.quorum_required_organisation_ids)
    text = f"At least {panel.quorum_min_organisations} member organisations present"
    return text + (f", including {_join(required)}." if required else ".")


def get_panel_page(*, session: Session, actor: Actor, panel_id: int, now: datetime | None = None) -> PanelPage:
    """A panel's terms of reference, its coming meetings and its latest past ones."""
    require(actor, Permission.PANELS_PANELS_READ, subject_type="panel", subject_id=panel_id)
    panel = get_panel(session, panel_id)
    assert panel.id is not None
    now = now or utcnow()
    names = _organisation_names(session)
    members = session.exec(
        select(User)
        .join(PanelMember, col(PanelMember.user_id) == col(User.id))
        .where(PanelMember.panel_id == panel.id)
        .order_by(col(User.full_name))
    ).all()
    meetings = session.exec(
        select(Meeting)
        .where(Meeting.panel_id == panel.id, col(Meeting.starts_at) <= now + timedelta(days=UPCOMING_DAYS))
        .order_by(col(Meeting.starts_at))
    ).all()
    upcoming = tuple(meeting_read(panel, m) for m in meetings if m.ends_at >= now)
    past = tuple(meeting_read(panel, m) for m in reversed(meetings) if m.ends_at < now)[:PAST_SHOWN]
    return PanelPage(
        id=panel.id, name=panel.name, purpose=panel.purpose,
        chair=_person(session, panel.chair_user_id, names), deputy=_person(session, panel.deputy_chair_user_id, names),
        organisations=tuple(sorted(names.get(i, "") for i in member_organisation_ids(session, panel))),
        members=tuple(f"{u.full_name} ({names.get(u.organisation_id, '')})" for u in members),
        quorum=quorum_words(panel, names), decision_types=tuple(d.label for d in decision_types_of(panel)),
        cadence=describe_cadence(panel.cadence_rrule), start_time=panel.start_time,
        duration_minutes=panel.duration_minutes, venue=panel.venue, video_link=panel.video_link,
        sharing_purpose=PURPOSE_LABELS.get(Purpose(panel.sharing_purpose), panel.sharing_purpose),
        agenda_cutoff=f"{panel.agenda_cutoff_working_days} working days before each meeting",
        is_chair=is_chair(panel, actor),
        can_schedule=actor.can(Permission.PANELS_PANELS_MANAGE) or (
            is_chair(panel, actor) and actor.can(Permission.PANELS_MEETINGS_CHAIR)
        ),
        upcoming=upcoming, past=past,
    )  # fmt: skip


# --- The meeting page --------------------------------------------------------------------------


@dataclass(frozen=True)
class MeetingPage:
    meeting: MeetingRead
    is_chair: bool
    is_member: bool
    can_schedule: bool
    can_refer: bool
    agenda_visible: bool  # the agenda and the pack may be read by the actor now
    owns_case_on_agenda: bool  # the lead officer's pack preview is open to them
    referrals_land_on: MeetingRead | None  # where a referral made now goes
    minutes_status: str  # "", draft, circulated, approved
    minutes_visible: bool
    attended: bool


def get_meeting_page(*, session: Session, actor: Actor, meeting_id: int, now: datetime | None = None) -> MeetingPage:
    """A meeting's details and what the actor may do and see there."""
    require(actor, Permission.PANELS_PANELS_READ, subject_type="meeting", subject_id=meeting_id)
    meeting, panel = get_meeting(session, meeting_id)
    assert panel.id is not None
    now = now or utcnow()
    chair = is_chair(panel, actor) and actor.can(Permission.PANELS_MEETINGS_CHAIR)
    member = actor.can(Permission.PANELS_MEETINGS_ATTEND) and sits_on(session, panel, actor)
    can_refer = actor.can(Permission.PANELS_REFERRALS_CREATE) and actor.organisation_id is not None and panel.active
    published = meeting.agenda_published_at is not None
    agenda_visible = (
        member
        and meeting.status != MeetingStatus.CANCELLED
        and (published or may_see_before_publication(session, actor, panel, meeting))
        and actor.can(Permission.SHARING_ITEMS_READ)
    )
    owns = (
        can_refer
        and session.exec(
            select(AgendaItem.id)
            .join(Case, col(Case.id) == col(AgendaItem.case_id))
            .where(AgendaItem.meeting_id == meeting_id, Case.lead_organisation_id == actor.organisation_id)
        ).first()
        is not None
    )
    lands = next_available_meeting(session, panel.id, now) if can_refer else None
    minutes = get_minutes(session, meeting_id)
    status = minutes.status if minutes is not None else ""
    attended = (
        session.exec(
            select(Attendance.id).where(
                Attendance.meeting_id == meeting_id, Attendance.user_id == actor.user_id, Attendance.status == "present"
            )
        ).first()
        is not None
    )
    return MeetingPage(
        meeting=meeting_read(panel, meeting), is_chair=chair, is_member=member,
        can_schedule=actor.can(Permission.PANELS_PANELS_MANAGE) or chair, can_refer=can_refer,
        agenda_visible=agenda_visible, owns_case_on_agenda=owns,
        referrals_land_on=meeting_read(panel, lands) if lands is not None else None,
        minutes_status=status,
        minutes_visible=member and actor.can(Permission.SHARING_ITEMS_READ)
        and (status in ("circulated", "approved") or (status == "draft" and chair)),
        attended=attended,
    )  # fmt: skip


@dataclass(frozen=True)
class ReferableCase:
    case_id: int
    label: str
    mine: bool  # the actor is its lead officer


def list_referable_cases(*, session: Session, actor: Actor) -> list[ReferableCase]:
    """The open cases the actor's organisation leads, which its lead officers may refer to a
    panel: the actor's own first.  Labelled by reference and summary title, read through the
    chokepoint."""
    require(actor, Permission.PANELS_REFERRALS_CREATE, subject_type="case")
    if actor.organisation_id is None:
        return []
    cases = session.exec(
        select(Case)
        .where(Case.lead_organisation_id == actor.organisation_id, Case.status != CaseStatus.CLOSED)
        .order_by(col(Case.reference))
    ).all()
    item_ids = [c.summary_item_id for c in cases if c.summary_item_id is not None]
    views = {v.id: v for v in read_items(session=session, actor=actor, item_ids=item_ids, via="referral form")}
    rows: list[ReferableCase] = []
    for case in cases:
        assert case.id is not None
        view = views.get(case.summary_item_id) if case.summary_item_id is not None else None
        shown = {f.key: f.value for f in view.fields if not f.withheld} if view is not None else {}
        detail = ", ".join(v for v in (shown.get("types", ""), shown.get("location", "")) if v and v != "Not recorded")
        label = f"{case.reference}: {detail}" if detail else case.reference
        rows.append(ReferableCase(case.id, label, case.lead_officer_user_id == actor.user_id))
    return sorted(rows, key=lambda r: (not r.mine, r.label))


def list_own_referrals(*, session: Session, actor: Actor, meeting_id: int) -> list[ReferralRead]:
    """The referrals the actor's organisation made to this meeting, and where each stands."""
    require(actor, Permission.PANELS_REFERRALS_CREATE, subject_type="meeting", subject_id=meeting_id)
    get_meeting(session, meeting_id)
    case_ids = sorted(
        set(
            session.exec(
                select(Referral.case_id).where(
                    Referral.meeting_id == meeting_id,
                    Referral.referred_by_organisation_id == actor.organisation_id,
                )
            )
        )
    )
    reads: list[ReferralRead] = []
    for case_id in case_ids:
        reads.extend(
            r for r in list_case_referrals(session=session, actor=actor, case_id=case_id) if r.meeting_id == meeting_id
        )
    return sorted(reads, key=lambda r: r.referred_at)


# --- Decisions ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class DecisionRead:
    decision_id: int
    agenda_item_id: int
    position: int
    case_reference: str
    note: str  # NOTHING_SHARED / CONFLICTED when the words are not shown
    view: ItemView | None  # the decision's words (with its actions and amendments) as shared
    amendments: tuple[str, ...]  # who amended what, when (the words are in the view)
    own_actions: tuple[str, ...]  # actions the reader's organisation owns


def list_meeting_decisions(*, session: Session, actor: Actor, meeting_id: int) -> list[DecisionRead]:
    """A meeting's decisions for a member: each decision's words as far as they were shared
    with the reader's organisation, the amendments made since, and the actions agreed that
    the reader's organisation owns."""
    _, panel = get_meeting(session, meeting_id)
    require_member(session, actor, panel)
    require(actor, Permission.SHARING_ITEMS_READ, subject_type="meeting", subject_id=meeting_id)
    rows = session.exec(
        select(Decision, AgendaItem)
        .join(AgendaItem, col(AgendaItem.id) == col(Decision.agenda_item_id))
        .where(Decision.meeting_id == meeting_id)
        .order_by(col(AgendaItem.position))
    ).all()
    conflicted = set(
        session.exec(
            select(InterestDeclaration.agenda_item_id).where(
                InterestDeclaration.meeting_id == meeting_id, InterestDeclaration.user_id == actor.user_id
            )
        )
    )
    readable = [d.item_id for d, item in rows if d.item_id is not None and item.id not in conflicted]
    views = {v.id: v for v in read_items(session=session, actor=actor, item_ids=readable, via="meeting decisions")}
    references = dict(
        session.exec(select(Case.id, Case.reference).where(col(Case.id).in_([d.case_id for d, _ in rows]))).all()
    )
    users = {u.id: u.full_name for u in session.exec(select(User))}
    out: list[DecisionRead] = []
    for decision, item in rows:
        assert decision.id is not None and item.id is not None
        view = views.get(decision.item_id) if decision.item_id is not None else None
        mine = item.id in conflicted
        amendments = tuple(
            f"{DECISION_TYPES_FIELD.get(a.field_name, a.field_name)} amended by "
            f"{users.get(a.amended_by_user_id or 0, 'someone')} on {format_day(a.amended_at)}"
            for a in session.exec(
                select(DecisionAmendment)
                .where(DecisionAmendment.decision_id == decision.id)
                .order_by(col(DecisionAmendment.id))
            )
        )
        own = (
            tuple(
                f"{a.description} (owner: {users.get(a.owner_user_id or 0, 'not yet named')}, "
                f"due {format_due(a.due_on)})"
                for a in session.exec(
                    select(DecisionAction)
                    .where(DecisionAction.decision_id == decision.id)
                    .order_by(col(DecisionAction.id))
                )
                if a.owner_organisation_id == actor.organisation_id
            )
            if not mine
            else ()
        )
        out.append(
            DecisionRead(
                decision_id=decision.id, agenda_item_id=item.id, position=item.position,
                case_reference=references.get(decision.case_id, ""),
                note=CONFLICTED if mine else ("" if view is not None else NOTHING_SHARED),
                view=view, amendments=amendments, own_actions=own,
            )
        )  # fmt: skip
    return out


DECISION_TYPES_FIELD = {"rationale": "Reasons", "conditions": "Conditions", "dissent": "Dissent"}


def format_due(day: date) -> str:
    return f"{day.day} {day:%B %Y}"


# --- My meetings -------------------------------------------------------------------------------


@dataclass(frozen=True)
class MyMeeting:
    meeting_id: int
    panel_id: int
    panel_name: str
    when: str
    where: str
    status: str
    agenda_published: bool


def list_my_meetings(*, session: Session, actor: Actor, now: datetime | None = None, limit: int = 5) -> list[MyMeeting]:
    """The actor's next meetings across the panels they sit on, chair or are named on."""
    require(actor, Permission.PANELS_PANELS_READ, subject_type="meeting")
    user = session.get(User, actor.user_id) if actor.user_id is not None else None
    if user is None:
        return []
    panels = {p.id: p for p in panels_of_user(session, user)}
    if not panels:
        return []
    now = now or utcnow()
    rows = session.exec(
        select(Meeting)
        .where(
            col(Meeting.panel_id).in_(list(panels)),
            col(Meeting.ends_at) >= now,
            Meeting.status != MeetingStatus.CANCELLED,
        )
        .order_by(col(Meeting.starts_at))
        .limit(limit)
    ).all()
    return [
        MyMeeting(
            meeting_id=m.id,  # type: ignore[arg-type]
            panel_id=m.panel_id,
            panel_name=panels[m.panel_id].name,
            when=format_when(m.starts_at),
            where=m.venue or ("Online" if m.video_link else ""),
            status=m.status,
            agenda_published=m.agenda_published_at is not None,
        )
        for m in rows
    ]


# --- The set-up form ---------------------------------------------------------------------------


@dataclass(frozen=True)
class PanelFormOptions:
    organisations: tuple[tuple[int, str], ...]
    people: tuple[tuple[int, str], ...]  # active people: "name (organisation)"
    everyone_listed: bool = True  # False: find the others by name (``find_panel_people``)


def decision_type_groups() -> list[tuple[str, list[tuple[str, str]]]]:
    """The catalogue of decisions, grouped by the kind of panel that makes them (each once)."""
    seen: set[str] = set()
    groups: list[tuple[str, list[tuple[str, str]]]] = []
    for heading, keys in (
        ("Problem solving", PSG_DECISION_TYPES),
        ("Complex cases and homelessness", CCP_DECISION_TYPES),
        ("Tenancy enforcement", TEP_DECISION_TYPES),
    ):
        groups.append((heading, [(k, DECISION_TYPES[k].label) for k in keys if k not in seen]))
        seen.update(keys)
    return groups


def panel_form_options(*, session: Session, actor: Actor, panel_id: int | None = None) -> PanelFormOptions:
    """The choices the panel set-up form offers (administrators): the active organisations
    (and, when changing ``panel_id``, those already on it, so saving does not drop them), and
    the active people.  A partnership with more active people than the form lists
    (``PORTAL_PANEL_FORM_PEOPLE_LISTED``) gets the panel's chair, deputy and named members and
    the people of its member organisations, the rest to be found by name."""
    require(actor, Permission.PANELS_PANELS_MANAGE, subject_type="panel", subject_id=panel_id)
    names = _organisation_names(session)
    panel = get_panel(session, panel_id) if panel_id is not None else None
    current = member_organisation_ids(session, panel) if panel is not None else set()
    organisations = tuple(
        (o.id, o.name)
        for o in session.exec(select(Organisation).order_by(col(Organisation.name)))
        if o.id is not None and (o.active or o.id in current)
    )
    listed = get_settings().panel_form_people_listed
    active = select(User).where(col(User.is_active).is_(True)).order_by(col(User.full_name))
    total = session.exec(select(func.count()).select_from(active.subquery())).one()
    if total <= listed:
        users = list(session.exec(active))
    else:
        chosen = set(panel_people(session, panel)) if panel is not None else set()
        users = list(session.exec(active.where(col(User.id).in_(chosen))))
        users += session.exec(
            active.where(col(User.organisation_id).in_(current), col(User.id).not_in(chosen)).limit(listed)
        )
    labelled = [(u.id, f"{u.full_name} ({names.get(u.organisation_id, '')})") for u in users if u.id is not None]
    people = tuple(sorted(labelled, key=lambda p: (p[1].casefold(), p[0])))  # by name, then organisation
    return PanelFormOptions(organisations, people, everyone_listed=total <= listed)


def find_panel_people(*, session: Session, actor: Actor, query: str, limit: int = 20) -> tuple[tuple[int, str], ...]:
    """Active people whose name or email contains ``query`` (at most ``limit``), for the set-up
    form of a partnership too large to list everyone."""
    require(actor, Permission.PANELS_PANELS_MANAGE, subject_type="panel")
    text = " ".join(query.split())
    if len(text) < 2:
        raise InvalidInput({"people_query": "Type at least two letters of the person's name or email."})
    pattern = "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    names = _organisation_names(session)
    found = session.exec(
        select(User)
        .where(
            col(User.is_active).is_(True),
            or_(col(User.full_name).ilike(pattern, escape="\\"), col(User.email).ilike(pattern, escape="\\")),
        )
        .order_by(col(User.full_name))
        .limit(limit)
    )
    return tuple((u.id, f"{u.full_name} ({names.get(u.organisation_id, '')})") for u in found if u.id is not None)
