"""Decisions: by the chair or deputy, only when quorate, only of the panel's types, with their
rationale; conflicted members excluded; the Tenancy Enforcement Panel's authorisations create
the legal remedy; Housing Solutions referrals need consent; minutes lock decisions, which then
change only by amendment."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from panels.case_models import Case, CaseEvent, CaseParty, Intervention
from panels.decisions import (
    ActionInput,
    DecisionInput,
    MeetingNotQuorate,
    MinutesLocked,
    amend_decision,
    assign_action_owner,
    record_decision,
)
from panels.meeting_room import close_meeting, declare_interest
from panels.minutes import approve_minutes, circulate_minutes, comment_on_minutes, draft_minutes
from panels.models import Decision, DecisionAction, DecisionAmendment, Minutes, Panel, Referral
from panels.panel_config import CCP_DECISION_TYPES, PSG_DECISION_TYPES
from panels.remedies import record_panel_remedy
from sharing.db import transaction
from sharing.errors import InvalidInput, PermissionDenied
from sharing.models import InformationItem, OrganisationType
from sharing.permissions import Actor
from tests.unit.helpers import audit_events, last_audit_id
from tests.unit.meeting_helpers import MeetingWorld, agenda_item, meeting_with_case, meeting_world
from tests.unit.sharing_helpers import make_consent, make_person

__all__ = ["meeting_world"]


def _decide(engine: Engine, actor: Actor, agenda_item_id: int, data: DecisionInput) -> Decision:
    with transaction(engine) as session:
        decision = record_decision(session=session, actor=actor, agenda_item_id=agenda_item_id, data=data)
        session.flush()
        session.expunge(decision)
        return decision


def _refused(engine: Engine, actor: Actor, agenda_item_id: int, data: DecisionInput) -> dict[str, str]:
    with pytest.raises(InvalidInput) as error:
        _decide(engine, actor, agenda_item_id, data)
    return error.value.field_errors


PLAN = DecisionInput("action_plan", "The behaviour continues and needs a joint response.")


def test_a_decision_is_refused_while_the_meeting_is_not_quorate(engine: Engine, meeting_world: MeetingWorld) -> None:
    world = meeting_world
    held = meeting_with_case(engine, world, present=(world.council.member, world.police.member))
    with pytest.raises(MeetingNotQuorate) as error:
        _decide(engine, world.chair, held.agenda_item_id, PLAN)
    assert error.value.message == f"The meeting is not quorate: {world.legal.org.name} must be present"
    with Session(engine) as session:
        assert session.exec(select(Decision).where(Decision.agenda_item_id == held.agenda_item_id)).first() is None


def test_only_the_chair_or_deputy_records_and_only_the_panels_decisions(
    engine: Engine, meeting_world: MeetingWorld
) -> None:
    world = meeting_world
    held = meeting_with_case(
        engine, world, decision_types=list(PSG_DECISION_TYPES), present=(world.council.member, world.legal.member)
    )
    with pytest.raises(PermissionDenied) as denied:
        _decide(engine, world.legal.member, held.agenda_item_id, PLAN)
    assert denied.value.message.startswith("Only the chair or deputy chair of the Panel-")
    errors = _refused(engine, world.chair, held.agenda_item_id, DecisionInput("authorise_nosp", "Serious breaches"))
    assert errors["decision_type"].endswith(
        "cannot make that decision. It may: Agree a multi-agency action plan; Escalate to another panel; "
        "Refer to a support service; Refer to the Neighbourhood Resolution Panel; Close the case at panel; "
        "Keep under review."
    )
    assert _refused(engine, world.chair, held.agenda_item_id, DecisionInput("action_plan", "  ")) == {
        "rationale": "Record the reasons for the decision."
    }
    assert _refused(engine, world.chair, held.agenda_item_id, DecisionInput("keep_under_review", "Improving")) == {
        "review_on": "Say when the panel will review the case."
    }
    assert _refused(engine, world.chair, held.agenda_item_id, DecisionInput("escalate", "Beyond us")) == {
        "escalate_to_panel_id": "Choose the panel the case is escalated to."
    }
    late = DecisionInput(
        "action_plan", "Joint visit", actions=[ActionInput(world.police.org.id, "Visit", date(2030, 1, 1))]
    )
    assert _refused(engine, world.chair, held.agenda_item_id, late) == {
        "actions": "Action 1: the due date cannot be before the meeting."
    }


def test_a_conflicted_member_is_excluded_from_the_decision(engine: Engine, meeting_world: MeetingWorld) -> None:
    world = meeting_world
    held = meeting_with_case(engine, world, present=(world.council.member, world.police.member, world.legal.member))
    with transaction(engine) as session:
        declare_interest(session=session, actor=world.police.member, agenda_item_id=held.agenda_item_id,
                         reason="The alleged perpetrator is my neighbour.")  # fmt: skip
    since = last_audit_id(engine)
    decision = _decide(engine, world.deputy, held.agenda_item_id, PLAN)
    assert decision.excluded_user_ids == [world.police.member.user_id]
    (event,) = audit_events(engine, action="panels:decision:recorded", since=since)
    assert event.detail["excluded_user_ids"] == [world.police.member.user_id]
    assert agenda_item(engine, held.agenda_item_id).status == "decided"
    with Session(engine) as session:
        referral = session.exec(select(Referral).where(Referral.case_id == held.case.id)).one()
        assert referral.status == "heard"
        line = session.exec(
            select(CaseEvent).where(CaseEvent.case_id == held.case.id, CaseEvent.kind == "panel_decision")
        ).one()
        assert line.summary.endswith("11 June 2030: Agree a multi-agency action plan")
        assert line.item_id == held.case.summary_item_id


def test_a_conflicted_chair_leaves_the_decision_to_the_deputy(engine: Engine, meeting_world: MeetingWorld) -> None:
    world = meeting_world
    held = meeting_with_case(engine, world, present=(world.council.member, world.legal.member, world.chair))
    with transaction(engine) as session:
        declare_interest(session=session, actor=world.chair, agenda_item_id=held.agenda_item_id, reason="Related")
    with pytest.raises(PermissionDenied) as denied:
        _decide(engine, world.chair, held.agenda_item_id, PLAN)
    assert denied.value.message == "You declared an interest in this item, so another chair must record its decision."
    assert _decide(engine, world.deputy, held.agenda_item_id, PLAN).excluded_user_ids == [world.chair.user_id]


def test_authorising_a_nosp_creates_the_planned_legal_remedy(engine: Engine, meeting_world: MeetingWorld) -> None:
    world = meeting_world
    held = meeting_with_case(engine, world, present=(world.council.member, world.legal.member))
    since = last_audit_id(engine)
    decision = _decide(
        engine, world.chair, held.agenda_item_id,
        DecisionInput("authorise_nosp", "Persistent breaches of tenancy; warnings ignored."),
    )  # fmt: skip
    with Session(engine) as session:
        intervention = session.get(Intervention, decision.intervention_id)
        assert intervention is not None
        assert (intervention.case_id, intervention.kind, intervention.status) == (
            held.case.id, "notice_of_seeking_possession", "planned",
        )  # fmt: skip
        panel = session.get(Panel, held.panel_id)
        assert panel is not None
        assert intervention.authorised_by == f"{panel.name}, 11 June 2030"
        words = session.get(InformationItem, decision.item_id)
        assert words is not None and words.owner_organisation_id == world.council.org.id
        assert {f["key"]: f["value"] for f in words.content}["decision"] == "Authorise a Notice of Seeking Possession"
        assert words.category == "housing"
    actions = [e.action for e in audit_events(engine, since=since)]
    assert "cases:intervention:recorded" in actions and actions[-1] == "panels:decision:recorded"


def test_the_remedy_a_panel_authorises_goes_through_the_remedies_service(
    engine: Engine, meeting_world: MeetingWorld
) -> None:
    world = meeting_world
    held = meeting_with_case(engine, world, present=(world.council.member, world.legal.member))
    tenant = make_person(engine, world.council.officer)
    with transaction(engine) as session:
        session.add(CaseParty(case_id=held.case.id, person_id=tenant.id, role="alleged_perpetrator",  # type: ignore[arg-type]
                              tenure="council_tenant"))  # fmt: skip
    since = last_audit_id(engine)
    # The deputy works for the police, not the council that leads the case: the panel authorises it.
    decision = _decide(
        engine, world.deputy, held.agenda_item_id,
        DecisionInput("authorise_notice_of_intention_demotion", "Demotion is proportionate."),
    )  # fmt: skip
    with Session(engine) as session:
        intervention = session.get(Intervention, decision.intervention_id)
        assert intervention is not None
        assert (intervention.subject_person_id, intervention.recorded_by_user_id, intervention.status) == (
            tenant.id, world.deputy.user_id, "planned",
        )  # fmt: skip
        case = session.get(Case, held.case.id)
        assert case is not None and case.stage == "legal_remedies"  # moved on, as for any legal remedy
        lines = session.exec(
            select(CaseEvent.summary).where(CaseEvent.case_id == held.case.id, CaseEvent.kind == "intervention")
        ).all()
    assert any(
        line.startswith("Notice of Intention to apply for a Demotion Order planned (authorised by") for line in lines
    )
    recorded = audit_events(engine, action="cases:intervention:recorded", since=since)
    assert [(e.actor_user_id, e.detail["status"]) for e in recorded] == [(world.deputy.user_id, "planned")]  # type: ignore[index]

    # Only the panel's chair or deputy, only the decision's own remedy, once.
    with pytest.raises(PermissionDenied), transaction(engine) as session:
        record_panel_remedy(session=session, actor=world.legal.member, decision_id=decision.id)  # type: ignore[arg-type]
    with pytest.raises(InvalidInput), transaction(engine) as session:
        record_panel_remedy(session=session, actor=world.chair, decision_id=decision.id)  # type: ignore[arg-type]
    other = meeting_with_case(engine, world, present=(world.council.member, world.legal.member))
    plan = _decide(engine, world.chair, other.agenda_item_id, PLAN)
    with pytest.raises(InvalidInput) as invalid, transaction(engine) as session:
        record_panel_remedy(session=session, actor=world.chair, decision_id=plan.id)  # type: ignore[arg-type]
    assert invalid.value.field_errors == {
        "decision_type": "That decision authorises no legal remedy, or it is already recorded."
    }


def test_a_notice_of_intention_and_restoring_a_tenancy(engine: Engine, meeting_world: MeetingWorld) -> None:
    world = meeting_world
    held = meeting_with_case(engine, world, present=(world.council.member, world.legal.member))
    decision = _decide(
        engine, world.chair, held.agenda_item_id,
        DecisionInput("authorise_notice_of_intention_demotion", "Demotion is proportionate."),
    )  # fmt: skip
    with Session(engine) as session:
        intervention = session.get(Intervention, decision.intervention_id)
        assert intervention is not None and intervention.kind == "notice_of_intention_demotion"
    other = meeting_with_case(engine, world, present=(world.council.member, world.legal.member))
    assert _refused(engine, world.chair, other.agenda_item_id, DecisionInput("restore_secure_tenancy", "Kept")) == {
        "conditions": "Set out the conditions."
    }
    restored = _decide(
        engine, world.chair, other.agenda_item_id,
        DecisionInput("restore_secure_tenancy", "Twelve months without breach.", conditions="No visitors after 11pm."),
    )  # fmt: skip
    assert restored.intervention_id is None and restored.conditions == "No visitors after 11pm."


def test_a_referral_to_housing_solutions_needs_the_tenants_consent(engine: Engine, meeting_world: MeetingWorld) -> None:
    world = meeting_world
    held = meeting_with_case(
        engine, world, decision_types=list(CCP_DECISION_TYPES), present=(world.council.member, world.legal.member)
    )
    data = DecisionInput("refer_housing_solutions", "At risk of homelessness if possession is sought.")
    message = (
        "A referral to Housing Solutions needs the tenant's consent: record a valid consent of a party of this "
        "case that covers Housing Solutions first."
    )
    assert _refused(engine, world.chair, held.agenda_item_id, data) == {"decision_type": message}
    tenant = make_person(engine, world.council.officer, given_name="Tenant")
    with transaction(engine) as session:
        session.add(CaseParty(case_id=held.case.id, person_id=tenant.id, role="alleged_perpetrator",  # type: ignore[arg-type]
                              tenure="council_tenant"))  # fmt: skip
    # Consent to the police only does not cover Housing Solutions.
    make_consent(engine, world.council.officer, tenant.id, types=[OrganisationType.POLICE])
    assert _refused(engine, world.chair, held.agenda_item_id, data) == {"decision_type": message}
    consent_id = make_consent(
        engine, world.council.officer, tenant.id, types=[OrganisationType.HOUSING_SOLUTIONS],
    )  # fmt: skip
    assert _decide(engine, world.chair, held.agenda_item_id, data).consent_record_id == consent_id


def _held_with_decision(engine: Engine, world: MeetingWorld) -> tuple[int, int, int]:
    held = meeting_with_case(engine, world, present=(world.council.member, world.legal.member, world.police.member))
    decision = _decide(
        engine, world.chair, held.agenda_item_id,
        DecisionInput("action_plan", "Joint visit and warning.", dissent="Police prefer a closure order.",
                      actions=[ActionInput(world.police.org.id, "Joint visit to the address", date(2030, 7, 1))]),
    )  # fmt: skip
    assert decision.id is not None
    return held.meeting_id, held.agenda_item_id, decision.id


def test_minutes_are_approved_only_with_every_action_owned_and_then_lock_the_decisions(
    engine: Engine, meeting_world: MeetingWorld
) -> None:
    world = meeting_world
    meeting_id, agenda_item_id, decision_id = _held_with_decision(engine, world)
    chair = world.chair
    with transaction(engine) as session:
        minutes = draft_minutes(session=session, actor=chair, meeting_id=meeting_id)
        content = minutes.content
    assert [a["name"] for a in content["attendance"]] and content["items"][0]["decision"]["label"] == (
        "Agree a multi-agency action plan"
    )
    assert content["items"][0]["actions"][0]["owner_user_id"] is None
    with transaction(engine) as session:
        circulate_minutes(session=session, actor=chair, meeting_id=meeting_id)
        comment_on_minutes(session=session, actor=world.police.member, meeting_id=meeting_id,
                           comment="Item 1: the visit is with the housing officer.")  # fmt: skip
    with pytest.raises(PermissionDenied) as denied, transaction(engine) as session:
        comment_on_minutes(session=session, actor=world.solutions.member, meeting_id=meeting_id, comment="x")
    assert denied.value.message == "Only people who attended the meeting can comment on its minutes."

    with pytest.raises(InvalidInput) as invalid, transaction(engine) as session:
        approve_minutes(session=session, actor=chair, meeting_id=meeting_id)
    assert invalid.value.field_errors == {"minutes": "Close the meeting before approving its minutes."}
    with transaction(engine) as session:
        close_meeting(session=session, actor=chair, meeting_id=meeting_id)
    with pytest.raises(InvalidInput) as invalid, transaction(engine) as session:
        approve_minutes(session=session, actor=chair, meeting_id=meeting_id)
    assert invalid.value.field_errors == {
        "actions": "Every action needs a named owner before the minutes are approved "
        "(item 1: Joint visit to the address)."
    }
    with Session(engine) as session:
        action = session.exec(select(DecisionAction).where(DecisionAction.decision_id == decision_id)).one()
    with pytest.raises(InvalidInput), transaction(engine) as session:
        assign_action_owner(session=session, actor=chair, decision_action_id=action.id,  # type: ignore[arg-type]
                            owner_user_id=world.council.member.user_id)  # type: ignore[arg-type]  # fmt: skip
    with transaction(engine) as session:
        assign_action_owner(session=session, actor=chair, decision_action_id=action.id,  # type: ignore[arg-type]
                            owner_user_id=world.police.member.user_id)  # type: ignore[arg-type]  # fmt: skip
    since = last_audit_id(engine)
    with transaction(engine) as session:
        approved = approve_minutes(session=session, actor=chair, meeting_id=meeting_id)
        assert approved.status == "approved"
        assert approved.content["items"][0]["actions"][0]["owner_name"] == "Panel Member"
    assert [e.action for e in audit_events(engine, subject_type="minutes", since=since)] == ["panels:minutes:approved"]

    # Locked: no redrafting, no new decisions, no reassigning; amendments only.
    with pytest.raises(MinutesLocked), transaction(engine) as session:
        draft_minutes(session=session, actor=chair, meeting_id=meeting_id)
    with pytest.raises(MinutesLocked) as locked:
        _decide(engine, chair, agenda_item_id, PLAN)
    assert locked.value.message.startswith("The minutes of this meeting are approved")
    with pytest.raises(InvalidInput) as invalid, transaction(engine) as session:
        amend_decision(session=session, actor=chair, decision_id=decision_id, field_name="rationale",
                       new_value="Joint visit, warning and a Community Protection Warning.", reason=" ")  # fmt: skip
    assert invalid.value.field_errors == {"reason": "Say why the decision is amended."}
    with transaction(engine) as session:
        amend_decision(session=session, actor=world.deputy, decision_id=decision_id, field_name="rationale",
                       new_value="Joint visit, warning and a Community Protection Warning.",
                       reason="The minutes left out the warning agreed.")  # fmt: skip
    with Session(engine) as session:
        (amendment,) = session.exec(select(DecisionAmendment).where(DecisionAmendment.decision_id == decision_id))
        assert (amendment.old_value, amendment.amended_by_user_id) == ("Joint visit and warning.", world.deputy.user_id)
        assert amendment.reason == "The minutes left out the warning agreed."
        decision = session.get(Decision, decision_id)
        assert decision is not None and decision.rationale.endswith("Community Protection Warning.")
        words = session.get(InformationItem, decision.item_id)
        assert words is not None
        values = {f["key"]: f["value"] for f in words.content}
        assert values["rationale"] == decision.rationale
        assert values["amendment_1"].startswith("Reasons amended on ")
        minutes_row = session.exec(select(Minutes).where(Minutes.meeting_id == meeting_id)).one()
        assert minutes_row.status == "approved"
    with pytest.raises(PermissionDenied), transaction(engine) as session:
        amend_decision(session=session, actor=world.police.member, decision_id=decision_id, field_name="dissent",
                       new_value="", reason="Mine")  # fmt: skip


def test_minutes_need_someone_present(engine: Engine, meeting_world: MeetingWorld) -> None:
    world = meeting_world
    held = meeting_with_case(engine, world)
    with transaction(engine) as session:
        close_meeting(session=session, actor=world.chair, meeting_id=held.meeting_id)
        draft_minutes(session=session, actor=world.chair, meeting_id=held.meeting_id)
    with pytest.raises(InvalidInput) as invalid, transaction(engine) as session:
        approve_minutes(session=session, actor=world.chair, meeting_id=held.meeting_id)
    assert invalid.value.field_errors == {
        "attendance": "No one is recorded as present, so the minutes cannot be approved."
    }
