"""What the action screens need from the services: owners to choose from, whether the actor
may manage the plan, the deadlines on "My work", "Run now" for administrators and the
agency's CSV download."""

from __future__ import annotations

import uuid
import warnings
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, time, timedelta

import pytest
from sqlalchemy.engine import Engine
from starlette.applications import Starlette

from panels.action_models import ContactMethod
from panels.action_plans import (
    agree_action_plan,
    get_action_plan,
    list_action_owners,
    plan_agreement_due,
    record_victim_contact,
)
from panels.case_models import Case, Intervention
from panels.notifications import local_date
from panels.scheduler import JOBS, JobSpec, day_slot, register_job, run_job_now
from panels.vocabulary import InterventionKind, InterventionStatus
from panels.work_list import (
    CASE_REVIEW,
    FIRST_CONTACT,
    NOTICE_ENDING,
    PLAN_AGREEMENT,
    PLAN_REVIEW,
    VICTIM_CONTACT,
    list_case_deadlines,
)
from panels.working_days import local_zone
from portal import routes
from portal.export_routes import export_routes
from portal.session_cookie import SESSION_COOKIE
from sharing.db import transaction
from sharing.errors import NotFound, PermissionDenied
from sharing.models import Role
from sharing.permissions import Actor
from tests.conftest import actor_of
from tests.unit.action_helpers import add
from tests.unit.case_helpers import CaseWorld, case_world, make_case
from tests.unit.helpers import audit_events, last_audit_id, start_session_for, update_row

with warnings.catch_warnings():  # Starlette's test client prefers a package not installed here
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

__all__ = ["case_world"]

MakeUser = Callable[..., tuple[int, str]]


def _at(day: date, hour: int = 12) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=local_zone()).astimezone(UTC)


def _deadlines(engine: Engine, actor: Actor, now: datetime) -> dict[tuple[int, str], tuple[date, bool]]:
    with transaction(engine) as session:
        found = list_case_deadlines(session=session, actor=actor, now=now)
    return {(d.case_id, d.kind): (d.due_on, d.overdue) for d in found}


# --- Owners and the plan ------------------------------------------------------------------------


def test_owners_to_choose_from_put_the_lead_organisation_first_with_people_who_can_update(
    engine: Engine, case_world: CaseWorld, make_user: MakeUser
) -> None:
    case = make_case(engine, case_world.officer)
    admin_id, _ = make_user((Role.ADMINISTRATOR,), organisation_id=case_world.police_id, password=None)
    with transaction(engine) as session:
        owners = list_action_owners(session=session, actor=case_world.officer, case_id=case.id)
    assert owners[0].organisation_id == case_world.council_id
    police = next(o for o in owners if o.organisation_id == case_world.police_id)
    ids = [user_id for user_id, _ in police.people]
    assert case_world.police.user_id in ids
    assert admin_id not in ids  # an administrator cannot update actions
    council = owners[0]
    assert {case_world.officer.user_id, case_world.manager.user_id} <= {u for u, _ in council.people}


def test_a_partner_cannot_list_owners(engine: Engine, case_world: CaseWorld) -> None:
    case = make_case(engine, case_world.officer)
    since = last_audit_id(engine)
    with pytest.raises(PermissionDenied), transaction(engine) as session:
        list_action_owners(session=session, actor=case_world.police, case_id=case.id)
    assert [e.action for e in audit_events(engine, since=since)] == ["access:permission:denied"]


def test_the_plan_says_who_may_manage_it_and_when_it_is_next_reviewed(engine: Engine, case_world: CaseWorld) -> None:
    case = make_case(engine, case_world.officer)
    today = local_date(case.opened_at)
    add(engine, case_world.officer, case.id, owner_organisation_id=case_world.police_id,
        owner_user_id=case_world.police.user_id)  # fmt: skip
    with transaction(engine) as session:
        agree_action_plan(session=session, actor=case_world.officer, case_id=case.id, agreed_on=today, today=today)
    with transaction(engine) as session:
        lead = get_action_plan(session=session, actor=case_world.officer, case_id=case.id)
        partner = get_action_plan(session=session, actor=case_world.police, case_id=case.id)
    assert lead.can_manage and not lead.partial
    assert lead.next_review_on is not None and lead.next_review_on > today
    assert (lead.next_review_on.year * 12 + lead.next_review_on.month) - (today.year * 12 + today.month) == 3
    assert not partner.can_manage and partner.partial and partner.next_review_on is None
    assert len(partner.actions) == 1


# --- Deadlines on My work -----------------------------------------------------------------------


def test_first_contact_shows_from_seven_days_before_and_is_overdue_from_its_minute(
    engine: Engine, case_world: CaseWorld
) -> None:
    case = make_case(engine, case_world.officer)
    due_day = local_date(case.opened_at) + timedelta(days=20)
    due_at = _at(due_day, 15)
    update_row(engine, Case, case.id, first_contact_due_at=due_at)
    key = (case.id, FIRST_CONTACT)
    assert key not in _deadlines(engine, case_world.officer, _at(due_day - timedelta(days=8)))
    assert _deadlines(engine, case_world.officer, _at(due_day - timedelta(days=7)))[key] == (due_day, False)
    assert _deadlines(engine, case_world.officer, due_at)[key] == (due_day, False)
    assert _deadlines(engine, case_world.officer, due_at + timedelta(minutes=1))[key] == (due_day, True)


def test_plan_agreement_then_review_then_contact_with_the_victim(engine: Engine, case_world: CaseWorld) -> None:
    case = make_case(engine, case_world.officer)
    opened = local_date(case.opened_at)
    with transaction(engine) as session:
        agree_by = plan_agreement_due(session, session.get(Case, case.id))  # type: ignore[arg-type]
    assert (case.id, PLAN_AGREEMENT) not in _deadlines(engine, case_world.officer, _at(agree_by - timedelta(days=8)))
    assert _deadlines(engine, case_world.officer, _at(agree_by - timedelta(days=7)))[(case.id, PLAN_AGREEMENT)] == (
        agree_by,
        False,
    )
    assert _deadlines(engine, case_world.officer, _at(agree_by + timedelta(days=1)))[(case.id, PLAN_AGREEMENT)] == (
        agree_by,
        True,
    )
    with transaction(engine) as session:
        agree_action_plan(session=session, actor=case_world.officer, case_id=case.id, agreed_on=opened, today=opened)
        plan = get_action_plan(session=session, actor=case_world.officer, case_id=case.id)
    review_on = plan.next_review_on
    assert review_on is not None
    later = _deadlines(engine, case_world.officer, _at(review_on - timedelta(days=7)))
    assert (case.id, PLAN_AGREEMENT) not in later
    assert later[(case.id, PLAN_REVIEW)] == (review_on, False)
    assert (case.id, PLAN_REVIEW) not in _deadlines(engine, case_world.officer, _at(review_on - timedelta(days=8)))
    # Once the victim has been contacted, the next contact is due 14 days after the latest.
    contacted = case.opened_at + timedelta(hours=1)
    with transaction(engine) as session:
        record_victim_contact(
            session=session, actor=case_world.officer, case_id=case.id, contacted_at=contacted,
            method=ContactMethod.PHONE, now=contacted,
        )  # fmt: skip
    next_on = local_date(contacted) + timedelta(days=14)
    found = _deadlines(engine, case_world.officer, _at(next_on - timedelta(days=7)))
    assert found[(case.id, VICTIM_CONTACT)] == (next_on, False)
    assert (case.id, FIRST_CONTACT) not in found
    assert (case.id, VICTIM_CONTACT) not in _deadlines(engine, case_world.officer, _at(next_on - timedelta(days=8)))


def test_case_reviews_and_notices_about_to_end(engine: Engine, case_world: CaseWorld) -> None:
    case = make_case(engine, case_world.officer)
    today = local_date(case.opened_at) + timedelta(days=30)
    update_row(engine, Case, case.id, next_review_on=today - timedelta(days=1))
    with transaction(engine) as session:
        notice = Intervention(
            case_id=case.id, kind=InterventionKind.NOTICE_OF_SEEKING_POSSESSION, status=InterventionStatus.SERVED,
            served_on=today - timedelta(days=340), expires_on=today + timedelta(days=30),
        )  # fmt: skip
        session.add(notice)
    found = _deadlines(engine, case_world.officer, _at(today))
    assert found[(case.id, CASE_REVIEW)] == (today - timedelta(days=1), True)
    assert found[(case.id, NOTICE_ENDING)] == (today + timedelta(days=30), False)
    assert (case.id, NOTICE_ENDING) not in _deadlines(engine, case_world.officer, _at(today - timedelta(days=1)))


def test_deadlines_are_the_lead_officers_and_the_managers_of_unled_cases(
    engine: Engine, case_world: CaseWorld, make_user: MakeUser
) -> None:
    case = make_case(engine, case_world.officer)
    unled = make_case(engine, case_world.officer)
    update_row(engine, Case, unled.id, lead_officer_user_id=None, next_review_on=local_date(case.opened_at))
    update_row(engine, Case, case.id, next_review_on=local_date(case.opened_at))
    other_id, _ = make_user((Role.LEAD_OFFICER,), organisation_id=case_world.council_id, password=None)
    now = _at(local_date(case.opened_at))
    mine = {c for c, _ in _deadlines(engine, case_world.officer, now)}
    assert case.id in mine and unled.id not in mine
    managed = {c for c, _ in _deadlines(engine, case_world.manager, now)}
    assert unled.id in managed and case.id not in managed
    assert _deadlines(engine, actor_of(engine, other_id), now) == {}


def test_a_partner_has_no_case_deadlines(engine: Engine, case_world: CaseWorld) -> None:
    since = last_audit_id(engine)
    with pytest.raises(PermissionDenied), transaction(engine) as session:
        list_case_deadlines(session=session, actor=case_world.police)
    assert [e.action for e in audit_events(engine, since=since)] == ["access:permission:denied"]


# --- Run now ------------------------------------------------------------------------------------


@pytest.fixture
def counting_job() -> Iterator[tuple[str, list[datetime]]]:
    runs: list[datetime] = []
    job_id = f"test-{uuid.uuid4().hex[:8]}"

    def _run(*, session: object, now: datetime) -> dict[str, int]:
        runs.append(now)
        return {"counted": 1}

    register_job(JobSpec(id=job_id, name="Counting", trigger=lambda s: None, slot=day_slot, run=_run))  # type: ignore[arg-type, return-value]
    yield job_id, runs
    JOBS.pop(job_id, None)


def test_run_now_is_audited_as_the_administrators_and_runs_once_per_slot(
    engine: Engine, admin: Actor, counting_job: tuple[str, list[datetime]]
) -> None:
    job_id, runs = counting_job
    since = last_audit_id(engine)
    now = datetime(2026, 5, 4, 9, 0, tzinfo=UTC)
    run = run_job_now(actor=admin, job_id=job_id, engine=engine, now=now)
    assert run is not None and run.outcome == "succeeded" and run.result == {"counted": 1}
    assert runs == [now]
    requested = audit_events(engine, since=since, action="scheduler:job:run_requested")
    assert len(requested) == 1 and requested[0].actor_user_id == admin.user_id
    assert requested[0].subject_id == job_id
    completed = audit_events(engine, since=since, action="scheduler:job:completed")
    assert [e.actor_label for e in completed] == ["system"]
    # The same day's slot is done: asking again is audited and runs nothing.
    assert run_job_now(actor=admin, job_id=job_id, engine=engine, now=now) is None
    assert runs == [now]


def test_run_now_is_for_administrators_and_known_jobs(
    engine: Engine, admin: Actor, case_world: CaseWorld, counting_job: tuple[str, list[datetime]]
) -> None:
    job_id, runs = counting_job
    since = last_audit_id(engine)
    with pytest.raises(PermissionDenied):
        run_job_now(actor=case_world.manager, job_id=job_id, engine=engine)
    denied = audit_events(engine, since=since, action="access:permission:denied")
    assert len(denied) == 1 and denied[0].reason == "lacks admin:scheduler:run"
    with pytest.raises(NotFound):
        run_job_now(actor=admin, job_id="no-such-job", engine=engine)
    assert runs == []
    assert audit_events(engine, since=since, action="scheduler:job:run_requested") == []


# --- The agency's CSV ---------------------------------------------------------------------------


def test_the_csv_download_needs_a_session_and_a_manager(
    engine: Engine, case_world: CaseWorld, make_user: MakeUser
) -> None:
    case = make_case(engine, case_world.officer)
    add(engine, case_world.officer, case.id, owner_organisation_id=case_world.council_id,
        description="=Check the CCTV footage")  # fmt: skip
    _, manager_email = make_user((Role.MANAGER,), organisation_id=case_world.council_id)
    _, officer_email = make_user((Role.LEAD_OFFICER,), organisation_id=case_world.council_id)
    app = Starlette(routes=export_routes())
    assert TestClient(app, follow_redirects=False).get(routes.AGENCY_ACTIONS_CSV).status_code == 303
    manager = start_session_for(engine, manager_email)
    since = last_audit_id(engine)
    client = TestClient(app, follow_redirects=False, cookies={SESSION_COOKIE: manager.token})
    response = client.get(routes.AGENCY_ACTIONS_CSV)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert "attachment" in response.headers["content-disposition"]
    lines = response.text.splitlines()
    assert lines[0].startswith("Case,Action,Description")
    assert any(case.reference in line and "'=Check the CCTV footage" in line for line in lines[1:])
    assert [e.action for e in audit_events(engine, since=since, action="actions:agency:exported")]
    officer = start_session_for(engine, officer_email)
    since = last_audit_id(engine)
    client = TestClient(app, follow_redirects=False, cookies={SESSION_COOKIE: officer.token})
    refused = client.get(routes.AGENCY_ACTIONS_CSV)
    assert refused.status_code == 403
    assert "permission" in refused.text
    assert audit_events(engine, since=since, action="access:permission:denied")
