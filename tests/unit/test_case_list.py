"""The case list: the lead organisation's cases and the ones shown to a partner through a live
disclosure, each row read through the need-to-know chokepoint; filters, sorting, paging."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from panels.case_list import CaseFilters, CasePage, CaseSort, list_cases
from panels.case_models import Case
from sharing.db import transaction
from sharing.errors import InvalidInput, PermissionDenied
from sharing.models import AccessLog, ConsentRecord, Disclosure, DisclosureItem
from sharing.permissions import Actor
from sharing.vocabulary import DisclosureStatus, LawfulBasis, Purpose
from tests.unit.case_helpers import make_case
from tests.unit.case_partners import Partnership, partnership, set_case, share_with_police
from tests.unit.helpers import update_row
from tests.unit.sharing_helpers import make_consent, make_person, read, today

__all__ = ["partnership"]

NOW = datetime(2026, 6, 10, 12, 0, tzinfo=UTC)


def listed(
    engine: Engine,
    actor: Actor,
    filters: CaseFilters | None = None,
    sort: str = "newest",
    page: int = 1,
    page_size: int = 25,
    now: datetime | None = None,
) -> CasePage:
    with transaction(engine) as session:
        return list_cases(
            session=session, actor=actor, filters=filters, sort=sort, page=page, page_size=page_size, now=now
        )


def refs(page: CasePage) -> list[str]:
    return [r.reference for r in page.rows]


def cases(engine: Engine, p: Partnership, count: int, **overrides: object) -> list[Case]:
    return [make_case(engine, p.council.officer, **overrides) for _ in range(count)]


def list_log(engine: Engine, actor: Actor) -> list[AccessLog]:
    with Session(engine) as session:
        return list(
            session.exec(
                select(AccessLog)
                .where(AccessLog.user_id == actor.user_id, AccessLog.via == "case list")
                .order_by(col(AccessLog.id))
            )
        )


# --- Who sees what --------------------------------------------------------------------------


def test_the_lead_organisation_sees_its_cases_through_the_chokepoint(engine: Engine, partnership: Partnership) -> None:
    first, second = cases(engine, partnership, 2, types=["noise", "harassment"])
    page = listed(engine, partnership.council.officer)
    assert refs(page) == [second.reference, first.reference]
    assert page.total == 2 and page.pages == 1
    row = page.rows[0]
    assert (row.case_id, row.is_lead, row.access) == (second.id, True, "owner")
    assert (row.status, row.stage, row.category) == ("Open", "1 Initial enquiry and assessment", "Personal")
    assert row.types == "Harassment or intimidation, Noise"
    assert (row.risk, row.lead_officer, row.lead_organisation) == (
        "Not assessed",
        "Lead Officer",
        partnership.council.org.name,
    )
    assert (row.location, row.area, row.first_contact_due_at, row.overdue) == ("12 Example Road", "North", None, False)
    logged = list_log(engine, partnership.council.officer)
    assert [(r.item_id, r.outcome) for r in logged] == [
        (second.summary_item_id, "owner"),
        (first.summary_item_id, "owner"),
    ]


def test_a_partner_sees_only_the_cases_disclosed_to_it(engine: Engine, partnership: Partnership) -> None:
    shared, _, _ = cases(engine, partnership, 3)
    police = partnership.police.member
    assert listed(engine, police).total == 0
    disclosure = share_with_police(engine, partnership, [shared.summary_item_id])  # type: ignore[list-item]
    page = listed(engine, police)
    assert refs(page) == [shared.reference] and page.total == 1
    row = page.rows[0]
    assert (row.is_lead, row.access, row.lead_organisation) == (False, "disclosed", partnership.council.org.name)
    assert row.stage == "1 Initial enquiry and assessment"
    logged = list_log(engine, police)
    assert [(r.item_id, r.outcome, r.disclosure_id, r.organisation_id) for r in logged] == [
        (shared.summary_item_id, "disclosed", disclosure.id, partnership.police.org.id)
    ]


def test_a_disclosure_awaiting_approval_shows_nothing(engine: Engine, partnership: Partnership) -> None:
    from tests.unit.sharing_helpers import share

    (case,) = cases(engine, partnership, 1)
    pending = share(
        engine, partnership.council.officer, [case.summary_item_id],  # type: ignore[list-item]
        partnership.police.org, basis=LawfulBasis.CRIME_AND_DISORDER_S115,
    )  # fmt: skip
    assert pending.status == DisclosureStatus.AWAITING_APPROVAL
    assert listed(engine, partnership.police.member).total == 0


def test_a_revoked_disclosure_shows_nothing(engine: Engine, partnership: Partnership) -> None:
    (case,) = cases(engine, partnership, 1)
    disclosure = share_with_police(engine, partnership, [case.summary_item_id])  # type: ignore[list-item]
    update_row(engine, Disclosure, disclosure.id, status=DisclosureStatus.REVOKED)
    assert listed(engine, partnership.police.member).total == 0


def test_a_disclosure_is_listed_up_to_its_retention_date(engine: Engine, partnership: Partnership) -> None:
    (case,) = cases(engine, partnership, 1)
    disclosure = share_with_police(engine, partnership, [case.summary_item_id])  # type: ignore[list-item]
    update_row(engine, Disclosure, disclosure.id, retain_until=today())
    assert listed(engine, partnership.police.member).total == 1
    update_row(engine, Disclosure, disclosure.id, retain_until=today() - timedelta(days=1))
    assert listed(engine, partnership.police.member).total == 0


def test_a_disclosure_resting_on_consent_ends_when_consent_is_withdrawn(
    engine: Engine, partnership: Partnership
) -> None:
    """The list's own test of "live" agrees with the chokepoint's on the consent rules."""
    p = partnership
    (case,) = cases(engine, p, 1)
    person = make_person(engine, p.council.officer)
    consent_id = make_consent(engine, p.council.officer, person.id, organisations=[p.police.org])
    with transaction(engine) as session:
        disclosure = Disclosure(
            status=DisclosureStatus.ACTIVE, discloser_organisation_id=p.council.org.id,
            recipient_organisation_id=p.police.org.id, purpose=Purpose.ASB_CASE_MANAGEMENT,
            basis=LawfulBasis.CONSENT, categories=["asb_history"], consent_id=consent_id,
        )  # fmt: skip
        session.add(disclosure)
        session.flush()
        assert disclosure.id is not None and case.summary_item_id is not None
        session.add(DisclosureItem(disclosure_id=disclosure.id, item_id=case.summary_item_id))
    assert listed(engine, p.police.member).total == 1
    update_row(engine, ConsentRecord, consent_id, withdrawn_on=today() + timedelta(days=1))
    assert listed(engine, p.police.member).total == 1
    assert len(read(engine, p.police.member, [case.summary_item_id])) == 1  # type: ignore[list-item]
    update_row(engine, ConsentRecord, consent_id, withdrawn_on=today())
    assert listed(engine, p.police.member).total == 0
    assert read(engine, p.police.member, [case.summary_item_id]) == []  # type: ignore[list-item]
    update_row(engine, ConsentRecord, consent_id, withdrawn_on=None, expires_on=today() - timedelta(days=1))
    assert listed(engine, p.police.member).total == 0
    # As the consent-expiry job would: no live disclosure left resting on expired consent.
    update_row(engine, Disclosure, disclosure.id, status=DisclosureStatus.CONSENT_WITHDRAWN_REVIEW)


def test_a_partner_filters_the_cases_disclosed_to_it(engine: Engine, partnership: Partnership) -> None:
    enquiry, investigation = cases(engine, partnership, 2)
    set_case(engine, investigation.id, stage="investigation")
    share_with_police(engine, partnership, [enquiry.summary_item_id, investigation.summary_item_id])  # type: ignore[list-item]
    page = listed(engine, partnership.police.member, CaseFilters(stage="investigation"))
    assert refs(page) == [investigation.reference]


def test_someone_without_case_access_is_refused(engine: Engine, partnership: Partnership) -> None:
    with pytest.raises(PermissionDenied):
        listed(engine, Actor(user_id=None, organisation_id=partnership.council.org.id))


# --- Filters --------------------------------------------------------------------------------


def test_open_is_the_default_and_closure_awaiting_approval_counts_as_open(
    engine: Engine, partnership: Partnership
) -> None:
    open_case_, awaiting, closed = cases(engine, partnership, 3)
    set_case(engine, awaiting.id, status="closure_requested")
    set_case(engine, closed.id, status="closed", closed_at=NOW)
    officer = partnership.council.officer
    assert refs(listed(engine, officer)) == [awaiting.reference, open_case_.reference]
    assert refs(listed(engine, officer, CaseFilters(status="closed"))) == [closed.reference]
    assert listed(engine, officer, CaseFilters(status="all")).total == 3


def test_filter_by_risk(engine: Engine, partnership: Partnership) -> None:
    high, medium, _ = cases(engine, partnership, 3)
    set_case(engine, high.id, risk_level="high", risk_label="High", risk_rank=3, risk_score=35)
    set_case(engine, medium.id, risk_level="medium", risk_label="Medium", risk_rank=2)
    page = listed(engine, partnership.council.officer, CaseFilters(risk_rank=3))
    assert refs(page) == [high.reference]
    assert page.rows[0].risk == "High (score 35)"


def test_filter_by_stage(engine: Engine, partnership: Partnership) -> None:
    _, review = cases(engine, partnership, 2)
    set_case(engine, review.id, stage="review")
    assert refs(listed(engine, partnership.council.officer, CaseFilters(stage="review"))) == [review.reference]


def test_filter_by_type_matches_whole_types(engine: Engine, partnership: Partnership) -> None:
    harassment = make_case(engine, partnership.council.officer, types=["noise", "harassment"])
    make_case(engine, partnership.council.officer, types=["sexual_harassment"])
    make_case(engine, partnership.council.officer, types=["noise"])
    page = listed(engine, partnership.council.officer, CaseFilters(case_type="harassment"))
    assert refs(page) == [harassment.reference]
    assert listed(engine, partnership.council.officer, CaseFilters(case_type="noise")).total == 2


def test_filter_by_lead_officer(engine: Engine, partnership: Partnership) -> None:
    (mine,) = cases(engine, partnership, 1)
    managers = make_case(engine, partnership.manager)
    officer = partnership.council.officer
    assert refs(listed(engine, officer, CaseFilters(lead_officer_user_id=partnership.manager.user_id))) == [
        managers.reference
    ]
    assert refs(listed(engine, officer, CaseFilters(lead_officer_user_id=officer.user_id))) == [mine.reference]


def test_filter_overdue_first_contact_on_the_exact_moment(engine: Engine, partnership: Partnership) -> None:
    overdue, contacted, due_now, later, _ = cases(engine, partnership, 5)
    set_case(engine, overdue.id, first_contact_due_at=NOW - timedelta(minutes=1))
    set_case(engine, contacted.id, first_contact_due_at=NOW - timedelta(days=2), first_contact_made_at=NOW)
    set_case(engine, due_now.id, first_contact_due_at=NOW)
    set_case(engine, later.id, first_contact_due_at=NOW + timedelta(days=1))
    officer = partnership.council.officer
    page = listed(engine, officer, CaseFilters(overdue_first_contact=True), now=NOW)
    assert refs(page) == [overdue.reference]
    assert page.rows[0].overdue and page.rows[0].first_contact_due_at == NOW - timedelta(minutes=1)
    flags = {r.reference: r.overdue for r in listed(engine, officer, now=NOW).rows}
    assert flags[contacted.reference] is False and flags[due_now.reference] is False
    assert flags[later.reference] is False and flags[overdue.reference] is True


def test_filter_case_review_eligible(engine: Engine, partnership: Partnership) -> None:
    eligible, _ = cases(engine, partnership, 2)
    set_case(engine, eligible.id, case_review_eligible=True, case_review_reasons=["three_in_six_months"])
    page = listed(engine, partnership.council.officer, CaseFilters(case_review_eligible=True))
    assert refs(page) == [eligible.reference]
    assert page.rows[0].case_review_eligible


def test_search_by_part_of_the_reference(engine: Engine, partnership: Partnership) -> None:
    first, _ = cases(engine, partnership, 2)
    officer = partnership.council.officer
    number = first.reference.rsplit("-", 1)[1]
    assert refs(listed(engine, officer, CaseFilters(search=f" {first.reference.lower()} "))) == [first.reference]
    assert first.reference in refs(listed(engine, officer, CaseFilters(search=number)))
    assert listed(engine, officer, CaseFilters(search="%")).total == 0  # not a wildcard


def test_unknown_filter_values_are_refused(engine: Engine, partnership: Partnership) -> None:
    with pytest.raises(InvalidInput) as error:
        listed(engine, partnership.council.officer, CaseFilters(status="pending", stage="x", case_type="y"))
    assert error.value.field_errors == {
        "status": "Choose open, closed or all cases.",
        "stage": "Choose a stage from the list.",
        "case_type": "Choose a type of behaviour from the list.",
    }
    with pytest.raises(InvalidInput) as error:
        listed(engine, partnership.council.officer, sort="alphabet")
    assert error.value.field_errors == {"sort": "Choose how to sort the list."}


# --- Sorting and paging ---------------------------------------------------------------------


def test_sorting(engine: Engine, partnership: Partnership) -> None:
    a, b, c, d = cases(engine, partnership, 4)
    set_case(engine, a.id, opened_at=NOW - timedelta(days=3), risk_rank=2, first_contact_due_at=NOW)
    set_case(engine, b.id, opened_at=NOW - timedelta(days=1), risk_rank=3)
    set_case(engine, c.id, opened_at=NOW - timedelta(days=4), risk_rank=1, first_contact_due_at=NOW - timedelta(1))
    set_case(engine, d.id, opened_at=NOW - timedelta(days=2), risk_rank=0, first_contact_due_at=NOW + timedelta(1))
    officer = partnership.council.officer

    def order(sort: str) -> list[str]:
        return refs(listed(engine, officer, sort=sort))

    assert order(CaseSort.NEWEST) == [b.reference, d.reference, a.reference, c.reference]
    assert order(CaseSort.OLDEST) == [c.reference, a.reference, d.reference, b.reference]
    assert order(CaseSort.RISK) == [b.reference, a.reference, c.reference, d.reference]
    assert order(CaseSort.FIRST_CONTACT) == [c.reference, a.reference, d.reference, b.reference]  # none last
    assert order(CaseSort.REFERENCE) == [a.reference, b.reference, c.reference, d.reference]


def test_paging_with_the_total(engine: Engine, partnership: Partnership) -> None:
    made = cases(engine, partnership, 5)
    officer = partnership.council.officer
    newest_first = [c.reference for c in reversed(made)]
    pages = [listed(engine, officer, page=n, page_size=2) for n in (1, 2, 3)]
    assert [refs(p) for p in pages] == [newest_first[0:2], newest_first[2:4], newest_first[4:]]
    assert {(p.total, p.pages, p.page_size) for p in pages} == {(5, 3, 2)}
    beyond = listed(engine, officer, page=4, page_size=2)
    assert (beyond.rows, beyond.total) == ((), 5)
    # Only the rows shown are read (and logged).
    with Session(engine) as session:
        before = len(session.exec(select(AccessLog.id).where(AccessLog.user_id == officer.user_id)).all())
    listed(engine, officer, page=3, page_size=2)
    with Session(engine) as session:
        after = len(session.exec(select(AccessLog.id).where(AccessLog.user_id == officer.user_id)).all())
    assert after - before == 1


def test_a_new_case_never_takes_a_reference_already_on_records(engine: Engine, partnership: Partnership) -> None:
    """References are searched and items are grouped by them, so a new case skips one already
    written on information items (records kept before the case existed here, demo data)."""
    from panels.cases import next_case_reference
    from sharing.db import utcnow
    from tests.unit.sharing_helpers import make_item

    year = utcnow().year
    with Session(engine) as session:
        taken = next_case_reference(session, "ASB", year)
    make_item(engine, partnership.council.officer, case_reference=taken)
    case = make_case(engine, partnership.council.officer)
    assert case.reference == f"ASB-{year}-{int(taken.rsplit('-', 1)[1]) + 1:04d}"
