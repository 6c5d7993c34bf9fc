"""The demo's panel meetings: a year of meetings for each demo panel, the past ones held and
minuted, and the next Problem Solving Group's pack showing Eastshire Police what was shared
with it and withholding the rest."""

from __future__ import annotations

import importlib.util
import itertools
from datetime import timedelta

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from panels.action_models import Notification
from panels.case_models import Case
from panels.demo import DEMO_PANELS
from panels.meeting_demo import NEXT_PSG_CASES, seed_meeting_demo
from panels.meeting_pages import describe_cadence, get_meeting_page, list_my_meetings
from panels.meetings import MeetingStatus, local
from panels.models import (
    AgendaItem,
    Attendance,
    Decision,
    DecisionAction,
    Meeting,
    MeetingNote,
    Minutes,
    Panel,
    Referral,
)
from panels.packs import NOTHING_SHARED, meeting_pack
from sharing.accounts import actor_for_user
from sharing.audit import AuditAction
from sharing.db import transaction, utcnow
from sharing.models import User
from sharing.permissions import Actor
from sharing.vocabulary import WITHHELD
from tests.unit.helpers import audit_events, last_audit_id


def _actor(session: Session, email: str) -> Actor:
    return actor_for_user(session, session.exec(select(User).where(User.email == email)).one())


def _panel(session: Session, name: str) -> Panel:
    return session.exec(select(Panel).where(Panel.name == name)).one()


def _meetings(session: Session, panel: Panel) -> list[Meeting]:
    return list(session.exec(select(Meeting).where(Meeting.panel_id == panel.id).order_by(col(Meeting.starts_at))))


def _has_cases(session: Session) -> bool:
    """Whether the demo has its own cases (``panels.case_demo``) for the meetings to hear."""
    return importlib.util.find_spec("panels.case_demo") is not None


def _next_psg(session: Session) -> Meeting:
    now = utcnow()
    return next(
        m
        for m in _meetings(session, _panel(session, "Problem Solving Group"))
        if m.starts_at > now and m.status == MeetingStatus.SCHEDULED
    )


def test_each_demo_panel_has_six_months_of_meetings_each_way(db: Session) -> None:
    now = utcnow()
    for spec in DEMO_PANELS:
        meetings = _meetings(db, _panel(db, spec.name))
        past = [m for m in meetings if m.ends_at < now]
        coming = [m for m in meetings if m.starts_at > now]
        assert 5 <= len(past) <= 6, spec.name
        assert 5 <= len(coming) <= 7, spec.name
        assert past[0].starts_at >= now - timedelta(days=190)
        assert coming[-1].starts_at <= now + timedelta(days=190)
        # Monthly, on the panel's own pattern (e.g. the second Tuesday), at its own time.
        gaps = [(b.starts_at - a.starts_at).days for a, b in itertools.pairwise(meetings)]
        assert all(27 <= gap <= 36 for gap in gaps), (spec.name, gaps)
        assert {f"{local(m.starts_at):%H:%M}" for m in meetings} == {spec.start_time}
        assert describe_cadence(spec.cadence_rrule).startswith("Monthly on the ")


def test_past_meetings_were_held_attended_and_minuted(db: Session) -> None:
    now = utcnow()
    for spec in DEMO_PANELS:
        panel = _panel(db, spec.name)
        for meeting in (m for m in _meetings(db, panel) if m.ends_at < now):
            assert meeting.status == MeetingStatus.CLOSED
            present = {
                a.user_id
                for a in db.exec(
                    select(Attendance).where(Attendance.meeting_id == meeting.id, Attendance.status == "present")
                )
            }
            assert panel.chair_user_id in present
            minutes = db.exec(select(Minutes).where(Minutes.meeting_id == meeting.id)).first()
            if meeting.ends_at + timedelta(days=7) <= now:
                assert minutes is not None and minutes.status == "approved", (spec.name, meeting.starts_at)
                assert minutes.approved_at is not None and minutes.approved_at < now
            else:
                assert minutes is None or minutes.status in ("draft", "circulated")


def test_held_meetings_have_the_chairs_notes_on_each_decided_item(db: Session) -> None:
    now = utcnow()
    for spec in DEMO_PANELS:
        panel = _panel(db, spec.name)
        for meeting in (m for m in _meetings(db, panel) if m.ends_at < now):
            notes = list(db.exec(select(MeetingNote).where(MeetingNote.meeting_id == meeting.id)))
            assert all(n.written_by_user_id == panel.chair_user_id for n in notes)
            assert all(meeting.starts_at <= n.written_at <= meeting.ends_at for n in notes)
            assert [n.agenda_item_id for n in notes].count(None) == 1, (spec.name, meeting.starts_at)
            noted = {n.agenda_item_id: n.written_at for n in notes if n.agenda_item_id is not None}
            decisions = list(
                db.exec(
                    select(Decision)
                    .join(AgendaItem, col(AgendaItem.id) == col(Decision.agenda_item_id))
                    .where(AgendaItem.meeting_id == meeting.id)
                )
            )
            assert set(noted) == {d.agenda_item_id for d in decisions}, (spec.name, meeting.starts_at)
            assert all(noted[d.agenda_item_id] < d.recorded_at for d in decisions)


def test_coming_meetings_are_scheduled_and_untouched_but_the_next_psg(db: Session) -> None:
    now = utcnow()
    next_psg = _next_psg(db)
    for spec in DEMO_PANELS:
        for meeting in (m for m in _meetings(db, _panel(db, spec.name)) if m.starts_at > now):
            assert meeting.status == MeetingStatus.SCHEDULED
            assert meeting.opened_at is None
            if meeting.id != next_psg.id:
                assert meeting.agenda_published_at is None


def test_past_decisions_have_owned_actions_and_referrals_were_heard(db: Session) -> None:
    if not _has_cases(db):
        pytest.skip("the demo has no cases yet, so the meetings have no agendas")
    now = utcnow()
    decisions = db.exec(
        select(Decision).join(Meeting, col(Meeting.id) == col(Decision.meeting_id)).where(col(Meeting.ends_at) < now)
    ).all()
    assert decisions, "past meetings decided on the cases referred to them"
    for decision in decisions:
        assert decision.rationale and decision.item_id is not None
        actions = db.exec(select(DecisionAction).where(DecisionAction.decision_id == decision.id)).all()
        assert all(a.owner_user_id is not None for a in actions)
    heard = {r.id for r in db.exec(select(Referral).where(Referral.status == "heard")).all()}
    decided_items = [db.get(AgendaItem, d.agenda_item_id) for d in decisions if d.agenda_item_id]
    # Every referral decided at a past meeting was heard (items carried forward have none).
    decided_referrals = {i.referral_id for i in decided_items if i is not None and i.referral_id is not None}
    assert decided_referrals, "past meetings decided on referred cases"
    assert decided_referrals <= heard


def test_the_next_psg_has_referrals_and_a_published_agenda(db: Session) -> None:
    if not _has_cases(db):
        pytest.skip("the demo has no cases yet, so nothing can be referred")
    meeting = _next_psg(db)
    assert meeting.agenda_published_at is not None
    references = set(
        db.exec(
            select(Case.reference)
            .join(AgendaItem, col(AgendaItem.case_id) == col(Case.id))
            .where(AgendaItem.meeting_id == meeting.id)
        )
    )
    open_refs = set(db.exec(select(Case.reference).where(col(Case.reference).in_(NEXT_PSG_CASES))))
    assert open_refs <= references
    waiting = db.exec(select(Referral).where(Referral.meeting_id == meeting.id, Referral.status == "submitted")).all()
    assert len(waiting) == 1


def test_pc_jones_sees_what_was_shared_with_the_police_and_withheld_elsewhere(engine: Engine) -> None:
    with Session(engine) as session:
        if not _has_cases(session):
            pytest.skip("the demo has no cases yet, so the pack is empty")
        meeting_id = _next_psg(session).id
    assert meeting_id is not None
    before = last_audit_id(engine)
    with transaction(engine) as session:
        jones = _actor(session, "pc.jones@police.demo")
        pack = meeting_pack(session=session, actor=jones, meeting_id=meeting_id)
    by_case = {item.case_reference: item for item in pack.items}
    carter = by_case["ASB-2026-0001"]
    values = [f.value for view in carter.items for f in view.fields]
    assert any("Loud music" in v for v in values)  # shared with the police
    assert WITHHELD in values  # the victim's health was not
    assert by_case["ASB-2026-0003"].note == NOTHING_SHARED
    assert by_case["ASB-2026-0003"].items == ()
    assert [e.subject_id for e in audit_events(engine, action=AuditAction.PACK_READ, since=before)] == [str(meeting_id)]


def test_my_meetings_and_the_meeting_page_for_a_police_member(engine: Engine) -> None:
    with transaction(engine) as session:
        jones = _actor(session, "pc.jones@police.demo")
        mine = list_my_meetings(session=session, actor=jones, limit=20)
        meeting = _next_psg(session)
        page = get_meeting_page(session=session, actor=jones, meeting_id=meeting.id)  # type: ignore[arg-type]
    panels = {m.panel_name for m in mine}
    assert {"Problem Solving Group", "Complex Case Panel"} <= panels
    assert "Tenancy Enforcement Panel" not in panels  # the police do not sit on it
    assert page.is_member and page.agenda_visible and not page.can_refer
    assert page.is_chair  # PC Jones is the Problem Solving Group's deputy chair


def test_seeding_again_adds_no_meetings(engine: Engine) -> None:
    with Session(engine) as session:
        count = len(session.exec(select(Meeting.id)).all())
    with transaction(engine) as session:
        assert seed_meeting_demo(session) is False
    with Session(engine) as session:
        assert len(session.exec(select(Meeting.id)).all()) == count


def test_the_year_past_is_in_peoples_notifications_already_read_and_the_next_psg_is_not(db: Session) -> None:
    if not _has_cases(db):
        pytest.skip("the demo has no cases yet, so nothing was referred or published")
    now = utcnow()
    past = {f"/meetings/{m.id}" for m in db.exec(select(Meeting).where(col(Meeting.ends_at) < now))}
    about_past = db.exec(select(Notification).where(col(Notification.link_path).in_(past))).all()
    assert about_past, "the demo's past meetings told people of their agendas"
    assert all(n.read_at is not None for n in about_past)
    pc_jones = db.exec(select(User).where(User.email == "pc.jones@police.demo")).one()
    upcoming = db.exec(
        select(Notification).where(
            Notification.recipient_user_id == pc_jones.id,
            Notification.link_path == f"/meetings/{_next_psg(db).id}",
            Notification.kind == "agenda_published",
        )
    ).all()
    assert len(upcoming) == 1 and upcoming[0].read_at is None
