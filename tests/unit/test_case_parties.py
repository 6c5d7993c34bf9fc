"""The people in a case, who should lead it (Cambridge's allocation table, for any risk
scheme), and passing the lead to another officer or organisation."""

from __future__ import annotations

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from panels.case_models import Case, CaseEvent, CaseParty
from panels.cases import NOT_YOUR_CASE, read_case
from panels.parties import (
    MANAGER_ALLOCATES,
    NOT_LEAD_OR_MANAGER,
    LeadSuggestion,
    PartyInput,
    add_party,
    allocate_lead,
    lead_for,
    suggest_lead,
)
from panels.policy import CAMBRIDGE_SCHEME, WELWYN_SCHEME
from panels.vocabulary import Tenure
from sharing.db import transaction
from sharing.errors import InvalidInput, PermissionDenied
from sharing.models import InformationItem, OrganisationType, Role
from sharing.permissions import Actor
from tests.unit.case_helpers import make_case
from tests.unit.case_partners import Partnership, partnership, set_case
from tests.unit.helpers import audit_events, last_audit_id, load
from tests.unit.sharing_helpers import make_actor, make_agency, make_agreement, make_person

__all__ = ["partnership"]


def add(engine: Engine, actor: Actor, case_id: int | None, data: PartyInput) -> CaseParty:
    assert case_id is not None
    with transaction(engine) as session:
        return add_party(session=session, actor=actor, case_id=case_id, data=data)


# --- Parties --------------------------------------------------------------------------------


def test_a_person_on_record_is_linked_with_tenure_vulnerability_and_support(
    engine: Engine, partnership: Partnership
) -> None:
    officer = partnership.council.officer
    case = make_case(engine, officer)
    person = make_person(engine, officer)
    since = last_audit_id(engine)
    party = add(
        engine, officer, case.id,
        PartyInput(person_id=person.id, role="victim", tenure="council_tenant", landlord=" Eastbrook Council ",
                   vulnerability="Lives alone; hearing impaired.",
                   support_services=[" Adult social care ", "", "Victim Support", "Adult social care"]),
    )  # fmt: skip
    assert (party.role, party.tenure, party.landlord) == ("victim", "council_tenant", "Eastbrook Council")
    assert party.support_services == ["Adult social care", "Victim Support"]
    assert party.added_by_user_id == officer.user_id
    with Session(engine) as session:
        event = session.exec(
            select(CaseEvent).where(CaseEvent.case_id == case.id, CaseEvent.kind == "party_added")
        ).one()
    # Tied to the person's details: partners see the line only if those were shared.
    assert event.item_id == person.details_item_id
    assert event.summary == "Victim added to the case (council tenant)"
    assert person.name not in event.summary
    added = audit_events(engine, since=since, action="cases:party:added")
    assert [(e.subject_type, e.subject_id, e.detail["person_id"], e.detail["role"]) for e in added] == [
        ("case", str(case.id), person.id, "victim")
    ]


def test_a_person_not_on_record_cannot_be_linked(engine: Engine, partnership: Partnership) -> None:
    case = make_case(engine, partnership.council.officer)
    with pytest.raises(InvalidInput) as error:
        add(engine, partnership.council.officer, case.id, PartyInput(person_id=999_999_999, role="witness"))
    assert error.value.field_errors == {"person_id": "That person is not on record. Add them to the record first."}


def test_only_the_lead_organisation_links_people(engine: Engine, partnership: Partnership) -> None:
    case = make_case(engine, partnership.council.officer)
    person = make_person(engine, partnership.police.officer)
    since = last_audit_id(engine)
    with pytest.raises(PermissionDenied) as error:
        add(engine, partnership.police.officer, case.id, PartyInput(person_id=person.id, role="witness"))
    assert error.value.message == NOT_YOUR_CASE
    denied = audit_events(engine, since=since, action="access:permission:denied")
    assert [(e.subject_type, e.subject_id, e.reason) for e in denied] == [
        ("case", str(case.id), "not the lead organisation")
    ]
    with Session(engine) as session:
        assert session.exec(select(CaseParty).where(CaseParty.case_id == case.id)).all() == []


def test_a_panel_member_cannot_link_people(engine: Engine, partnership: Partnership) -> None:
    case = make_case(engine, partnership.council.officer)
    person = make_person(engine, partnership.council.officer)
    with pytest.raises(PermissionDenied):
        add(engine, partnership.council.member, case.id, PartyInput(person_id=person.id, role="witness"))


def test_the_same_part_twice_is_refused_but_another_part_is_not(engine: Engine, partnership: Partnership) -> None:
    officer = partnership.council.officer
    case = make_case(engine, officer)
    person = make_person(engine, officer)
    add(engine, officer, case.id, PartyInput(person_id=person.id, role="witness"))
    with pytest.raises(InvalidInput) as error:
        add(engine, officer, case.id, PartyInput(person_id=person.id, role="witness"))
    assert error.value.field_errors == {"role": "This person is already recorded as witness on this case."}
    add(engine, officer, case.id, PartyInput(person_id=person.id, role="household_member"))


def test_role_and_tenure_come_from_the_lists(engine: Engine, partnership: Partnership) -> None:
    officer = partnership.council.officer
    case = make_case(engine, officer)
    person = make_person(engine, officer)
    with pytest.raises(InvalidInput) as error:
        add(engine, officer, case.id, PartyInput(person_id=person.id, role="bystander", tenure="squatter"))
    assert error.value.field_errors == {
        "role": "Choose the person's part in the case (victim, witness, alleged perpetrator...).",
        "tenure": "Choose the person's tenure (or 'Not known').",
    }


# --- Lead suggestion: every tenure at every risk level ---------------------------------------

HOUSING_OFFICER = ("Housing Officer", OrganisationType.COUNCIL_HOUSING, False)
ASB_OFFICER = ("ASB Officer", OrganisationType.COUNCIL_ASB_TEAM, False)
EXPECTED: dict[Tenure | None, dict[str, tuple[str, OrganisationType | None, bool]]] = {
    Tenure.COUNCIL_TENANT: {"standard": HOUSING_OFFICER, "medium": ASB_OFFICER, "high": ASB_OFFICER},
    **{
        tenure: dict.fromkeys(("standard", "medium", "high"), (MANAGER_ALLOCATES, org_type, True))
        for tenure, org_type in [
            (Tenure.HOUSING_ASSOCIATION_TENANT, OrganisationType.HOUSING_ASSOCIATION),
            (Tenure.LEASEHOLDER, None),
            (Tenure.OWNER_OCCUPIER, None),
            (Tenure.PRIVATE_TENANT, None),
            (Tenure.TEMPORARY_ACCOMMODATION, OrganisationType.HOUSING_SOLUTIONS),
            (Tenure.NOT_KNOWN, None),
            (None, None),  # street-based: the wider community
        ]
    },
}


@pytest.mark.parametrize("level", ["standard", "medium", "high"])
@pytest.mark.parametrize("tenure", [*Tenure, None])
def test_the_allocation_table(engine: Engine, partnership: Partnership, tenure: Tenure | None, level: str) -> None:
    with transaction(engine) as session:
        found = suggest_lead(session=session, actor=partnership.council.officer, tenure=tenure, risk_level=level)
    assert (found.lead, found.organisation_type, found.manager_allocates) == EXPECTED[tenure][level]
    assert found.risk_label == level.capitalize()
    assert found.risk_is_standard == (level == "standard")
    assert found.tenure == (str(tenure) if tenure else "")
    assert found.explanation


def test_every_tenure_is_in_the_table() -> None:
    assert set(EXPECTED) == {*Tenure, None}


def test_the_explanations_follow_the_procedure() -> None:
    def explain(tenure: Tenure | None, rank: int, landlord: str = "") -> LeadSuggestion:
        return lead_for(tenure, risk_rank=rank, scheme=CAMBRIDGE_SCHEME, landlord=landlord)

    assert explain(Tenure.COUNCIL_TENANT, 1).explanation == (
        "A dispute involving a council tenant at standard risk is led by the Housing Officer for the tenancy."
    )
    assert explain(Tenure.COUNCIL_TENANT, 3).explanation == (
        "A dispute involving a council tenant at high risk is referred to an ASB Officer in the council's ASB team."
    )
    landlord = explain(Tenure.HOUSING_ASSOCIATION_TENANT, 2, "Riverside Homes")
    assert "including the landlord (Riverside Homes)" in landlord.explanation
    assert landlord.landlord == "Riverside Homes"
    assert explain(None, 1).tenure_label == "Street-based (the wider community)"
    assert "wider community" in explain(None, 1).explanation


def test_standard_is_the_lowest_level_of_any_scheme() -> None:
    # Welwyn: Priority 4 is the lowest level, so it is "standard"; Priority 3 is not.
    p4 = lead_for(Tenure.COUNCIL_TENANT, risk_rank=WELWYN_SCHEME.level("p4").rank, scheme=WELWYN_SCHEME)
    p3 = lead_for(Tenure.COUNCIL_TENANT, risk_rank=WELWYN_SCHEME.level("p3").rank, scheme=WELWYN_SCHEME)
    assert (p4.lead, p4.risk_label) == ("Housing Officer", "Priority 4")
    assert (p3.lead, p3.risk_label) == ("ASB Officer", "Priority 3")


def test_a_case_not_yet_assessed_is_treated_as_standard() -> None:
    found = lead_for(Tenure.COUNCIL_TENANT, risk_rank=0, scheme=CAMBRIDGE_SCHEME)
    assert (found.lead, found.risk_label, found.risk_is_standard) == ("Housing Officer", "Not assessed", True)
    assert found.explanation.endswith("treated as standard until it is.")


def test_an_unknown_risk_level_is_refused(engine: Engine, partnership: Partnership) -> None:
    with pytest.raises(InvalidInput) as error, transaction(engine) as session:
        suggest_lead(session=session, actor=partnership.council.officer, tenure=None, risk_level="p2")
    assert error.value.field_errors == {
        "risk_level": "Choose a risk level of the High / Medium / Standard (Cambridge) scheme."
    }


def test_a_cases_suggestion_comes_from_its_parties_and_risk(engine: Engine, partnership: Partnership) -> None:
    officer = partnership.council.officer
    case = make_case(engine, officer)

    def suggest() -> LeadSuggestion:
        with transaction(engine) as session:
            return suggest_lead(session=session, actor=officer, case_id=case.id)

    assert suggest().tenure == ""  # nobody linked yet: street-based
    owner = make_person(engine, officer)
    add(engine, officer, case.id, PartyInput(person_id=owner.id, role="witness", tenure="owner_occupier"))
    assert suggest().tenure == "owner_occupier"
    tenant = make_person(engine, officer)
    add(engine, officer, case.id, PartyInput(person_id=tenant.id, role="alleged_perpetrator", tenure="council_tenant"))
    assert (suggest().tenure, suggest().lead) == ("council_tenant", "Housing Officer")  # not assessed: standard
    set_case(engine, case.id, risk_scheme="cambridge", risk_level="medium", risk_label="Medium", risk_rank=2)
    assert (suggest().lead, suggest().risk_label) == ("ASB Officer", "Medium")


def test_only_the_lead_organisation_asks_for_a_cases_suggestion(engine: Engine, partnership: Partnership) -> None:
    case = make_case(engine, partnership.council.officer)
    with pytest.raises(PermissionDenied) as error, transaction(engine) as session:
        suggest_lead(session=session, actor=partnership.police.officer, case_id=case.id)
    assert error.value.message == NOT_YOUR_CASE


# --- Passing the lead on ---------------------------------------------------------------------


def allocate(engine: Engine, actor: Actor, case_id: int | None, org_id: int, officer: Actor, reason: str) -> Case:
    assert case_id is not None and officer.user_id is not None
    with transaction(engine) as session:
        return allocate_lead(
            session=session, actor=actor, case_id=case_id, organisation_id=org_id, officer_user_id=officer.user_id,
            reason=reason,
        )  # fmt: skip


def summary_value(engine: Engine, case: Case, key: str) -> str:
    item: InformationItem = load(engine, InformationItem, case.summary_item_id)
    return next(f["value"] for f in item.content if f["key"] == key)


def test_the_lead_officer_passes_the_case_to_a_colleague(engine: Engine, partnership: Partnership) -> None:
    p = partnership
    case = make_case(engine, p.council.officer)
    since = last_audit_id(engine)
    after = allocate(engine, p.council.officer, case.id, p.council.org.id, p.manager, "Officer on long leave")
    assert (after.lead_organisation_id, after.lead_officer_user_id) == (p.council.org.id, p.manager.user_id)
    assert summary_value(engine, case, "lead_officer") == "Team Manager"
    with Session(engine) as session:
        line = session.exec(
            select(CaseEvent).where(CaseEvent.case_id == case.id, CaseEvent.kind == "lead_allocated")
        ).one()
    assert line.summary == f"Lead passed to Team Manager ({p.council.org.name}): Officer on long leave"
    assert line.item_id == case.summary_item_id
    updated = audit_events(engine, since=since, action="cases:case:updated")
    assert [(e.subject_id, e.reason, e.detail["change"], e.detail["items_transferred"]) for e in updated] == [
        (str(case.id), "Officer on long leave", "lead", [])
    ]


def test_a_manager_reallocates_but_another_officer_cannot(engine: Engine, partnership: Partnership) -> None:
    p = partnership
    case = make_case(engine, p.council.officer)
    with transaction(engine) as session:
        colleague = make_actor(session, p.council.org, Role.LEAD_OFFICER, name="Colleague")
    since = last_audit_id(engine)
    with pytest.raises(PermissionDenied) as error:
        allocate(engine, colleague, case.id, p.council.org.id, colleague, "I will take it")
    assert error.value.message == NOT_LEAD_OR_MANAGER
    assert [e.reason for e in audit_events(engine, since=since, action="access:permission:denied")] == [
        "not the lead officer or a manager"
    ]
    after = allocate(engine, p.manager, case.id, p.council.org.id, colleague, "Balancing caseloads")
    assert after.lead_officer_user_id == colleague.user_id


def test_the_new_lead_must_be_able_to_lead_cases_in_that_organisation(engine: Engine, partnership: Partnership) -> None:
    p = partnership
    case = make_case(engine, p.council.officer)
    message = "Choose an officer of that organisation who can lead cases."
    with pytest.raises(InvalidInput) as error:
        allocate(engine, p.council.officer, case.id, p.council.org.id, p.council.member, "A panel member")
    assert error.value.field_errors == {"officer_user_id": message}
    with pytest.raises(InvalidInput) as error:
        allocate(engine, p.council.officer, case.id, p.council.org.id, p.police.officer, "Wrong organisation")
    assert error.value.field_errors == {"officer_user_id": message}
    with pytest.raises(InvalidInput) as error:
        allocate(engine, p.council.officer, case.id, p.council.org.id, p.council.officer, "Same")
    assert error.value.field_errors == {"officer_user_id": "This officer already leads the case."}
    with pytest.raises(InvalidInput) as error:
        allocate(engine, p.council.officer, case.id, p.council.org.id, p.manager, "  ")
    assert error.value.field_errors == {"reason": "Say why the case is passing to this officer."}


def test_a_closed_case_is_not_passed_on(engine: Engine, partnership: Partnership) -> None:
    case = make_case(engine, partnership.council.officer)
    set_case(engine, case.id, status="closed")
    with pytest.raises(InvalidInput) as error:
        allocate(engine, partnership.council.officer, case.id, partnership.council.org.id, partnership.manager, "x")
    assert error.value.field_errors == {"case": "This case is closed. It re-opens when a new report is received."}


def test_passing_to_another_organisation_needs_an_agreement_and_moves_the_record(
    engine: Engine, partnership: Partnership
) -> None:
    p = partnership
    housing = make_agency(engine, OrganisationType.COUNCIL_HOUSING, "Council homes")
    with transaction(engine) as session:
        housing_officer = make_actor(session, housing.org, Role.LEAD_OFFICER, name="Housing Officer")
    case = make_case(engine, p.council.officer)
    with pytest.raises(InvalidInput) as error:
        allocate(engine, p.council.officer, case.id, housing.org.id, housing_officer, "Standard risk council tenant")
    assert error.value.field_errors == {
        "organisation_id": (
            f"No active information sharing agreement between {p.council.org.name} and {housing.org.name} "
            "covers passing this case on for ASB case management."
        )
    }
    assert load(engine, Case, case.id).lead_organisation_id == p.council.org.id

    make_agreement(engine, p.council.iso, [p.council.org, housing.org])
    after = allocate(engine, p.council.officer, case.id, housing.org.id, housing_officer, "Standard risk tenant")
    assert (after.lead_organisation_id, after.lead_officer_user_id) == (housing.org.id, housing_officer.user_id)
    item: InformationItem = load(engine, InformationItem, case.summary_item_id)
    assert item.owner_organisation_id == housing.org.id
    assert summary_value(engine, case, "lead_organisation") == housing.org.name
    with transaction(engine) as session:
        _, view = read_case(session, housing_officer, case.id, via="test")
    assert view.access == "owner"
    with pytest.raises(PermissionDenied), transaction(engine) as session:
        read_case(session, p.council.officer, case.id, via="test")
    with Session(engine) as session:
        kinds = session.exec(
            select(CaseEvent.kind).where(CaseEvent.case_id == case.id).order_by(col(CaseEvent.id))
        ).all()
    assert kinds == ["case_opened", "lead_allocated"]
