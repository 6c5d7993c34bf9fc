"""The demo's panel meetings: a year of each demo panel's monthly meetings (six months past,
six ahead), the past ones held, with attendance, the cases referred to them, decisions and
actions agreed, and approved minutes; and the next Problem Solving Group with referrals and a
built and published agenda and pack, so that pc.jones@police.demo opens a pack in which some
cases' details are shared with Eastshire Police and others are withheld.

Everything goes through the real services with the moment in the story as ``now``, so the
audit trail and the case chronologies tell the same story.  The cases are the demo's own
(``panels.case_demo``, when present): without cases the meetings are still held and minuted,
with nothing on their agendas.  Seeding is idempotent: nothing is added once a demo panel has
meetings.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta

from dateutil.relativedelta import relativedelta
from sqlmodel import Session, col, select

from panels.action_models import Notification
from panels.agenda import agenda_items, build_agenda, publish_agenda
from panels.case_models import Case
from panels.decisions import ActionInput, DecisionInput, record_decision
from panels.demo import ASB, DEMO_PANELS, HOMES, LEGAL, POLICE, RIVERSIDE, SOLUTIONS
from panels.meeting_notes import write_note
from panels.meeting_room import close_meeting, open_meeting, quorum_status, record_attendance
from panels.meetings import MeetingStatus, agenda_cutoff, generate_meetings, local, meeting_path
from panels.minutes import approve_minutes, circulate_minutes, draft_minutes
from panels.models import Meeting, Panel, PanelMember, Referral
from panels.panel_config import panel_input_of, update_panel
from panels.referrals import decide_referral, refer_case
from panels.vocabulary import CaseStatus
from sharing.accounts import actor_for_user
from sharing.db import utcnow
from sharing.models import Organisation, User
from sharing.permissions import Actor

MONTHS_EACH_WAY = 6
NEW_REFERRALS_PER_MEETING = 2
# The cases the next Problem Solving Group hears: one partly shared with the police, one
# shared with them, one not shared with them at all.
NEXT_PSG_CASES = ("ASB-2026-0001", "ASB-2026-0002", "ASB-2026-0003")
# Who refers a case for its lead organisation.
LEAD_OFFICERS = {
    ASB: "asb.officer@eastbrook.demo",
    HOMES: "housing.officer@eastbrook.demo",
    RIVERSIDE: "ha.officer@riverside.demo",
}
# Which lead organisations' cases each panel hears.
CASES_FROM = {
    "Problem Solving Group": (ASB, HOMES, RIVERSIDE),
    "Complex Case Panel": (HOMES,),
    "Tenancy Enforcement Panel": (HOMES,),
}
DECISION_ROTATION = {
    "Problem Solving Group": ("action_plan", "keep_under_review", "refer_support_service"),
    "Complex Case Panel": ("homelessness_prevention_plan", "keep_under_review", "support_package"),
    "Tenancy Enforcement Panel": ("defer_for_evidence", "refuse_enforcement"),
}
RATIONALE = {
    "action_plan": "The behaviour is continuing and affects several neighbours; partners agreed joint actions.",
    "keep_under_review": "Reports have dropped since the last visit; the panel will look again next month.",
    "refer_support_service": "The alleged perpetrator's drinking drives the incidents; support is the best route.",
    "homelessness_prevention_plan": "Possession is a risk; a plan to keep the tenancy is in everyone's interest.",
    "support_package": "The tenant has asked for help managing visitors; tenancy sustainment will support them.",
    "defer_for_evidence": "The incident log is thin; the panel needs the diary sheets and the police log first.",
    "refuse_enforcement": "Enforcement is not proportionate while the support plan is showing results.",
}
# The chair's running notes at each held meeting (fictional, naming nobody).
OPENING_NOTE = "Introductions made; everyone present accepted the confidentiality statement."
ITEM_NOTES = {
    "action_plan": "Police and the landlord report further incidents since the referral; joint visit proposed.",
    "keep_under_review": "Fewer reports since the warning letter; the complainant feels things are improving.",
    "refer_support_service": "Partners agree the incidents follow drinking; the support service can start soon.",
    "homelessness_prevention_plan": "Arrears and complaints put the tenancy at risk; housing options discussed.",
    "support_package": "The tenant engaged at the home visit and asked for help with visitors.",
    "defer_for_evidence": "Only two diary sheets so far; the police log has not been shared yet.",
    "refuse_enforcement": "The support plan is working; the landlord will keep the notice in reserve.",
}
REFERRAL_REASON = "Incidents are continuing despite the warning; the case needs a multi-agency plan."
DECISION_SOUGHT = "Agree a multi-agency action plan with the police and the landlord."
EVIDENCE = "Diary sheets, incident log and the police attendance record."


@dataclass
class _Story:
    session: Session
    now: datetime
    users: dict[str, User]
    organisations: dict[str, int]

    def actor(self, email: str) -> Actor:
        return actor_for_user(self.session, self.users[email])

    def user_id(self, email: str) -> int:
        user_id = self.users[email].id
        assert user_id is not None
        return user_id


def _demo_panels(session: Session) -> list[Panel]:
    names = [p.name for p in DEMO_PANELS]
    panels = {p.name: p for p in session.exec(select(Panel).where(col(Panel.name).in_(names)))}
    return [panels[n] for n in names if n in panels]


def _open_cases(story: _Story, panel: Panel, before: datetime, exclude: set[str]) -> list[Case]:
    lead_ids = [story.organisations[n] for n in CASES_FROM.get(panel.name, ()) if n in story.organisations]
    if not lead_ids:
        return []
    return list(
        story.session.exec(
            select(Case)
            .where(
                col(Case.lead_organisation_id).in_(lead_ids),
                Case.status != CaseStatus.CLOSED,
                col(Case.opened_at) < before,
                col(Case.reference).not_in(list(exclude)),
            )
            .order_by(col(Case.opened_at))
        )
    )


def _lead_officer(story: _Story, case: Case) -> Actor | None:
    for organisation, email in LEAD_OFFICERS.items():
        if story.organisations.get(organisation) == case.lead_organisation_id and email in story.users:
            return story.actor(email)
    return None


def _refer(story: _Story, panel: Panel, case: Case, when: datetime) -> Referral | None:
    """The case's lead officer refers it at ``when`` (None when it is already referred)."""
    officer = _lead_officer(story, case)
    if officer is None or panel.id is None or case.id is None:
        return None
    open_referral = story.session.exec(
        select(Referral.id).where(
            Referral.case_id == case.id,
            Referral.panel_id == panel.id,
            col(Referral.status).in_(["submitted", "accepted", "deferred"]),
        )
    ).first()
    if open_referral is not None:
        return None
    referral = refer_case(
        session=story.session, actor=officer, case_id=case.id, panel_id=panel.id, reason=REFERRAL_REASON,
        decision_sought=DECISION_SOUGHT, evidence=EVIDENCE, now=when,
    )  # fmt: skip
    return referral


def _attendees(story: _Story, panel: Panel) -> list[int]:
    named = list(story.session.exec(select(PanelMember.user_id).where(PanelMember.panel_id == panel.id)))
    chairs = [u for u in (panel.chair_user_id, panel.deputy_chair_user_id) if u is not None]
    return list(dict.fromkeys([*chairs, *named]))


def _actions(story: _Story, panel: Panel, case: Case, decision_type: str, day: date) -> list[ActionInput]:
    lead_email = next(
        (e for o, e in LEAD_OFFICERS.items() if story.organisations.get(o) == case.lead_organisation_id), ""
    )
    actions: list[ActionInput] = []
    if lead_email:
        actions.append(
            ActionInput(
                owner_organisation_id=case.lead_organisation_id,
                description="Visit the complainant, update the diary sheets and report back to the panel.",
                due_on=day + timedelta(days=14),
                owner_user_id=story.user_id(lead_email),
            )
        )
    if decision_type == "action_plan" and POLICE in story.organisations and "pc.jones@police.demo" in story.users:
        actions.append(
            ActionInput(
                owner_organisation_id=story.organisations[POLICE],
                description="Add the address to the evening patrol plan and share any calls to it.",
                due_on=day + timedelta(days=21),
                owner_user_id=story.user_id("pc.jones@police.demo"),
            )
        )
    if decision_type == "homelessness_prevention_plan" and "solutions@eastbrook.demo" in story.users:
        actions.append(
            ActionInput(
                owner_organisation_id=story.organisations[SOLUTIONS],
                description="Offer a housing options appointment and a prevention assessment.",
                due_on=day + timedelta(days=10),
                owner_user_id=story.user_id("solutions@eastbrook.demo"),
            )
        )
    if decision_type == "defer_for_evidence" and "legal@eastbrook.demo" in story.users:
        actions.append(
            ActionInput(
                owner_organisation_id=story.organisations[LEGAL],
                description="Advise on the evidence needed for a Notice of Seeking Possession.",
                due_on=day + timedelta(days=14),
                owner_user_id=story.user_id("legal@eastbrook.demo"),
            )
        )
    return actions


def _hold(story: _Story, panel: Panel, meeting: Meeting, used: set[str], number: int) -> None:
    """A past meeting, from referrals to approved minutes."""
    assert meeting.id is not None and panel.id is not None
    chair = story.actor(story.session.get(User, panel.chair_user_id).email)  # type: ignore[union-attr]
    referred_at = meeting.starts_at - timedelta(days=14)
    for case in _open_cases(story, panel, referred_at, used)[:NEW_REFERRALS_PER_MEETING]:
        referral = _refer(story, panel, case, referred_at)
        if referral is None or referral.id is None:
            continue
        used.add(case.reference)
        if referral.meeting_id == meeting.id:
            decide_referral(
                session=story.session, actor=chair, referral_id=referral.id, decision="accept",
                now=referred_at + timedelta(days=1),
            )  # fmt: skip
    build_agenda(session=story.session, actor=chair, meeting_id=meeting.id)
    if agenda_items(story.session, meeting.id):
        publish_agenda(
            session=story.session, actor=chair, meeting_id=meeting.id, now=meeting.starts_at - timedelta(days=7)
        )
    open_meeting(session=story.session, actor=chair, meeting_id=meeting.id, now=meeting.starts_at)
    for index, user_id in enumerate(_attendees(story, panel)):
        absent = index > 1 and (index + number) % 5 == 0  # someone sends apologies now and then
        record_attendance(
            session=story.session, actor=chair, meeting_id=meeting.id, user_id=user_id,
            status="apologies" if absent else "present", now=meeting.starts_at,
        )  # fmt: skip
    items = agenda_items(story.session, meeting.id)
    slot = (meeting.ends_at - meeting.starts_at) / (len(items) + 1)  # the items fill the meeting
    write_note(
        session=story.session, actor=chair, meeting_id=meeting.id, agenda_item_id=None, text=OPENING_NOTE,
        now=meeting.starts_at + slot / 4,
    )  # fmt: skip
    rotation = DECISION_ROTATION.get(panel.name, ("keep_under_review",))
    day = local(meeting.starts_at).date()
    for position, item in enumerate(items):
        assert item.id is not None
        heard = story.session.get(Case, item.case_id)
        assert heard is not None
        decision_type = rotation[(number + position) % len(rotation)]
        if decision_type not in panel.decision_types:
            continue
        if not quorum_status(story.session, meeting.id, agenda_item_id=item.id).met:
            continue  # apologies left the meeting inquorate: the case waits for the next one
        write_note(
            session=story.session, actor=chair, meeting_id=meeting.id, agenda_item_id=item.id,
            text=ITEM_NOTES[decision_type], now=meeting.starts_at + slot * (position + 0.5),
        )  # fmt: skip
        record_decision(
            session=story.session, actor=chair, agenda_item_id=item.id,
            data=DecisionInput(
                decision_type=decision_type, rationale=RATIONALE[decision_type],
                review_on=day + timedelta(days=25) if decision_type == "keep_under_review" else None,
                actions=_actions(story, panel, heard, decision_type, day),
            ),
            now=meeting.starts_at + slot * (position + 1),
        )  # fmt: skip
    close_meeting(session=story.session, actor=chair, meeting_id=meeting.id, now=meeting.ends_at)
    steps = (
        (meeting.ends_at + timedelta(days=1), draft_minutes),
        (meeting.ends_at + timedelta(days=2), circulate_minutes),
        (meeting.ends_at + timedelta(days=7), approve_minutes),
    )
    for moment, step in steps:
        if moment > story.now:
            break
        step(session=story.session, actor=chair, meeting_id=meeting.id, now=moment)


def _prepare_next_psg(story: _Story, panel: Panel, meeting: Meeting) -> None:
    """Referrals to the next Problem Solving Group, its agenda built and published: the cases
    the sharing demo shared with the police (one in part) and one it did not, and one more
    referral still waiting for the chair."""
    assert meeting.id is not None
    chair = story.actor(story.session.get(User, panel.chair_user_id).email)  # type: ignore[union-attr]
    referred_at = min(story.now - timedelta(minutes=30), agenda_cutoff(panel, meeting) - timedelta(days=1))
    cases = {c.reference: c for c in _open_cases(story, panel, referred_at, set())}
    chosen = [cases[r] for r in NEXT_PSG_CASES if r in cases]
    waiting = [c for r, c in sorted(cases.items(), reverse=True) if r not in NEXT_PSG_CASES][:1]
    for case in chosen:
        referral = _refer(story, panel, case, referred_at)
        if referral is not None and referral.id is not None and referral.meeting_id == meeting.id:
            decide_referral(
                session=story.session, actor=chair, referral_id=referral.id, decision="accept",
                now=referred_at + timedelta(minutes=10),
            )  # fmt: skip
    for case in waiting:
        _refer(story, panel, case, referred_at + timedelta(minutes=5))
    build_agenda(session=story.session, actor=chair, meeting_id=meeting.id)
    if agenda_items(story.session, meeting.id):
        publish_agenda(
            session=story.session, actor=chair, meeting_id=meeting.id, now=referred_at + timedelta(minutes=20)
        )


def seed_meeting_demo(session: Session, *, now: datetime | None = None) -> bool:
    """Add the demo panels' meetings unless they have some.  Returns whether anything was added."""
    now = now or utcnow()
    panels = _demo_panels(session)
    if (
        not panels
        or session.exec(select(Meeting.id).where(col(Meeting.panel_id).in_([p.id for p in panels]))).first() is not None
    ):
        return False
    users = {u.email: u for u in session.exec(select(User))}
    if "admin@eastbrook.demo" not in users:
        return False
    organisations = {o.name: o.id for o in session.exec(select(Organisation)) if o.id is not None}
    story = _Story(session=session, now=now, users=users, organisations=organisations)
    admin = story.actor("admin@eastbrook.demo")
    start = now - relativedelta(months=MONTHS_EACH_WAY)
    until = local(now).date() + relativedelta(months=MONTHS_EACH_WAY)
    for panel in panels:
        assert panel.id is not None
        first_day = local(start).date().replace(day=1)
        if panel.cadence_starts_on is None or panel.cadence_starts_on > first_day:
            update_panel(
                session=session, actor=admin, panel_id=panel.id,
                data=replace(panel_input_of(session, panel), cadence_starts_on=first_day),
            )  # fmt: skip
        generate_meetings(session=session, actor=admin, panel_id=panel.id, until=until, now=start)
    for panel in panels:
        used = set(NEXT_PSG_CASES) if panel.name == "Problem Solving Group" else set()
        meetings = session.exec(
            select(Meeting).where(Meeting.panel_id == panel.id).order_by(col(Meeting.starts_at))
        ).all()
        for number, meeting in enumerate(m for m in meetings if m.ends_at < now):
            _hold(story, panel, meeting, used, number)
        coming = [m for m in meetings if m.starts_at > now and m.status == MeetingStatus.SCHEDULED]
        if panel.name == "Problem Solving Group" and coming:
            _prepare_next_psg(story, panel, coming[0])
    _history_read(session, [m.id for m in session.exec(select(Meeting).where(col(Meeting.ends_at) < now))], now)
    return True


def _history_read(session: Session, meeting_ids: list[int | None], now: datetime) -> None:
    """The demo's year of past meetings told people of referrals and agendas as they went:
    that is history by the first sign-in, so it is in their lists already read, and the bell
    counts only what is new."""
    paths = [meeting_path(m) for m in meeting_ids if m is not None]
    for notification in session.exec(
        select(Notification).where(col(Notification.link_path).in_(paths), col(Notification.read_at).is_(None))
    ):
        notification.read_at = now
        session.add(notification)
