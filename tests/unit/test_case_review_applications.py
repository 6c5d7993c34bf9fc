"""ASB Case Review (Community Trigger) applications: logged by the lead organisation with what
the threshold check said on the day received, the threshold decision, the review's outcome."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from panels.case_models import CaseEvent, CaseReviewApplication
from panels.case_review import (
    complete_case_review,
    decide_case_review_threshold,
    list_case_review_applications,
    record_case_review_application,
)
from panels.incidents import IncidentInput, record_incident
from sharing.db import transaction
from sharing.errors import InvalidInput, NotFound, PermissionDenied
from sharing.permissions import Actor
from tests.unit.case_helpers import CaseWorld, case_world, make_case
from tests.unit.helpers import audit_events, last_audit_id
from tests.unit.sharing_helpers import make_person

__all__ = ["case_world"]

NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
TODAY = date(2026, 11, 21)


def add_incidents(engine: Engine, actor: Actor, case_id: int, *days_ago: int) -> None:
    with transaction(engine) as session:
        for days in days_ago:
            data = IncidentInput(
                occurred_at=NOW - timedelta(days=days),
                reported_at=NOW - timedelta(days=days - 1),
                what_happened="Shouting and banging",
                reported_by_name="Jo",
            )
            record_incident(session=session, actor=actor, case_id=case_id, data=data, now=NOW)


def apply(engine: Engine, actor: Actor, case_id: int, **kwargs: Any) -> CaseReviewApplication:
    kwargs.setdefault("received_on", TODAY)
    if "applicant_person_id" not in kwargs:
        kwargs.setdefault("applicant_name", "Jo Bloggs")
    with transaction(engine) as session:
        application = record_case_review_application(
            session=session, actor=actor, case_id=case_id, today=TODAY, **kwargs
        )
        session.refresh(application)
        session.expunge(application)
    return application


def decide(engine: Engine, actor: Actor, application_id: int | None, **kwargs: Any) -> CaseReviewApplication:
    assert application_id is not None
    kwargs.setdefault("met", True)
    kwargs.setdefault("decided_on", TODAY)
    with transaction(engine) as session:
        application = decide_case_review_threshold(
            session=session, actor=actor, application_id=application_id, today=TODAY, **kwargs
        )
        session.refresh(application)
        session.expunge(application)
    return application


def complete(engine: Engine, actor: Actor, application_id: int | None, **kwargs: Any) -> CaseReviewApplication:
    assert application_id is not None
    kwargs.setdefault("completed_on", TODAY)
    kwargs.setdefault("outcome", "The panel recommended a joint visit and a Community Protection Warning.")
    with transaction(engine) as session:
        application = complete_case_review(
            session=session, actor=actor, application_id=application_id, today=TODAY, **kwargs
        )
        session.refresh(application)
        session.expunge(application)
    return application


def chronology(engine: Engine, case_id: int | None) -> list[tuple[str, str]]:
    with Session(engine) as session:
        rows = session.exec(select(CaseEvent).where(CaseEvent.case_id == case_id).order_by(col(CaseEvent.id)))
        return [(e.kind, e.summary) for e in rows]


def test_an_application_stores_the_check_on_the_day_received(engine: Engine, case_world: CaseWorld) -> None:
    case = make_case(engine, case_world.officer)
    add_incidents(engine, case_world.officer, case.id, 30, 20, 10)
    since = last_audit_id(engine)
    # Received a fortnight ago: the incident of 10 days ago was not known then.
    earlier = apply(engine, case_world.officer, case.id, received_on=TODAY - timedelta(days=14))
    assert earlier.status == "awaiting_decision"
    assert earlier.threshold_check == [
        "2 of the 3 incidents needed between 7 May and 7 November 2026, each reported within a month: threshold not met"
    ]
    today = apply(engine, case_world.officer, case.id)
    assert today.threshold_check == [
        "3 incidents between 21 May and 21 November 2026, each reported within a month: threshold met"
    ]
    assert today.applicant_name == "Jo Bloggs" and today.recorded_by_user_id == case_world.officer.user_id
    applied = audit_events(engine, action="cases:case_review:applied", since=since)
    assert [(e.subject_type, e.subject_id, e.detail["check_met"]) for e in applied] == [
        ("case_review_application", str(earlier.id), False),
        ("case_review_application", str(today.id), True),
    ]
    assert chronology(engine, case.id)[-1] == (
        "case_review_application",
        "ASB Case Review application received on 21 November 2026 (the portal's check: threshold met)",
    )


def test_an_application_says_who_applied_and_when(engine: Engine, case_world: CaseWorld) -> None:
    case = make_case(engine, case_world.officer)

    def refused(**kwargs: Any) -> dict[str, str]:
        with pytest.raises(InvalidInput) as error:
            apply(engine, case_world.officer, case.id, **kwargs)
        return error.value.field_errors

    assert refused(applicant_name=" ") == {"applicant": "Say who applied: choose the person or type their name."}
    assert refused(applicant_person_id=-1) == {"applicant": "That person is not on record."}
    assert refused(applicant_person_id=-1, applicant_name="Jo") == {
        "applicant": "Choose the person on record or type a name, not both."
    }
    assert refused(received_on=TODAY + timedelta(days=1)) == {
        "received_on": "The date the application was received cannot be in the future."
    }


def test_only_the_lead_organisation_with_the_permission_logs_applications(
    engine: Engine, case_world: CaseWorld
) -> None:
    case = make_case(engine, case_world.officer)
    since = last_audit_id(engine)
    with pytest.raises(PermissionDenied) as error:
        apply(engine, case_world.police, case.id)
    assert error.value.message.startswith("You do not have permission")
    assert [(e.action, e.reason) for e in audit_events(engine, since=since)] == [
        ("access:permission:denied", "lacks cases:case_review:manage")
    ]


def test_the_manager_of_another_organisation_is_refused(
    engine: Engine, case_world: CaseWorld, make_user: Any, make_organisation: Any
) -> None:
    from sharing.models import OrganisationType, Role
    from tests.conftest import actor_of

    case = make_case(engine, case_world.officer)
    other = make_organisation(type=OrganisationType.COUNCIL_ASB_TEAM)
    manager_id, _ = make_user((Role.MANAGER,), organisation_id=other)
    since = last_audit_id(engine)
    with pytest.raises(PermissionDenied) as error:
        apply(engine, actor_of(engine, manager_id), case.id)
    assert error.value.message == "Only the organisation leading this case can change it."
    assert [e.reason for e in audit_events(engine, since=since)] == ["not the lead organisation"]


def test_a_threshold_decision_and_a_completed_review(engine: Engine, case_world: CaseWorld) -> None:
    case = make_case(engine, case_world.officer)
    application = apply(engine, case_world.officer, case.id, received_on=TODAY - timedelta(days=10))
    since = last_audit_id(engine)
    decided = decide(engine, case_world.manager, application.id, decided_on=TODAY - timedelta(days=10))
    assert decided.status == "threshold_met" and decided.threshold_decided_on == TODAY - timedelta(days=10)
    done = complete(engine, case_world.officer, application.id, completed_on=TODAY - timedelta(days=10))
    assert done.status == "review_completed" and done.review_completed_on == TODAY - timedelta(days=10)
    assert done.review_outcome.startswith("The panel recommended")
    assert [(e.action, e.subject_id) for e in audit_events(engine, since=since)] == [
        ("cases:case_review:decided", str(application.id)),
        ("cases:case_review:completed", str(application.id)),
    ]
    assert chronology(engine, case.id)[-2:] == [
        ("case_review_decision", "ASB Case Review: threshold met (decided on 11 November 2026)"),
        ("case_review_decision", "ASB Case Review completed on 11 November 2026"),
    ]
    with pytest.raises(InvalidInput) as error:
        complete(engine, case_world.officer, application.id)
    assert error.value.field_errors == {"application": "This ASB Case Review has already been completed."}
    with pytest.raises(InvalidInput) as error:
        decide(engine, case_world.officer, application.id)
    assert error.value.field_errors == {"application": "The threshold has already been decided for this application."}


def test_a_threshold_not_met_needs_a_reason_and_ends_there(engine: Engine, case_world: CaseWorld) -> None:
    case = make_case(engine, case_world.officer)
    application = apply(engine, case_world.officer, case.id)
    with pytest.raises(InvalidInput) as error:
        decide(engine, case_world.officer, application.id, met=False, reason="  ")
    assert error.value.field_errors == {"reason": "Say why the threshold is not met; the applicant must be told."}
    since = last_audit_id(engine)
    decided = decide(
        engine, case_world.officer, application.id, met=False, reason="Only two incidents reported in six months."
    )
    assert decided.status == "threshold_not_met"
    assert decided.threshold_reason == "Only two incidents reported in six months."
    (event,) = audit_events(engine, action="cases:case_review:decided", since=since)
    assert event.reason == "Only two incidents reported in six months." and event.detail["met"] is False
    with pytest.raises(InvalidInput) as error:
        complete(engine, case_world.officer, application.id)
    assert error.value.field_errors == {
        "application": "A review can only be completed once the threshold has been found met."
    }


def test_a_review_cannot_be_completed_before_the_threshold_is_decided(engine: Engine, case_world: CaseWorld) -> None:
    case = make_case(engine, case_world.officer)
    application = apply(engine, case_world.officer, case.id)
    with pytest.raises(InvalidInput) as error:
        complete(engine, case_world.officer, application.id)
    assert error.value.field_errors == {
        "application": "A review can only be completed once the threshold has been found met."
    }


def test_decision_and_completion_dates_are_in_order(engine: Engine, case_world: CaseWorld) -> None:
    case = make_case(engine, case_world.officer)
    received = TODAY - timedelta(days=20)
    application = apply(engine, case_world.officer, case.id, received_on=received)
    with pytest.raises(InvalidInput) as error:
        decide(engine, case_world.officer, application.id, decided_on=received - timedelta(days=1))
    assert error.value.field_errors == {
        "decided_on": "The decision cannot be before the application was received (1 November 2026)."
    }
    with pytest.raises(InvalidInput) as error:
        decide(engine, case_world.officer, application.id, decided_on=TODAY + timedelta(days=1))
    assert error.value.field_errors == {"decided_on": "The date of the decision cannot be in the future."}
    decide(engine, case_world.officer, application.id, decided_on=received + timedelta(days=5))
    with pytest.raises(InvalidInput) as error:
        complete(engine, case_world.officer, application.id, completed_on=received + timedelta(days=4))
    assert error.value.field_errors == {
        "completed_on": "The review cannot be completed before the threshold was decided (6 November 2026)."
    }
    with pytest.raises(InvalidInput) as error:
        complete(engine, case_world.officer, application.id, outcome=" ")
    assert error.value.field_errors == {"outcome": "Say what the review concluded and what will happen next."}


def test_partners_cannot_decide_or_complete(engine: Engine, case_world: CaseWorld) -> None:
    case = make_case(engine, case_world.officer)
    application = apply(engine, case_world.officer, case.id)
    with pytest.raises(PermissionDenied):
        decide(engine, case_world.police, application.id)
    decide(engine, case_world.officer, application.id)
    with pytest.raises(PermissionDenied):
        complete(engine, case_world.police, application.id)
    with pytest.raises(NotFound):
        decide(engine, case_world.officer, -1)


def test_applications_are_listed_newest_first_for_the_lead_organisation(engine: Engine, case_world: CaseWorld) -> None:
    case = make_case(engine, case_world.officer)
    applicant = make_person(engine, case_world.officer, given_name="Ann")
    older = apply(engine, case_world.officer, case.id, received_on=TODAY - timedelta(days=30))
    newer = apply(engine, case_world.officer, case.id, applicant_person_id=applicant.id)
    decide(engine, case_world.officer, older.id, met=False, reason="Not enough incidents.")
    with transaction(engine) as session:
        listed = list_case_review_applications(session=session, actor=case_world.manager, case_id=case.id)
    assert [(a.id, a.applicant, a.status_label) for a in listed] == [
        (newer.id, applicant.name, "Awaiting decision"),
        (older.id, "Jo Bloggs", "Threshold not met"),
    ]
    assert listed[1].threshold_reason == "Not enough incidents."
    assert listed[0].threshold_check[0].endswith("threshold not met")
    with pytest.raises(PermissionDenied), transaction(engine) as session:
        list_case_review_applications(session=session, actor=case_world.police, case_id=case.id)
