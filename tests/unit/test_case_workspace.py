"""The case page's read model: the lead organisation sees the whole case with its working facts
and the choices its forms offer; a partner sees only what was shared, its header taken from
the shared summary; a partner the case was not shared with is refused, and the refusal kept."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from panels.case_models import Case
from panels.case_workspace import CaseWorkspace, get_case_workspace, party_people
from panels.incidents import IncidentInput, record_incident
from panels.parties import PartyInput, add_party
from panels.risk import FirstContactStatus, assess_risk, first_report_received_at
from panels.stages import request_closure
from panels.working_days import working_day_deadline
from sharing.db import transaction, utcnow
from sharing.errors import PermissionDenied
from sharing.models import AccessLog
from sharing.permissions import Actor
from sharing.reads import NOT_SHARED
from tests.unit.case_helpers import make_case
from tests.unit.case_partners import Partnership, partnership, share_with_police
from tests.unit.helpers import audit_events, last_audit_id
from tests.unit.sharing_helpers import make_person

__all__ = ["partnership"]

HIGH = {
    "type": "threats",
    "duration": "over_six_months",
    "frequency": "daily",
    "impact": "severe",
    "vulnerability": "none",
}


def workspace(engine: Engine, actor: Actor, case_id: int, now: datetime | None = None) -> CaseWorkspace:
    with transaction(engine) as session:
        return get_case_workspace(session=session, actor=actor, case_id=case_id, now=now)


def high_risk_case(engine: Engine, p: Partnership, now: datetime) -> Case:
    case = make_case(engine, p.council.officer)
    assert case.id is not None
    with transaction(engine) as session:
        assess_risk(session=session, actor=p.council.officer, case_id=case.id, answers=HIGH, now=now)
    return case


def add_incidents(engine: Engine, actor: Actor, case_id: int, now: datetime, count: int) -> None:
    for n in range(count):
        with transaction(engine) as session:
            record_incident(
                session=session, actor=actor, case_id=case_id, now=now,
                data=IncidentInput(occurred_at=now - timedelta(days=n + 1), what_happened=f"Shouting, night {n + 1}",
                                   reported_by_name="Rita Reporter"),
            )  # fmt: skip


def test_the_lead_sees_the_header_the_questionnaire_and_its_people(engine: Engine, partnership: Partnership) -> None:
    p = partnership
    now = utcnow()
    case = high_risk_case(engine, p, now)
    assert case.id is not None
    victim = make_person(engine, p.council.officer, given_name="Vera")
    with transaction(engine) as session:
        add_party(
            session=session, actor=p.council.officer, case_id=case.id,
            data=PartyInput(person_id=victim.id, role="victim", tenure="council_tenant"),
        )  # fmt: skip
        stored = session.get(Case, case.id)
        assert stored is not None
        due = working_day_deadline(first_report_received_at(session, stored), 1)

    ws = workspace(engine, p.council.officer, case.id, now)

    assert ws.is_lead and ws.can_manage and ws.can_record_incidents and ws.can_manage_case_review
    assert not ws.can_approve_closure  # a lead officer is not a team manager
    h = ws.header
    assert (h.status, h.stage, h.risk_label) == ("open", "enquiry", "High (score 36)")
    assert (h.risk_rank, h.top_rank) == (3, 3)
    assert h.first_contact_due_at == due
    assert h.first_contact_status == FirstContactStatus.DUE
    assert not h.case_review_met and h.case_review_reasons == ()
    assert ws.scheme is not None and [q.key for q in ws.scheme.questions] == list(HIGH)
    assert ws.lead_suggestion is not None and ws.lead_suggestion.lead == "ASB Officer"
    assert victim.id in {person.person_id for person in ws.people}
    assert victim.name in {person.name for person in ws.people}
    assert [a.view.fields[1].value for a in ws.assessments] == ["High"]
    assert ws.case_review is not None and not ws.case_review.met
    assert ws.closure is not None and not ws.closure.requested
    assert [party.name for party in ws.page.parties] == [victim.name]


def test_the_case_review_flag_shows_with_its_reasons_once_met(engine: Engine, partnership: Partnership) -> None:
    p = partnership
    now = utcnow()
    case = high_risk_case(engine, p, now)
    assert case.id is not None
    add_incidents(engine, p.council.officer, case.id, now, 2)
    assert not workspace(engine, p.council.officer, case.id, now).header.case_review_met

    add_incidents(engine, p.council.officer, case.id, now, 1)
    ws = workspace(engine, p.council.officer, case.id, now)

    assert ws.header.case_review_met
    assert len(ws.header.case_review_reasons) == 1
    assert ws.header.case_review_reasons[0].startswith("3 incidents between")
    assert ws.header.case_review_reasons[0].endswith("threshold met")
    assert len(ws.incidents) == 3


def test_a_partner_the_case_was_not_shared_with_is_refused_and_the_refusal_kept(
    engine: Engine, partnership: Partnership
) -> None:
    p = partnership
    case = high_risk_case(engine, p, utcnow())
    assert case.id is not None
    since = last_audit_id(engine)

    with pytest.raises(PermissionDenied) as refusal:
        workspace(engine, p.police.member, case.id)

    assert refusal.value.message == NOT_SHARED
    assert "sharing:item:read_denied" in [e.action for e in audit_events(engine, since=since)]


def test_a_partner_sees_the_shared_summary_and_none_of_the_leads_working_facts(
    engine: Engine, partnership: Partnership
) -> None:
    p = partnership
    now = utcnow()
    case = high_risk_case(engine, p, now)
    assert case.id is not None and case.summary_item_id is not None
    add_incidents(engine, p.council.officer, case.id, now, 3)
    share_with_police(engine, p, [case.summary_item_id])

    ws = workspace(engine, p.police.member, case.id, now)
    lead = workspace(engine, p.council.officer, case.id, now)

    assert not ws.is_lead and not ws.can_manage and not ws.can_approve_closure and not ws.can_manage_case_review
    assert ws.can_record_incidents  # partners may add to the diary of a case shared with them
    h = ws.header
    assert (h.status_label, h.stage_label, h.risk_label) == (
        "Open",
        "1 Initial enquiry and assessment",
        "High (score 36)",
    )
    assert h.first_contact_due_at == lead.header.first_contact_due_at
    assert h.first_contact_status == "" and h.risk_rank == 0
    assert not h.case_review_met and h.alerts == ()
    assert ws.scheme is None and ws.lead_suggestion is None and ws.case_review is None and ws.closure is None
    assert ws.people == () and ws.applications == ()
    assert ws.incidents == () and ws.assessments == ()  # only the summary was shared
    with Session(engine) as session:
        vias = set(
            session.exec(
                select(AccessLog.via).where(
                    AccessLog.user_id == p.police.member.user_id, col(AccessLog.item_id) == case.summary_item_id
                )
            )
        )
    assert {"case page", "interventions"} <= vias


def test_the_closure_request_shows_who_asked(engine: Engine, partnership: Partnership) -> None:
    p = partnership
    case = make_case(engine, p.council.officer)
    assert case.id is not None
    with transaction(engine) as session:
        request_closure(session=session, actor=p.council.officer, case_id=case.id, reason="resolved", note="Quiet now")

    officer_view = workspace(engine, p.council.officer, case.id)
    manager_view = workspace(engine, p.manager, case.id)

    assert manager_view.can_approve_closure
    assert manager_view.closure is not None and officer_view.closure is not None
    assert manager_view.closure.requested
    assert manager_view.closure.reason_label == "Resolved: the behaviour has stopped"
    assert (manager_view.closure.note, manager_view.closure.requested_by) == ("Quiet now", "Lead Officer")
    assert not manager_view.closure.requested_by_reader
    assert officer_view.closure.requested_by_reader
    assert manager_view.header.status_label == "Closure awaiting approval"


def test_a_person_in_two_parts_is_offered_once_as_a_subject(engine: Engine, partnership: Partnership) -> None:
    p = partnership
    case = make_case(engine, p.council.officer)
    assert case.id is not None
    person = make_person(engine, p.council.officer)
    with transaction(engine) as session:
        for role in ("victim", "witness"):
            add_party(
                session=session, actor=p.council.officer, case_id=case.id,
                data=PartyInput(person_id=person.id, role=role),
            )  # fmt: skip

    ws = workspace(engine, p.council.officer, case.id)

    assert len(ws.page.parties) == 2
    assert [(party.person_id, party.role) for party in party_people(ws.page)] == [(person.id, "victim")]
