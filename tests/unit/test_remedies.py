"""Interventions and legal remedies: what the law refuses (each refusal audited), planned and
served records, breaches and endings, the stage they move the case to, and who sees them."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from panels.case_models import Case, CaseEvent, CaseParty, Intervention, StageMove
from panels.remedies import (
    InterventionInput,
    InterventionRefused,
    InterventionUpdate,
    end_demotion,
    list_interventions,
    record_intervention,
    record_witnesses_alerted,
    update_intervention,
)
from panels.stages import WrongCaseStatus
from sharing.db import transaction, utcnow
from sharing.errors import InvalidInput, PermissionDenied
from sharing.models import Disclosure, DisclosureItem
from sharing.permissions import Actor
from sharing.vocabulary import WITHHELD, DataCategory, DisclosureStatus, LawfulBasis, Purpose
from tests.unit.case_helpers import CaseWorld, case_world, make_case
from tests.unit.helpers import audit_events, last_audit_id, load, update_row
from tests.unit.sharing_helpers import make_person

__all__ = ["case_world"]

TODAY = date(2029, 12, 31)  # the services' "today" unless a test says otherwise


# --- Helpers -------------------------------------------------------------------------------


def _party(engine: Engine, world: CaseWorld, case: Case, born: date | None = date(1990, 4, 2)) -> int:
    """A person on the case as alleged perpetrator."""
    person = make_person(engine, world.officer, date_of_birth=born)
    with transaction(engine) as session:
        assert case.id is not None
        session.add(CaseParty(case_id=case.id, person_id=person.id, role="alleged_perpetrator"))
    return person.id


def _record(engine: Engine, actor: Actor, case: Case, today: date = TODAY, **fields: object) -> Intervention:
    data = InterventionInput(kind=str(fields.pop("kind")))
    for key, value in fields.items():
        setattr(data, key, value)
    assert case.id is not None
    with transaction(engine) as session:
        row = record_intervention(session=session, actor=actor, case_id=case.id, data=data, today=today)
        session.refresh(row)
        session.expunge(row)
    return row


def _served(engine: Engine, world: CaseWorld, case: Case, kind: str, on: date, **fields: object) -> Intervention:
    return _record(engine, world.officer, case, kind=kind, status="served", served_on=on, **fields)


def _update(engine: Engine, actor: Actor, intervention_id: int | None, today: date = TODAY, **fields: object) -> None:
    assert intervention_id is not None
    change = InterventionUpdate(status=str(fields.pop("status")))
    for key, value in fields.items():
        setattr(change, key, value)
    with transaction(engine) as session:
        update_intervention(session=session, actor=actor, intervention_id=intervention_id, change=change, today=today)


def _refused(engine: Engine, world: CaseWorld, case: Case, message: str, **fields: object) -> None:
    """The attempt is refused with ``message``, recorded nothing but the audited refusal."""
    since = last_audit_id(engine)
    with Session(engine) as session:
        before = len(session.exec(select(Intervention.id).where(Intervention.case_id == case.id)).all())
    with pytest.raises(InterventionRefused) as error:
        _record(engine, world.officer, case, **fields)
    assert error.value.message == message
    [event] = audit_events(engine, since=since)
    assert (event.action, event.outcome, event.subject_type, event.subject_id) == (
        "cases:intervention:refused", "denied", "case", str(case.id),
    )  # fmt: skip
    assert event.reason == message
    assert event.detail == {"kind": fields["kind"]}
    with Session(engine) as session:
        after = len(session.exec(select(Intervention.id).where(Intervention.case_id == case.id)).all())
    assert after == before


def _lines(engine: Engine, case: Case, kind: str = "intervention") -> list[str]:
    with Session(engine) as session:
        rows = session.exec(
            select(CaseEvent).where(CaseEvent.case_id == case.id, CaseEvent.kind == kind).order_by(col(CaseEvent.id))
        ).all()
    return [row.summary for row in rows]


def _rated(engine: Engine, case: Case, rank: int, label: str) -> None:
    update_row(engine, Case, case.id, risk_rank=rank, risk_label=label, risk_level=label.lower())


# --- Recording -----------------------------------------------------------------------------


def test_an_intervention_is_recorded_with_its_review_and_moves_the_case_on(
    engine: Engine, case_world: CaseWorld
) -> None:
    case = make_case(engine, case_world.officer)
    person = _party(engine, case_world, case)
    since = last_audit_id(engine)
    row = _served(
        engine, case_world, case, "acceptable_behaviour_contract", date(2027, 11, 30),
        subject_person_id=person, details="Signed at the housing office",
    )  # fmt: skip
    assert (row.status, row.served_on, row.review_on) == ("served", date(2027, 11, 30), date(2028, 2, 29))
    assert row.recorded_by_user_id == case_world.officer.user_id
    after: Case = load(engine, Case, case.id)
    assert after.stage == "interventions"
    with Session(engine) as session:
        move = session.exec(select(StageMove).where(StageMove.case_id == case.id)).one()
    assert (move.from_stage, move.to_stage, move.reason) == (
        "enquiry", "interventions", "Intervention recorded: Acceptable Behaviour Contract",
    )  # fmt: skip
    assert _lines(engine, case) == [
        "Acceptable Behaviour Contract served on 30 November 2027; review on 29 February 2028"
    ]
    with Session(engine) as session:
        line = session.exec(
            select(CaseEvent).where(CaseEvent.case_id == case.id, CaseEvent.kind == "intervention")
        ).one()
    assert (line.item_id, line.subject_type, line.subject_id) == (case.summary_item_id, "intervention", row.id)
    [event] = audit_events(engine, since=since, action="cases:intervention:recorded")
    assert event.subject_id == str(row.id)
    assert event.detail == {
        "case": case.reference, "kind": "acceptable_behaviour_contract", "status": "served", "prior": None,
    }  # fmt: skip


def test_a_legal_remedy_moves_the_case_to_legal_remedies_and_never_back(engine: Engine, case_world: CaseWorld) -> None:
    case = make_case(engine, case_world.officer)
    person = _party(engine, case_world, case)
    _served(engine, case_world, case, "notice_of_seeking_possession", date(2027, 3, 1), subject_person_id=person)
    assert load(engine, Case, case.id).stage == "legal_remedies"
    _served(engine, case_world, case, "warning_letter", date(2027, 3, 2), subject_person_id=person)
    assert load(engine, Case, case.id).stage == "legal_remedies"
    with Session(engine) as session:
        moves = session.exec(select(StageMove).where(StageMove.case_id == case.id)).all()
    assert [(m.from_stage, m.to_stage, m.reason) for m in moves] == [
        ("enquiry", "legal_remedies", "Legal remedy recorded: Notice of Seeking Possession")
    ]


def test_a_panel_can_authorise_a_planned_notice_served_later(engine: Engine, case_world: CaseWorld) -> None:
    case = make_case(engine, case_world.officer)
    person = _party(engine, case_world, case)
    planned = _record(
        engine, case_world.officer, case, kind="notice_of_intention_demotion", subject_person_id=person,
        authorised_by="Tenancy Enforcement Panel, 9 June 2026",
    )  # fmt: skip
    assert (planned.status, planned.served_on, planned.review_request_by, planned.earliest_proceedings_on) == (
        "planned", None, None, None,
    )  # fmt: skip
    assert planned.authorised_by == "Tenancy Enforcement Panel, 9 June 2026"
    since = last_audit_id(engine)
    _update(engine, case_world.officer, planned.id, status="served", happened_on=date(2027, 3, 1), note="By hand")
    served: Intervention = load(engine, Intervention, planned.id)
    assert (served.status, served.served_on) == ("served", date(2027, 3, 1))
    assert (served.review_request_by, served.earliest_proceedings_on) == (date(2027, 3, 15), date(2027, 3, 29))
    assert served.details == "By hand"
    assert _lines(engine, case) == [
        "Notice of Intention to apply for a Demotion Order planned (authorised by Tenancy Enforcement Panel, "
        "9 June 2026)",
        "Notice of Intention to apply for a Demotion Order served on 1 March 2027; review may be requested until "
        "15 March 2027; proceedings from 29 March 2027",
    ]
    [event] = audit_events(engine, since=since, action="cases:intervention:updated")
    assert event.detail == {
        "kind": "notice_of_intention_demotion", "from": "planned", "to": "served", "on": "2027-03-01",
    }  # fmt: skip


@pytest.mark.parametrize(
    ("fields", "errors"),
    [
        ({"kind": "stern_word"}, {"kind": "Choose an intervention or legal remedy from the list."}),
        ({"kind": "mediation", "status": "ended"},
         {"status": "Record it as planned or served; record a breach, its end or withdrawal afterwards."}),
        ({"kind": "mediation", "status": "served"}, {"served_on": "Give the date it was served (or started)."}),
        ({"kind": "mediation", "served_on": date(2027, 1, 1)},
         {"served_on": "Leave the service date empty until it is served, or record it as served."}),
        ({"kind": "mediation", "status": "served", "served_on": date(2030, 1, 1)},
         {"served_on": "The service date cannot be in the future."}),
        ({"kind": "civil_injunction"}, {"subject_person_id": "Say who it is served on."}),
        ({"kind": "mediation", "details": "x" * 4001}, {"details": "Keep the details under 4,000 characters."}),
    ],
)  # fmt: skip
def test_an_intervention_needs_what_the_form_asks(
    engine: Engine, case_world: CaseWorld, fields: dict[str, object], errors: dict[str, str]
) -> None:
    case = make_case(engine, case_world.officer)
    with pytest.raises(InvalidInput) as error:
        _record(engine, case_world.officer, case, **fields)
    assert error.value.field_errors == errors


def test_the_person_must_be_on_the_case(engine: Engine, case_world: CaseWorld) -> None:
    case = make_case(engine, case_world.officer)
    stranger = make_person(engine, case_world.officer)
    with pytest.raises(InvalidInput) as error:
        _record(engine, case_world.officer, case, kind="warning_letter", subject_person_id=stranger.id)
    assert error.value.field_errors == {
        "subject_person_id": "Add this person to the case before recording an intervention about them."
    }


def test_only_the_lead_organisation_records_and_not_on_a_closed_case(engine: Engine, case_world: CaseWorld) -> None:
    case = make_case(engine, case_world.officer)
    with pytest.raises(PermissionDenied):
        _record(engine, case_world.police, case, kind="mediation")
    update_row(engine, Case, case.id, status="closed", stage="closure")
    with pytest.raises(WrongCaseStatus, match="This case is closed: reopen it before recording an intervention"):
        _record(engine, case_world.officer, case, kind="mediation")


# --- What the law refuses ------------------------------------------------------------------


def test_a_neighbourhood_resolution_panel_only_for_lower_risk_with_everyone_agreeing(
    engine: Engine, case_world: CaseWorld
) -> None:
    case = make_case(engine, case_world.officer)
    nrp = {"kind": "neighbourhood_resolution_panel", "all_parties_consent": True}
    _refused(
        engine, case_world, case,
        "Assess the risk first: a Neighbourhood Resolution Panel is only for Standard or Medium risk cases.", **nrp,
    )  # fmt: skip
    _rated(engine, case, 3, "High")
    _refused(
        engine, case_world, case,
        "A Neighbourhood Resolution Panel is only for Standard or Medium risk cases; this case is assessed High.",
        **nrp,
    )  # fmt: skip
    _rated(engine, case, 2, "Medium")
    _refused(
        engine, case_world, case,
        "Every party must agree to a Neighbourhood Resolution Panel: record that they all consent.",
        kind="neighbourhood_resolution_panel",
    )  # fmt: skip
    row = _record(engine, case_world.officer, case, **nrp)
    assert row.all_parties_consent is True
    _rated(engine, case, 1, "Standard")
    _record(engine, case_world.officer, case, **nrp)


def test_a_community_protection_notice_needs_a_warning_to_the_same_person(
    engine: Engine, case_world: CaseWorld
) -> None:
    case = make_case(engine, case_world.officer)
    person, other = _party(engine, case_world, case), _party(engine, case_world, case)
    message = "A Community Protection Notice needs a Community Protection Warning served on the same person first."
    cpn = {"kind": "community_protection_notice", "subject_person_id": person}
    _refused(engine, case_world, case, message, **cpn)
    _served(engine, case_world, case, "community_protection_warning", date(2027, 3, 1), subject_person_id=other)
    _refused(engine, case_world, case, message, **cpn)
    withdrawn = _served(
        engine, case_world, case, "community_protection_warning", date(2027, 3, 1), subject_person_id=person
    )
    _update(engine, case_world.officer, withdrawn.id, status="withdrawn", note="Served at the wrong address")
    _refused(engine, case_world, case, message, **cpn)
    # A warning served after the date of the notice is no warning for it.
    later = _served(
        engine, case_world, case, "community_protection_warning", date(2027, 4, 1), subject_person_id=person
    )
    _refused(engine, case_world, case, message, status="served", served_on=date(2027, 3, 20), **cpn)
    notice = _record(engine, case_world.officer, case, status="served", served_on=date(2027, 4, 20), **cpn)
    assert notice.prior_intervention_id == later.id
    assert notice.review_on == date(2027, 7, 20)


def test_a_community_protection_notice_only_on_someone_aged_16_or_over(engine: Engine, case_world: CaseWorld) -> None:
    case = make_case(engine, case_world.officer)
    unknown = _party(engine, case_world, case, born=None)
    young = _party(engine, case_world, case, born=date(2012, 2, 29))
    for person in (unknown, young):
        _served(engine, case_world, case, "community_protection_warning", date(2027, 3, 1), subject_person_id=person)
    cpn = {"kind": "community_protection_notice", "status": "served"}
    _refused(
        engine, case_world, case,
        "Record the person's date of birth: a Community Protection Notice can only be served on someone aged 16 "
        "or over", subject_person_id=unknown, served_on=date(2028, 3, 1), **cpn,
    )  # fmt: skip
    # Born on 29 February 2012: 15 on 28 February 2028, 16 on the 29th.
    _refused(
        engine, case_world, case,
        "A Community Protection Notice can only be served on someone aged 16 or over; this person is 15 on "
        "28 February 2028.", subject_person_id=young, served_on=date(2028, 2, 28), **cpn,
    )  # fmt: skip
    row = _record(engine, case_world.officer, case, subject_person_id=young, served_on=date(2028, 2, 29), **cpn)
    assert row.status == "served"


def test_a_planned_notice_is_checked_again_when_it_is_served(engine: Engine, case_world: CaseWorld) -> None:
    case = make_case(engine, case_world.officer)
    young = _party(engine, case_world, case, born=date(2012, 6, 1))
    _served(engine, case_world, case, "community_protection_warning", date(2027, 3, 1), subject_person_id=young)
    planned = _record(
        engine, case_world.officer, case, today=date(2028, 6, 1),
        kind="community_protection_notice", subject_person_id=young,
    )  # fmt: skip
    since = last_audit_id(engine)
    with pytest.raises(InterventionRefused, match="this person is 15 on 31 May 2028"):
        _update(engine, case_world.officer, planned.id, status="served", happened_on=date(2028, 5, 31))
    assert [e.action for e in audit_events(engine, since=since)] == ["cases:intervention:refused"]
    assert load(engine, Intervention, planned.id).status == "planned"
    _update(engine, case_world.officer, planned.id, status="served", happened_on=date(2028, 6, 1))
    assert load(engine, Intervention, planned.id).review_on == date(2028, 9, 1)


def test_a_demotion_order_needs_a_notice_of_intention_28_days_before(engine: Engine, case_world: CaseWorld) -> None:
    case = make_case(engine, case_world.officer)
    tenant = _party(engine, case_world, case)
    order = {"kind": "demotion_order", "subject_person_id": tenant, "status": "served"}
    _refused(
        engine, case_world, case,
        "A Demotion Order needs a Notice of Intention to apply for a Demotion Order served on this case first.",
        served_on=date(2027, 4, 1), **order,
    )  # fmt: skip
    notice = _served(
        engine, case_world, case, "notice_of_intention_demotion", date(2027, 3, 1), subject_person_id=tenant
    )
    _refused(
        engine, case_world, case,
        "Proceedings for a Demotion Order can start no sooner than 28 days after the Notice of Intention was "
        "served on 1 March 2027: not before 29 March 2027.", served_on=date(2027, 3, 28), **order,
    )  # fmt: skip
    row = _record(engine, case_world.officer, case, served_on=date(2027, 3, 29), **order)
    assert (row.prior_intervention_id, row.monitoring_ends_on) == (notice.id, date(2028, 3, 29))


def test_possession_needs_a_notice_of_seeking_possession_in_force_and_its_notice_period(
    engine: Engine, case_world: CaseWorld
) -> None:
    case = make_case(engine, case_world.officer)
    tenant = _party(engine, case_world, case)
    possession = {"kind": "possession", "subject_person_id": tenant, "status": "served"}
    missing = "Possession proceedings need a Notice of Seeking Possession in force on this case: serve one first."
    _refused(engine, case_world, case, missing, served_on=date(2027, 4, 1), **possession)
    withdrawn = _served(
        engine, case_world, case, "notice_of_seeking_possession", date(2027, 2, 1), subject_person_id=tenant
    )
    _update(engine, case_world.officer, withdrawn.id, status="withdrawn", note="Wrong notice period")
    _refused(engine, case_world, case, missing, served_on=date(2027, 4, 1), **possession)
    nosp = _served(engine, case_world, case, "notice_of_seeking_possession", date(2027, 3, 1), subject_person_id=tenant)
    _refused(
        engine, case_world, case,
        "Possession proceedings can start only after the 4-week notice period of the Notice of Seeking "
        "Possession: not before 29 March 2027.", served_on=date(2027, 3, 28), **possession,
    )  # fmt: skip
    _refused(
        engine, case_world, case,
        "The Notice of Seeking Possession served on 1 March 2027 expired on 1 March 2028: serve a new one before "
        "seeking possession.", served_on=date(2028, 3, 2), **possession,
    )  # fmt: skip
    row = _record(engine, case_world.officer, case, served_on=date(2028, 3, 1), **possession)
    assert row.prior_intervention_id == nosp.id
    row = _record(engine, case_world.officer, case, served_on=date(2027, 3, 29), **possession)
    assert row.prior_intervention_id == nosp.id


def test_a_closure_order_needs_a_closure_notice_and_lasts_no_longer_than_allowed(
    engine: Engine, case_world: CaseWorld
) -> None:
    case = make_case(engine, case_world.officer)
    order = {"kind": "closure_order", "status": "served", "served_on": date(2027, 3, 3)}
    _refused(engine, case_world, case, "A closure order needs a closure notice served on this case first.", **order)
    notice = _served(engine, case_world, case, "closure_notice", date(2027, 3, 1))
    assert notice.expires_on == date(2027, 3, 3)
    _refused(
        engine, case_world, case, "A closure order can last at most 6 months: it must end by 3 September 2027.",
        ends_on=date(2027, 9, 4), **order,
    )  # fmt: skip
    _refused(
        engine,
        case_world,
        case,
        "A closure order must end after the day it is made.",
        ends_on=date(2027, 3, 3),
        **order,
    )
    three_months = _record(engine, case_world.officer, case, ends_on=date(2027, 6, 3), **order)
    assert (three_months.prior_intervention_id, three_months.expires_on) == (notice.id, date(2027, 6, 3))
    longest = _record(engine, case_world.officer, case, **order)
    assert longest.expires_on == date(2027, 9, 3)


# --- Breaches and endings ------------------------------------------------------------------


def test_breached_then_ended_with_notes(engine: Engine, case_world: CaseWorld) -> None:
    case = make_case(engine, case_world.officer)
    person = _party(engine, case_world, case)
    row = _served(engine, case_world, case, "civil_injunction", date(2027, 3, 1), subject_person_id=person)
    with pytest.raises(InvalidInput) as error:
        _update(engine, case_world.officer, row.id, status="breached")
    assert error.value.field_errors == {"note": "Say how it was breached."}
    _update(engine, case_world.officer, row.id, status="breached", happened_on=date(2027, 5, 2), note="Came back")
    breached: Intervention = load(engine, Intervention, row.id)
    assert (breached.status, breached.outcome) == ("breached", "Breached on 2 May 2027: Came back")
    with pytest.raises(InvalidInput) as error:
        _update(engine, case_world.officer, row.id, status="ended", happened_on=date(2027, 2, 1), note="Discharged")
    assert error.value.field_errors == {"happened_on": "The date is before it was served."}
    _update(engine, case_world.officer, row.id, status="ended", happened_on=date(2027, 9, 1), note="Discharged")
    ended: Intervention = load(engine, Intervention, row.id)
    assert (ended.status, ended.ended_on) == ("ended", date(2027, 9, 1))
    assert ended.outcome == "Breached on 2 May 2027: Came back\nDischarged"
    assert _lines(engine, case)[1:] == [
        "Civil injunction breached on 2 May 2027",
        "Civil injunction ended on 1 September 2027",
    ]
    with pytest.raises(InvalidInput) as error:
        _update(engine, case_world.officer, row.id, status="breached", note="Again")
    assert error.value.field_errors == {"status": "A Civil injunction that is ended cannot be marked breached."}


@pytest.mark.parametrize(
    ("fields", "errors"),
    [
        ({"status": "expired"}, {"status": "Choose served, breached, ended or withdrawn."}),
        ({"status": "ended", "note": "Done"}, {"status": "A Mediation that is planned cannot be marked ended."}),
        ({"status": "served"}, {"happened_on": "Give the date it was served (or started)."}),
        ({"status": "withdrawn"}, {"note": "Say why it was withdrawn."}),
        ({"status": "served", "happened_on": date(2030, 1, 1)}, {"happened_on": "The date cannot be in the future."}),
    ],
)
def test_updates_that_are_refused(
    engine: Engine, case_world: CaseWorld, fields: dict[str, object], errors: dict[str, str]
) -> None:
    case = make_case(engine, case_world.officer)
    planned = _record(engine, case_world.officer, case, kind="mediation")
    with pytest.raises(InvalidInput) as error:
        _update(engine, case_world.officer, planned.id, **fields)
    assert error.value.field_errors == errors
    assert load(engine, Intervention, planned.id).status == "planned"


def test_a_partner_cannot_update_an_intervention(engine: Engine, case_world: CaseWorld) -> None:
    case = make_case(engine, case_world.officer)
    planned = _record(engine, case_world.officer, case, kind="mediation")
    with pytest.raises(PermissionDenied):
        _update(engine, case_world.police, planned.id, status="withdrawn", note="Not needed")


def test_a_demotion_order_ends_in_a_secure_tenancy_after_its_monitoring_or_in_possession(
    engine: Engine, case_world: CaseWorld
) -> None:
    case = make_case(engine, case_world.officer)
    tenant = _party(engine, case_world, case)
    _served(engine, case_world, case, "notice_of_intention_demotion", date(2027, 3, 1), subject_person_id=tenant)
    order = _served(engine, case_world, case, "demotion_order", date(2027, 4, 30), subject_person_id=tenant)
    assert order.monitoring_ends_on == date(2028, 4, 30)
    assert order.id is not None

    def end(outcome: str, ended_on: date, note: str = "") -> None:
        assert order.id is not None
        with transaction(engine) as session:
            end_demotion(
                session=session, actor=case_world.officer, intervention_id=order.id, outcome=outcome,
                ended_on=ended_on, note=note, today=TODAY,
            )  # fmt: skip

    with pytest.raises(InvalidInput) as error:
        _update(engine, case_world.officer, order.id, status="ended", note="Done")
    assert error.value.field_errors == {
        "status": "A Demotion Order ends by restoring the secure tenancy or seeking possession."
    }
    with pytest.raises(InvalidInput) as error:
        end("eviction", date(2028, 5, 1))
    assert error.value.field_errors == {
        "outcome": "Choose whether the secure tenancy was restored or possession sought."
    }
    since = last_audit_id(engine)
    with pytest.raises(InterventionRefused) as refused:
        end("restored_to_secure", date(2028, 4, 29))
    assert (
        refused.value.message
        == "A demoted tenancy becomes secure again only when the monitoring ends, on 30 April 2028."
    )
    assert [e.action for e in audit_events(engine, since=since)] == ["cases:intervention:refused"]
    end("restored_to_secure", date(2028, 4, 30), "No further incidents")
    ended: Intervention = load(engine, Intervention, order.id)
    assert (ended.status, ended.ended_on, ended.outcome) == (
        "ended", date(2028, 4, 30), "Secure tenancy restored: No further incidents",
    )  # fmt: skip
    assert _lines(engine, case)[-1] == "Demotion Order ended on 30 April 2028: Secure tenancy restored"
    [event] = audit_events(engine, since=since, action="cases:intervention:updated")
    assert event.detail["demotion_outcome"] == "restored_to_secure"
    with pytest.raises(InvalidInput) as error:
        end("possession", date(2028, 5, 1))
    assert error.value.field_errors == {"status": "Only a Demotion Order in force can end this way."}

    # Possession may be sought during the monitoring.
    second = _served(engine, case_world, case, "demotion_order", date(2027, 5, 1), subject_person_id=tenant)
    assert second.id is not None
    with transaction(engine) as session:
        end_demotion(
            session=session, actor=case_world.officer, intervention_id=second.id, outcome="possession",
            ended_on=date(2027, 8, 1), today=TODAY,
        )  # fmt: skip
    assert load(engine, Intervention, second.id).outcome == "Possession sought"


def test_only_a_demotion_order_ends_as_one(engine: Engine, case_world: CaseWorld) -> None:
    case = make_case(engine, case_world.officer)
    row = _served(engine, case_world, case, "mediation", date(2027, 3, 1))
    assert row.id is not None
    with pytest.raises(InvalidInput) as error, transaction(engine) as session:
        end_demotion(session=session, actor=case_world.officer, intervention_id=row.id, outcome="possession")
    assert error.value.field_errors == {"intervention_id": "Only a Demotion Order ends this way."}


def test_witnesses_alerted_about_an_expiring_notice(engine: Engine, case_world: CaseWorld) -> None:
    case = make_case(engine, case_world.officer)
    tenant = _party(engine, case_world, case)
    nosp = _served(engine, case_world, case, "notice_of_seeking_possession", date(2027, 3, 3), subject_person_id=tenant)
    assert nosp.id is not None
    since = last_audit_id(engine)
    alerted_at = utcnow()
    with transaction(engine) as session:
        record_witnesses_alerted(session=session, actor=case_world.officer, intervention_id=nosp.id, now=alerted_at)
    assert load(engine, Intervention, nosp.id).witnesses_alerted_at == alerted_at
    assert _lines(engine, case)[-1] == "Witnesses told the Notice of Seeking Possession expires on 3 March 2028"
    [event] = audit_events(engine, since=since, action="cases:intervention:updated")
    assert event.detail["witnesses_alerted"] == alerted_at.isoformat()
    with transaction(engine) as session:
        [read] = list_interventions(session=session, actor=case_world.officer, case_id=case.id, today=date(2028, 2, 20))
    assert read.alerts == ("Notice of Seeking Possession expires on 3 March 2028 (witnesses alerted)",)
    planned = _record(engine, case_world.officer, case, kind="notice_of_seeking_possession", subject_person_id=tenant)
    assert planned.id is not None
    with pytest.raises(InvalidInput) as error, transaction(engine) as session:
        record_witnesses_alerted(session=session, actor=case_world.officer, intervention_id=planned.id)
    assert error.value.field_errors == {"intervention_id": "Witnesses are alerted only about an intervention in force."}


# --- Who sees them -------------------------------------------------------------------------


def _share_summary(engine: Engine, world: CaseWorld, case: Case) -> None:
    with transaction(engine) as session:
        disclosure = Disclosure(
            status=DisclosureStatus.ACTIVE, discloser_organisation_id=world.council_id,
            recipient_organisation_id=world.police_id, purpose=Purpose.ASB_CASE_MANAGEMENT,
            basis=LawfulBasis.CRIME_AND_DISORDER_S115, categories=[DataCategory.ASB_HISTORY],
            decided_at=utcnow(),
        )  # fmt: skip
        session.add(disclosure)
        session.flush()
        assert disclosure.id is not None and case.summary_item_id is not None
        session.add(DisclosureItem(disclosure_id=disclosure.id, item_id=case.summary_item_id))


def test_the_lead_sees_everything_with_the_alerts(engine: Engine, case_world: CaseWorld) -> None:
    case = make_case(engine, case_world.officer)
    tenant = _party(engine, case_world, case)
    _served(
        engine, case_world, case, "notice_of_seeking_possession", date(2027, 3, 3), subject_person_id=tenant,
        details="Rent arrears and ASB grounds",
    )  # fmt: skip
    _record(engine, case_world.officer, case, kind="mediation", authorised_by="Case review meeting")
    with transaction(engine) as session:
        reads = list_interventions(session=session, actor=case_world.officer, case_id=case.id, today=date(2028, 2, 2))
    assert [r.kind_label for r in reads] == ["Notice of Seeking Possession", "Mediation"]
    nosp, mediation = reads
    assert (nosp.subject_person_id, nosp.details, nosp.is_legal_remedy) == (
        tenant,
        "Rent arrears and ASB grounds",
        True,
    )
    assert (nosp.expires_on, nosp.nosp_warning_on, nosp.earliest_proceedings_on) == (
        date(2028, 3, 3), date(2028, 2, 2), date(2027, 3, 31),
    )  # fmt: skip
    assert nosp.alerts == ("Notice of Seeking Possession expires on 3 March 2028: alert witnesses if appropriate",)
    assert (mediation.status_label, mediation.authorised_by, mediation.alerts) == ("Planned", "Case review meeting", ())


def test_partners_see_interventions_only_through_the_shared_summary(engine: Engine, case_world: CaseWorld) -> None:
    case = make_case(engine, case_world.officer)
    tenant = _party(engine, case_world, case)
    row = _served(
        engine, case_world, case, "civil_injunction", date(2027, 3, 1), subject_person_id=tenant,
        details="Exclusion zone around Example Road",
    )  # fmt: skip
    _update(engine, case_world.officer, row.id, status="breached", happened_on=date(2027, 4, 1), note="Seen at no. 12")
    since = last_audit_id(engine)
    with pytest.raises(PermissionDenied), transaction(engine) as session:
        list_interventions(session=session, actor=case_world.police, case_id=case.id)
    assert "sharing:item:read_denied" in [e.action for e in audit_events(engine, since=since)]
    _share_summary(engine, case_world, case)
    with transaction(engine) as session:
        [seen] = list_interventions(session=session, actor=case_world.police, case_id=case.id, today=date(2027, 6, 2))
    assert (seen.kind, seen.status, seen.served_on) == ("civil_injunction", "breached", date(2027, 3, 1))
    assert (seen.subject_person_id, seen.details, seen.outcome) == (None, WITHHELD, WITHHELD)
    assert seen.alerts == ("Civil injunction review overdue since 1 June 2027",)


def test_an_agreement_rests_on_no_earlier_step_and_gets_a_review_date(engine: Engine, case_world: CaseWorld) -> None:
    case = make_case(engine, case_world.officer)
    row = _served(engine, case_world, case, "good_neighbour_agreement", date(2027, 3, 1))
    assert (row.prior_intervention_id, row.expires_on, row.review_on) == (None, None, date(2027, 6, 1))
    assert _lines(engine, case) == ["Good Neighbour Agreement served on 1 March 2027; review on 1 June 2027"]
