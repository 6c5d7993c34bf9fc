"""The demo's action plans (seeded with the demo partnership by the test database): every demo
agency has actions, some are overdue, the Problem Solving Group's action is on PC Jones's
"My work", partners see only their own actions, and seeding again adds nothing."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from panels.action_demo import DEMO_ACTIONS, POLICE_OFFICER, PSG, seed_action_demo
from panels.action_models import ActionPlan, ActionSource, ActionStatus, CaseAction, CaseActionUpdate
from panels.action_plans import get_action_plan, list_my_actions
from panels.case_models import Case, CaseEvent
from panels.demo import DEMO_ORGANISATIONS, POLICE, seed_demo
from panels.models import Panel
from panels.notifications import local_date
from panels.reminders import action_reminders
from panels.working_days import local_zone
from sharing.accounts import actor_for_user
from sharing.db import get_engine, transaction, utcnow
from sharing.migrations import upgrade_to_head
from sharing.models import InformationItem, Organisation, User
from sharing.permissions import Actor
from sharing.vocabulary import ItemKind
from tests.unit.helpers import audit_events, last_audit_id


@pytest.fixture(autouse=True)
def _demo_cases(db: Session) -> None:
    # The demo's actions go on the demo's cases (``panels.case_demo``): without them, nothing to test.
    if db.exec(select(Case.id).where(Case.reference == "ASB-2026-0001")).first() is None:
        pytest.skip("the demo has no cases in this database")


def _actor(session: Session, email: str) -> Actor:
    user = session.exec(select(User).where(User.email == email)).one()
    return actor_for_user(session, user)


def _demo_actions(session: Session) -> list[CaseAction]:
    wording = {spec.description for spec in DEMO_ACTIONS}
    return [a for a in session.exec(select(CaseAction).order_by(col(CaseAction.id))) if a.description in wording]


def test_every_demo_agency_has_actions_and_some_are_overdue(db: Session) -> None:
    actions = _demo_actions(db)
    assert len(actions) == len(DEMO_ACTIONS)
    names = dict(db.exec(select(Organisation.id, Organisation.name)).all())
    owners = {names[a.owner_organisation_id] for a in actions}
    assert owners == {name for name, _ in DEMO_ORGANISATIONS}
    today = local_date(utcnow())
    overdue = [a for a in actions if ActionStatus(a.status).is_open and a.due_on < today]
    assert len(overdue) >= 5
    assert {ActionStatus(a.status) for a in actions} >= {ActionStatus.OPEN, ActionStatus.IN_PROGRESS, ActionStatus.DONE}
    # The reminders sweep raises one "overdue" reminder for each of them (on the demo clock).
    for action in overdue:
        assert action.id is not None
        dues = action_reminders(
            action_id=action.id, number=action.number, case_id=action.case_id, case_reference="",
            due_on=action.due_on, status=action.status, today=today,
        )  # fmt: skip
        assert [d.kind for d in dues] == ["action_overdue"]


def test_the_problem_solving_groups_action_is_on_pc_jones_work_and_due_soon(engine: Engine, db: Session) -> None:
    case = db.exec(select(Case).where(Case.reference == "ASB-2026-0001")).one()
    psg = db.exec(select(Panel).where(Panel.name == PSG)).one()
    police = _actor(db, POLICE_OFFICER)
    action = db.exec(
        select(CaseAction).where(CaseAction.case_id == case.id, CaseAction.owner_user_id == police.user_id)
    ).one()
    assert action.source == ActionSource.PANEL_DECISION and action.source_panel_id == psg.id
    with transaction(engine) as session:
        mine = list_my_actions(session=session, actor=police)
    shown = next(a for a in mine if a.id == action.id)
    assert shown.due_soon and not shown.overdue
    assert shown.description.startswith("Patrol Willow Court")
    # Overdue first: his overdue actions come before it.
    assert [a.overdue for a in mine] == sorted((a.overdue for a in mine), reverse=True)


def test_the_police_see_only_their_own_actions_on_a_plan_not_shared_with_them(engine: Engine, db: Session) -> None:
    case = db.exec(select(Case).where(Case.reference == "ASB-2026-0001")).one()
    assert case.id is not None
    with transaction(engine) as session:
        officer_view = get_action_plan(session=session, actor=_actor(session, "asb.officer@eastbrook.demo"),
                                       case_id=case.id)  # fmt: skip
        police_view = get_action_plan(session=session, actor=_actor(session, POLICE_OFFICER), case_id=case.id)
    assert officer_view.agreed_on is not None and not officer_view.partial
    assert {a.owner_organisation for a in officer_view.actions} > {POLICE}
    assert police_view.partial and police_view.agreed_on is None
    assert {a.owner_organisation for a in police_view.actions} == {POLICE}


def test_a_plan_is_overdue_for_review(engine: Engine, db: Session) -> None:
    today = local_date(utcnow())
    with transaction(engine) as session:
        officer = _actor(session, "asb.officer@eastbrook.demo")
        cases = session.exec(select(Case.id).join(CaseAction, col(CaseAction.case_id) == col(Case.id))).all()
        plans = [get_action_plan(session=session, actor=officer, case_id=c) for c in set(cases)]
    overdue = [p for p in plans if p.can_manage and p.next_review_on is not None and p.next_review_on < today]
    assert overdue, "one demo plan should be overdue for review"
    assert all(p.last_reviewed_on is not None for p in overdue)


def test_seeding_again_adds_nothing(engine: Engine, db: Session) -> None:
    before = len(_demo_actions(db))
    since = last_audit_id(engine)
    with transaction(engine) as session:
        assert seed_action_demo(session) == 0
    with Session(engine) as session:
        assert len(_demo_actions(session)) == before
    assert audit_events(engine, since=since) == []


def test_the_demo_actions_were_added_through_the_services(engine: Engine, db: Session) -> None:
    ids = {str(a.id) for a in _demo_actions(db)}
    added = {e.subject_id for e in audit_events(engine, action="actions:action:added")}
    assert ids <= added


# --- On a fixed demo clock -----------------------------------------------------------------------

NOW = datetime(2026, 11, 18, 10, 0, tzinfo=UTC)  # a Wednesday
TODAY = date(2026, 11, 18)


@pytest.fixture(scope="module")
def clocked(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    """A database of its own with the demo seeded on a fixed demo clock (without its meetings)."""
    path: Path = tmp_path_factory.mktemp("action-demo") / "demo.db"
    url = f"sqlite:///{path.as_posix()}"
    upgrade_to_head(url)
    engine = get_engine(url)
    with pytest.MonkeyPatch.context() as patch, transaction(engine) as session:
        patch.setattr("panels.demo._seed_meetings", lambda session: False)
        added = seed_demo(session, now=NOW)
    assert added["actions"] == len(DEMO_ACTIONS)
    yield engine
    engine.dispose()


def test_the_actions_are_told_on_the_demo_clock(clocked: Engine) -> None:
    with Session(clocked) as session:
        actions = {a.description: a for a in _demo_actions(session)}
        for spec in DEMO_ACTIONS:
            action = actions[spec.description]
            assert action.due_on == TODAY + timedelta(days=spec.due_in_days), spec.description
            added_on = action.created_at.astimezone(local_zone()).date()
            assert added_on <= TODAY - timedelta(days=min(spec.added_days_ago, (TODAY - added_on).days))
            if spec.status is not None:
                assert action.updated_at.astimezone(local_zone()).date() == TODAY - timedelta(
                    days=spec.updated_days_ago
                )
        stamps = [
            *session.exec(select(CaseAction.created_at)),
            *session.exec(select(CaseAction.updated_at)),
            *session.exec(select(CaseActionUpdate.at)),
            *session.exec(select(CaseEvent.occurred_at)),
            *session.exec(select(ActionPlan.created_at)),
            *session.exec(select(Case.updated_at)),
            *session.exec(select(InformationItem.created_at).where(InformationItem.kind == ItemKind.ACTION_PLAN)),
        ]
        assert stamps and max(stamps) <= NOW
        carter = session.exec(select(Case).where(Case.reference == "ASB-2026-0001")).one()
        plan = session.exec(select(ActionPlan).where(ActionPlan.case_id == carter.id)).one()
        assert plan.agreed_on == TODAY - timedelta(days=50)
    with transaction(clocked) as session:
        police = _actor(session, POLICE_OFFICER)
        mine = list_my_actions(session=session, actor=police, today=TODAY)
    patrol = next(a for a in mine if a.description.startswith("Patrol Willow Court"))
    assert patrol.due_on == TODAY + timedelta(days=3) and patrol.due_soon
