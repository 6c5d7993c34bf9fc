"""The panel meetings joined to the action plans and notifications: the chair hears of a
referral and the referrer of the chair's decision; actions a panel agreed become actions on
the case's plan and carry the case forward while open; agendas publish themselves on time."""

from __future__ import annotations

from datetime import UTC, date, timedelta

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from panels.action_models import ActionSource, CaseAction
from panels.action_plans import update_action
from panels.agenda import agenda_items, build_agenda, carried_forward_case_ids
from panels.case_models import CaseParty
from panels.decisions import ActionInput, DecisionInput, record_decision
from panels.meetings import agenda_publication_due
from panels.models import DecisionAction, Meeting, Panel
from panels.notifications import list_notifications, unread_count
from panels.referrals import REFERRAL_DECIDED, REFERRAL_RECEIVED, decide_referral
from panels.reminders import SWEEP_STEPS, sweep_reminders
from panels.vocabulary import PartyRole
from sharing.audit import AuditAction
from sharing.db import transaction
from sharing.permissions import Actor
from tests.unit.case_helpers import make_case
from tests.unit.helpers import audit_events, last_audit_id
from tests.unit.meeting_helpers import (
    MEETING_AT,
    MeetingWorld,
    make_meeting,
    make_panel,
    meeting_with_case,
    meeting_world,
    refer,
)
from tests.unit.sharing_helpers import make_person

__all__ = ["meeting_world"]

REFERRED_AT = MEETING_AT - timedelta(days=30)


def _notes(engine: Engine, actor: Actor) -> tuple[int, list[tuple[str, str, str, str]]]:
    with Session(engine) as session:
        reads = list_notifications(session=session, actor=actor, unread_only=True)
        count = unread_count(session=session, actor=actor)
    return count, [(n.kind, n.title, n.body, n.link_path) for n in reads]


# --- Referrals ------------------------------------------------------------------------------


def test_the_chair_and_deputy_hear_of_a_referral_by_its_reference_only(
    engine: Engine, meeting_world: MeetingWorld
) -> None:
    world = meeting_world
    panel_id = make_panel(engine, world)
    meeting_id = make_meeting(engine, panel_id)
    case = make_case(engine, world.council.officer)
    person = make_person(engine, world.council.officer, given_name="Zebedee")
    with transaction(engine) as session:
        session.add(CaseParty(case_id=case.id, person_id=person.id, role=PartyRole.ALLEGED_PERPETRATOR))  # type: ignore[arg-type]
    assert _notes(engine, world.chair)[0] == 0
    refer(engine, world, case, panel_id, now=REFERRED_AT)
    for actor in (world.chair, world.deputy):
        count, notes = _notes(engine, actor)
        assert count == 1
        kind, title, body, link = notes[0]
        assert kind == REFERRAL_RECEIVED
        assert link == f"/meetings/{meeting_id}"
        assert case.reference in title and case.reference in body
        assert "Zebedee" not in title + body and person.name not in title + body
        assert "Repeated noise" not in body  # what the referral says stays in the referral
    assert _notes(engine, world.council.officer)[0] == 0  # the referrer is not told of their own referral


def test_the_referrer_hears_the_chairs_decision(engine: Engine, meeting_world: MeetingWorld) -> None:
    world = meeting_world
    panel_id = make_panel(engine, world)
    meeting_id = make_meeting(engine, panel_id)
    later_id = make_meeting(engine, panel_id, MEETING_AT + timedelta(days=28))
    cases = [make_case(engine, world.council.officer) for _ in range(3)]
    referrals = [refer(engine, world, c, panel_id, now=REFERRED_AT) for c in cases]
    before = last_audit_id(engine)
    outcomes = [("accept", "", meeting_id, "accepted"), ("defer", "", later_id, "deferred"),
                ("decline", "Not enough evidence of a pattern.", meeting_id, "declined")]  # fmt: skip
    for number, (referral_id, (decision, reason, where, word)) in enumerate(zip(referrals, outcomes, strict=True)):
        with transaction(engine) as session:
            decide_referral(
                session=session, actor=world.chair, referral_id=referral_id, decision=decision, reason=reason
            )
        count, notes = _notes(engine, world.council.officer)
        assert count == number + 1
        kind, title, body, link = notes[0]
        assert kind == REFERRAL_DECIDED
        assert cases[number].reference in body and word in (title + body).lower()
        assert link == f"/meetings/{where}"
        assert "Not enough evidence" not in body
    declined = audit_events(engine, action=AuditAction.REFERRAL_DECLINED, since=before)
    assert [e.subject_id for e in declined] == [str(referrals[2])]


# --- Actions carried forward ----------------------------------------------------------------


def test_an_agreed_action_becomes_a_case_action_and_carries_the_case_forward_until_done(
    engine: Engine, meeting_world: MeetingWorld
) -> None:
    world = meeting_world
    held = meeting_with_case(engine, world, present=(world.council.member, world.legal.member))
    next_id = make_meeting(engine, held.panel_id, MEETING_AT + timedelta(days=28))
    before = last_audit_id(engine)
    with transaction(engine) as session:
        decision_id = record_decision(
            session=session, actor=world.chair, agenda_item_id=held.agenda_item_id,
            data=DecisionInput("action_plan", "A joint response is needed.",
                               actions=[ActionInput(world.council.org.id, "Joint visit to the address",
                                                    date(2030, 7, 1), owner_user_id=world.council.officer.user_id)]),
        ).id  # fmt: skip
    with Session(engine) as session:
        agreed = session.exec(select(DecisionAction).where(DecisionAction.decision_id == decision_id)).one()
        action = session.get(CaseAction, agreed.action_id)
        assert action is not None and action.id is not None
        assert (action.case_id, action.source, action.source_panel_id, action.source_meeting_id) == (
            held.case.id, ActionSource.PANEL_DECISION, held.panel_id, held.meeting_id,
        )  # fmt: skip
        assert (action.description, action.due_on, action.owner_organisation_id, action.owner_user_id) == (
            "Joint visit to the address", date(2030, 7, 1), world.council.org.id, world.council.officer.user_id,
        )  # fmt: skip
        action_id = action.id
        panel, meeting = session.get(Panel, held.panel_id), session.get(Meeting, next_id)
        first = session.get(Meeting, held.meeting_id)
        assert panel is not None and meeting is not None and first is not None
        assert carried_forward_case_ids(session, panel, meeting) == [held.case.id]
        assert carried_forward_case_ids(session, panel, first) == []  # not before it was agreed
    added = audit_events(engine, action=AuditAction.ACTION_ADDED, since=before)
    assert [(e.subject_type, e.subject_id, e.actor_user_id) for e in added] == [
        ("case_action", str(action_id), world.chair.user_id)
    ]
    assert any(n[0] == "action_assigned" for n in _notes(engine, world.council.officer)[1])

    with transaction(engine) as session:
        items = build_agenda(session=session, actor=world.chair, meeting_id=next_id)
    assert [(i.case_id, i.source) for i in items] == [(held.case.id, "carried_forward")]

    with transaction(engine) as session:
        update_action(session=session, actor=world.council.officer, action_id=action_id, status="done",
                      note="Visited with the police on 30 June.")  # fmt: skip
    third_id = make_meeting(engine, held.panel_id, MEETING_AT + timedelta(days=56))
    with transaction(engine) as session:
        assert build_agenda(session=session, actor=world.chair, meeting_id=third_id) == []


# --- Publishing agendas on time -------------------------------------------------------------


def test_the_sweep_publishes_a_due_agenda_once(engine: Engine, meeting_world: MeetingWorld) -> None:
    world = meeting_world
    assert "agendas" in SWEEP_STEPS
    held = meeting_with_case(engine, world, publish=False, open_it=False)
    with Session(engine) as session:
        panel, meeting = session.get(Panel, held.panel_id), session.get(Meeting, held.meeting_id)
        assert panel is not None and meeting is not None
        due = agenda_publication_due(panel, meeting)
    before = last_audit_id(engine)
    sweep_reminders(engine=engine, now=due - timedelta(seconds=1))
    with Session(engine) as session:
        assert session.get(Meeting, held.meeting_id).agenda_published_at is None  # type: ignore[union-attr]
    assert sweep_reminders(engine=engine, now=due)["agendas_published"] >= 1  # other tests' meetings may be due
    sweep_reminders(engine=engine, now=due + timedelta(hours=1))  # published already: not again
    with Session(engine) as session:
        published = session.get(Meeting, held.meeting_id)
        assert published is not None and published.agenda_published_at is not None
        assert published.agenda_published_at.replace(tzinfo=UTC) == due.astimezone(UTC)
        assert agenda_items(session, held.meeting_id)
    events = audit_events(
        engine, action=AuditAction.AGENDA_PUBLISHED, subject_type="meeting", subject_id=held.meeting_id, since=before
    )
    assert len(events) == 1 and events[0].actor_user_id is None
