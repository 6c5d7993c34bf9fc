"""Closing a case: a reason from the list, a team manager's approval (not the one who asked),
the victim told of the ASB Case Review, the retention clock started; refusing, reopening, and
quiet cases proposed for closure (never closed) by the scheduled job."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, date, datetime

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from panels.case_models import Case, CaseEvent, StageMove
from panels.cases import NOT_YOUR_CASE, case_item
from panels.stages import (
    OWN_CLOSURE,
    TELL_VICTIM,
    WrongCaseStatus,
    approve_closure,
    move_stage,
    propose_quiet_cases_for_closure,
    refuse_closure,
    reopen_case,
    request_closure,
)
from sharing.access import DENIED_MESSAGE
from sharing.db import transaction, utcnow
from sharing.errors import InvalidInput, PermissionDenied
from sharing.models import InformationItem, OrganisationType, Role
from sharing.permissions import SYSTEM_ACTOR, Actor
from sharing.vocabulary import DataCategory, ItemKind
from tests.conftest import actor_of
from tests.unit.case_helpers import CaseWorld, case_world, make_case
from tests.unit.helpers import audit_events, last_audit_id, load, update_row

__all__ = ["case_world"]

MakeUser = Callable[..., tuple[int, str]]


def _events(engine: Engine, case_id: int | None, kind: str) -> list[CaseEvent]:
    with Session(engine) as session:
        return list(
            session.exec(
                select(CaseEvent)
                .where(CaseEvent.case_id == case_id, CaseEvent.kind == kind)
                .order_by(col(CaseEvent.id))
            )
        )


def _request(engine: Engine, actor: Actor, case_id: int | None, reason: str = "resolved", note: str = "") -> None:
    assert case_id is not None
    with transaction(engine) as session:
        request_closure(session=session, actor=actor, case_id=case_id, reason=reason, note=note)


def _approve(engine: Engine, actor: Actor, case_id: int | None, told: bool = True, now: datetime | None = None) -> None:
    assert case_id is not None
    with transaction(engine) as session:
        approve_closure(session=session, actor=actor, case_id=case_id, victim_told_of_case_review=told, now=now)


def _item_of(engine: Engine, actor: Actor, case_id: int | None) -> int:
    """A further item of the case (as an incident would be)."""
    with transaction(engine) as session:
        case = session.get(Case, case_id)
        assert case is not None
        item = case_item(
            session, case=case, actor=actor, kind=ItemKind.INCIDENT, title="Incident",
            category=DataCategory.ASB_HISTORY, fields=[("what", "What happened", "Shouting", DataCategory.ASB_HISTORY)],
        )  # fmt: skip
        assert item.id is not None
        return item.id


# --- Asking for closure --------------------------------------------------------------------


def test_asking_for_closure_records_the_reason_and_waits_for_a_manager(engine: Engine, case_world: CaseWorld) -> None:
    case = make_case(engine, case_world.officer)
    since = last_audit_id(engine)
    _request(engine, case_world.officer, case.id, "referred_to_other_agency", "Environmental Health (noise team)")
    after: Case = load(engine, Case, case.id)
    assert after.status == "closure_requested"
    assert after.stage == "enquiry"
    assert (after.closure_reason, after.closure_note) == (
        "referred_to_other_agency",
        "Environmental Health (noise team)",
    )
    assert after.closure_requested_by_user_id == case_world.officer.user_id
    assert after.closure_requested_at is not None
    assert [e.summary for e in _events(engine, case.id, "closure_requested")] == [
        "Closure requested: Referred to the agency best placed to deal with it (Environmental Health (noise team))"
    ]
    [event] = audit_events(engine, since=since, action="cases:closure:requested")
    assert (event.subject_id, event.detail) == (str(case.id), {"reason": "referred_to_other_agency"})


@pytest.mark.parametrize(
    ("reason", "errors"),
    [
        ("bored", {"reason": "Choose a reason for closing from the list."}),
        ("referred_to_other_agency", {"note": "Say which agency the case was referred to."}),
        ("legal_action_concluded", {"note": "Say which legal action concluded and how."}),
        ("no_contact_from_complainant", {"note": "Say how and when you tried to contact the complainant."}),
    ],
)
def test_a_closure_needs_a_listed_reason_and_for_some_a_note(
    engine: Engine, case_world: CaseWorld, reason: str, errors: dict[str, str]
) -> None:
    case = make_case(engine, case_world.officer)
    with pytest.raises(InvalidInput) as error:
        _request(engine, case_world.officer, case.id, reason, "  ")
    assert error.value.field_errors == errors
    assert load(engine, Case, case.id).status == "open"


def test_closure_cannot_be_asked_for_twice_or_of_a_closed_case(engine: Engine, case_world: CaseWorld) -> None:
    case = make_case(engine, case_world.officer)
    _request(engine, case_world.officer, case.id)
    with pytest.raises(WrongCaseStatus, match="Closure has already been asked for: a team manager is to decide"):
        _request(engine, case_world.officer, case.id)
    _approve(engine, case_world.manager, case.id)
    with pytest.raises(WrongCaseStatus, match="This case is already closed"):
        _request(engine, case_world.officer, case.id)


def test_a_partner_cannot_ask_for_closure(engine: Engine, case_world: CaseWorld) -> None:
    case = make_case(engine, case_world.officer)
    with pytest.raises(PermissionDenied):
        _request(engine, case_world.police, case.id)
    assert load(engine, Case, case.id).status == "open"


# --- Approving -----------------------------------------------------------------------------


def test_a_manager_closes_the_case_and_starts_the_retention_clock(engine: Engine, case_world: CaseWorld) -> None:
    case = make_case(engine, case_world.officer)
    incident_item = _item_of(engine, case_world.officer, case.id)
    with transaction(engine) as session:
        move_stage(session=session, actor=case_world.officer, case_id=case.id, to_stage="interventions", reason="ABC")
    update_row(engine, Case, case.id, closure_proposed_at=utcnow())
    _request(engine, case_world.officer, case.id, "resolved")
    since = last_audit_id(engine)
    closed_at = datetime(2027, 3, 3, 10, 15, tzinfo=UTC)
    _approve(engine, case_world.manager, case.id, now=closed_at)
    after: Case = load(engine, Case, case.id)
    assert (after.status, after.stage) == ("closed", "closure")
    assert after.closed_at == closed_at
    assert after.closure_approved_by_user_id == case_world.manager.user_id
    assert after.victim_told_of_case_review_at == closed_at
    assert after.closure_proposed_at is None
    assert after.next_review_on is None
    for item_id in (case.summary_item_id, incident_item):
        assert load(engine, InformationItem, item_id).case_closed_on == date(2027, 3, 3)
    with Session(engine) as session:
        move = session.exec(
            select(StageMove).where(StageMove.case_id == case.id, StageMove.to_stage == "closure")
        ).one()
    assert (move.from_stage, move.reason, move.moved_by_user_id) == (
        "interventions", "Closed: Resolved: the behaviour has stopped", case_world.manager.user_id,
    )  # fmt: skip
    assert [e.summary for e in _events(engine, case.id, "closed")] == [
        "Case closed: Resolved: the behaviour has stopped. The victim was told of their right to an ASB Case Review."
    ]
    actions = [e.action for e in audit_events(engine, since=since, subject_type="case", subject_id=case.id)]
    assert actions == ["cases:stage:moved", "cases:closure:approved"]


def test_only_a_manager_approves_a_closure(engine: Engine, case_world: CaseWorld) -> None:
    case = make_case(engine, case_world.officer)
    _request(engine, case_world.officer, case.id)
    since = last_audit_id(engine)
    with pytest.raises(PermissionDenied, match=re.escape(DENIED_MESSAGE)):
        _approve(engine, case_world.officer, case.id)
    [event] = audit_events(engine, since=since)
    assert (event.action, event.reason) == ("access:permission:denied", "lacks cases:closure:approve")
    assert load(engine, Case, case.id).status == "closure_requested"


def test_a_manager_cannot_approve_the_closure_they_asked_for(
    engine: Engine, case_world: CaseWorld, make_user: MakeUser
) -> None:
    case = make_case(engine, case_world.manager)
    _request(engine, case_world.manager, case.id)
    since = last_audit_id(engine)
    with pytest.raises(PermissionDenied) as error:
        _approve(engine, case_world.manager, case.id)
    assert error.value.message == OWN_CLOSURE == "A different manager must approve the closure you asked for"
    [event] = audit_events(engine, since=since)
    assert (event.action, event.reason, event.subject_id) == (
        "access:permission:denied", "approving own closure request", str(case.id),
    )  # fmt: skip
    assert load(engine, Case, case.id).status == "closure_requested"
    other_id, _ = make_user((Role.MANAGER,), organisation_id=case_world.council_id, full_name="Other Manager")
    _approve(engine, actor_of(engine, other_id), case.id)
    assert load(engine, Case, case.id).closure_approved_by_user_id == other_id


def test_a_manager_of_another_organisation_cannot_approve(
    engine: Engine, case_world: CaseWorld, make_user: MakeUser, make_organisation: Callable[..., int]
) -> None:
    case = make_case(engine, case_world.officer)
    _request(engine, case_world.officer, case.id)
    housing = make_organisation(type=OrganisationType.HOUSING_ASSOCIATION)
    stranger_id, _ = make_user((Role.MANAGER,), organisation_id=housing)
    with pytest.raises(PermissionDenied, match=re.escape(NOT_YOUR_CASE)):
        _approve(engine, actor_of(engine, stranger_id), case.id)
    assert load(engine, Case, case.id).status == "closure_requested"


def test_the_victim_must_be_told_of_the_case_review_before_closing(engine: Engine, case_world: CaseWorld) -> None:
    case = make_case(engine, case_world.officer)
    _request(engine, case_world.officer, case.id)
    with pytest.raises(InvalidInput) as error:
        _approve(engine, case_world.manager, case.id, told=False)
    assert error.value.field_errors == {"victim_told_of_case_review": TELL_VICTIM}
    assert error.value.message == "Tell the victim about their right to an ASB Case Review before closing"
    after: Case = load(engine, Case, case.id)
    assert (after.status, after.closed_at, after.victim_told_of_case_review_at) == ("closure_requested", None, None)
    assert load(engine, InformationItem, case.summary_item_id).case_closed_on is None


def test_there_is_nothing_to_approve_until_closure_is_asked_for(engine: Engine, case_world: CaseWorld) -> None:
    case = make_case(engine, case_world.officer)
    with pytest.raises(WrongCaseStatus, match="Nobody has asked for this case to be closed"):
        _approve(engine, case_world.manager, case.id)
    with pytest.raises(WrongCaseStatus, match="Nobody has asked for this case to be closed"), transaction(engine) as s:
        refuse_closure(session=s, actor=case_world.manager, case_id=case.id, reason="Keep going")


# --- Refusing ------------------------------------------------------------------------------


def test_a_manager_refuses_a_closure_with_a_reason(engine: Engine, case_world: CaseWorld) -> None:
    case = make_case(engine, case_world.officer)
    _request(engine, case_world.officer, case.id, "insufficient_evidence")
    with pytest.raises(InvalidInput) as error, transaction(engine) as session:
        refuse_closure(session=session, actor=case_world.manager, case_id=case.id, reason=" ")
    assert error.value.field_errors == {"reason": "Say why the case should stay open."}
    with pytest.raises(PermissionDenied), transaction(engine) as session:
        refuse_closure(session=session, actor=case_world.officer, case_id=case.id, reason="Mine")
    since = last_audit_id(engine)
    with transaction(engine) as session:
        refuse_closure(
            session=session, actor=case_world.manager, case_id=case.id, reason="Victim reported two more incidents"
        )
    after: Case = load(engine, Case, case.id)
    assert after.status == "open"
    assert (after.closure_reason, after.closure_requested_by_user_id, after.closure_requested_at) == ("", None, None)
    assert [e.summary for e in _events(engine, case.id, "closure_refused")] == [
        "Closure refused: Victim reported two more incidents"
    ]
    [event] = audit_events(engine, since=since, action="cases:closure:refused")
    assert event.reason == "Victim reported two more incidents"
    assert event.detail == {"asked_for": "insufficient_evidence"}
    # The officer may ask again later.
    _request(engine, case_world.officer, case.id, "resolved")
    assert load(engine, Case, case.id).status == "closure_requested"


# --- Reopening -----------------------------------------------------------------------------


def test_reopening_returns_the_case_to_its_stage_and_stops_the_retention_clock(
    engine: Engine, case_world: CaseWorld
) -> None:
    case = make_case(engine, case_world.officer)
    incident_item = _item_of(engine, case_world.officer, case.id)
    with transaction(engine) as session:
        move_stage(session=session, actor=case_world.officer, case_id=case.id, to_stage="review", reason="Two months")
    _request(engine, case_world.officer, case.id)
    _approve(engine, case_world.manager, case.id)
    since = last_audit_id(engine)
    with transaction(engine) as session:
        reopen_case(session=session, actor=case_world.officer, case_id=case.id, reason="New report from the victim")
    after: Case = load(engine, Case, case.id)
    assert (after.status, after.stage) == ("open", "review")
    assert (after.closed_at, after.closure_approved_by_user_id, after.victim_told_of_case_review_at) == (
        None,
        None,
        None,
    )
    assert after.closure_reason == ""
    assert after.next_review_on is not None
    for item_id in (case.summary_item_id, incident_item):
        assert load(engine, InformationItem, item_id).case_closed_on is None
    assert [e.summary for e in _events(engine, case.id, "reopened")] == ["Case reopened: New report from the victim"]
    with Session(engine) as session:
        last_move = session.exec(
            select(StageMove).where(StageMove.case_id == case.id).order_by(col(StageMove.id).desc())
        ).first()
    assert last_move is not None
    assert (last_move.from_stage, last_move.to_stage) == ("closure", "review")
    assert last_move.reason == "Reopened: New report from the victim"
    actions = [e.action for e in audit_events(engine, since=since, subject_type="case", subject_id=case.id)]
    assert actions == ["cases:stage:moved", "cases:case:reopened"]


def test_only_a_closed_case_is_reopened_and_with_a_reason(engine: Engine, case_world: CaseWorld) -> None:
    case = make_case(engine, case_world.officer)
    with pytest.raises(WrongCaseStatus, match="Only a closed case can be reopened"), transaction(engine) as session:
        reopen_case(session=session, actor=case_world.officer, case_id=case.id, reason="Again")
    with pytest.raises(InvalidInput) as error, transaction(engine) as session:
        reopen_case(session=session, actor=case_world.officer, case_id=case.id, reason="")
    assert error.value.field_errors == {"reason": "Say why the case is being reopened."}
    _request(engine, case_world.officer, case.id)
    _approve(engine, case_world.manager, case.id)
    with pytest.raises(PermissionDenied), transaction(engine) as session:
        reopen_case(session=session, actor=case_world.police, case_id=case.id, reason="New crime report")
    assert load(engine, Case, case.id).status == "closed"


# --- Proposed closure ----------------------------------------------------------------------


def _opened_on(engine: Engine, case_id: int | None, day: date) -> None:
    update_row(engine, Case, case_id, opened_at=datetime(day.year, day.month, day.day, 23, 30, tzinfo=UTC))


def _propose(engine: Engine, actor: Actor, today: date) -> list[int]:
    with transaction(engine) as session:
        return propose_quiet_cases_for_closure(session=session, actor=actor, today=today)


def test_a_case_quiet_for_three_months_is_proposed_not_closed(engine: Engine, case_world: CaseWorld) -> None:
    quiet = make_case(engine, case_world.officer)
    _opened_on(engine, quiet.id, date(2027, 1, 10))
    since = last_audit_id(engine)
    assert _propose(engine, case_world.officer, date(2027, 4, 9)) == []  # a day short
    assert _propose(engine, case_world.officer, date(2027, 4, 10)) == [quiet.id]
    after: Case = load(engine, Case, quiet.id)
    assert after.status == "open"
    assert after.closure_proposed_at is not None
    [line] = _events(engine, quiet.id, "closure_proposed")
    assert line.summary.startswith("Proposed for closure: no incident since the case was opened on 10 January 2027.")
    [event] = audit_events(engine, since=since, action="cases:closure:proposed")
    assert (event.subject_id, event.detail) == (str(quiet.id), {"last_activity_on": "2027-01-10"})


def test_proposing_twice_proposes_once(engine: Engine, case_world: CaseWorld) -> None:
    case = make_case(engine, case_world.officer)
    _opened_on(engine, case.id, date(2027, 1, 10))
    assert _propose(engine, case_world.officer, date(2027, 5, 1)) == [case.id]
    since = last_audit_id(engine)
    assert _propose(engine, case_world.officer, date(2027, 5, 2)) == []
    assert len(_events(engine, case.id, "closure_proposed")) == 1
    assert audit_events(engine, since=since, action="cases:closure:proposed") == []


def test_quiet_is_measured_from_the_last_incident(engine: Engine, case_world: CaseWorld) -> None:
    case = make_case(engine, case_world.officer)
    _opened_on(engine, case.id, date(2027, 1, 10))
    update_row(engine, Case, case.id, last_incident_at=datetime(2027, 2, 28, 22, 0, tzinfo=UTC))
    assert _propose(engine, case_world.officer, date(2027, 5, 27)) == []
    assert _propose(engine, case_world.officer, date(2027, 5, 28)) == [case.id]
    [line] = _events(engine, case.id, "closure_proposed")
    assert line.summary.startswith("Proposed for closure: no incident since 28 February 2027.")


def test_a_later_incident_clearing_the_proposal_lets_it_be_proposed_again(
    engine: Engine, case_world: CaseWorld
) -> None:
    case = make_case(engine, case_world.officer)
    _opened_on(engine, case.id, date(2027, 1, 10))
    assert _propose(engine, case_world.officer, date(2027, 4, 10)) == [case.id]
    # What recording an incident does to the case.
    update_row(engine, Case, case.id, closure_proposed_at=None, last_incident_at=datetime(2027, 4, 20, tzinfo=UTC))
    assert _propose(engine, case_world.officer, date(2027, 5, 1)) == []
    assert _propose(engine, case_world.officer, date(2027, 7, 20)) == [case.id]


def test_only_open_cases_are_proposed(engine: Engine, case_world: CaseWorld) -> None:
    asked = make_case(engine, case_world.officer)
    closed = make_case(engine, case_world.officer)
    for case in (asked, closed):
        _opened_on(engine, case.id, date(2027, 1, 10))
    update_row(engine, Case, asked.id, status="closure_requested")
    update_row(engine, Case, closed.id, status="closed", stage="closure")
    assert _propose(engine, case_world.officer, date(2027, 6, 1)) == []


def test_the_scheduler_proposes_across_organisations_a_person_only_their_own(
    engine: Engine, case_world: CaseWorld, make_user: MakeUser, make_organisation: Callable[..., int]
) -> None:
    ours = make_case(engine, case_world.officer)
    other_org = make_organisation(type=OrganisationType.COUNCIL_ASB_TEAM)
    other_officer = actor_of(engine, make_user((Role.LEAD_OFFICER,), organisation_id=other_org)[0])
    theirs = make_case(engine, other_officer)
    # Long ago, so no other test's case is that quiet.
    for case in (ours, theirs):
        _opened_on(engine, case.id, date(2001, 1, 10))
    assert _propose(engine, case_world.officer, date(2001, 5, 1)) == [ours.id]
    since = last_audit_id(engine)
    assert _propose(engine, SYSTEM_ACTOR, date(2001, 5, 1)) == [theirs.id]
    [event] = audit_events(engine, since=since, action="cases:closure:proposed")
    assert event.actor_label == "system"


def test_a_panel_member_cannot_run_the_proposals(engine: Engine, case_world: CaseWorld) -> None:
    with pytest.raises(PermissionDenied):
        _propose(engine, case_world.police, date(2027, 6, 1))
