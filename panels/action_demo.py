"""The demo's action plans: actions for every demo agency on the demo cases, some overdue,
some done, plans agreed with complainants (one overdue for review), all through the real
services.  Every name and event is invented.

* ASB-2026-0001 (Jamie Carter, led by the council's ASB team) carries the Problem Solving
  Group's action for Eastshire Police, assigned to pc.jones@police.demo and due in a few
  days, so it is on his "My work" when he signs in.
* Actions are told relative to the demo clock ``now``, like ``panels.case_demo``: an action
  "added 20 days ago, due 5 days ago" is added with the services' ``today`` set 20 days
  back, and the rows the services stamp with the real clock are given the story's moment.
* Cases are found by their reference, or by the name of their victim or witness; a case the
  demo does not have (or has closed) is passed over, so seeding works on any demo database.

Idempotent: an action already on a case's plan (same wording) is not added again.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta

from sqlmodel import Session, col, select

from panels.action_models import (
    ActionParty,
    ActionPlan,
    ActionSource,
    ActionStatus,
    CaseAction,
    CaseActionUpdate,
)
from panels.action_plans import ActionInput, add_action, agree_action_plan, review_action_plan, update_action
from panels.case_models import Case, CaseEvent, CaseParty
from panels.demo import ADULTS, ASB, CHILDREN, HEALTH, HOMES, LEGAL, POLICE, RIVERSIDE, SOLUTIONS
from panels.models import Panel
from panels.notifications import local_date
from panels.vocabulary import CaseStatus
from panels.working_days import local_zone
from sharing.accounts import actor_for_user
from sharing.db import utcnow
from sharing.models import InformationItem, Organisation, Person, User
from sharing.permissions import Actor

PSG = "Problem Solving Group"
CCP = "Complex Case Panel"
POLICE_OFFICER = "pc.jones@police.demo"


@dataclass(frozen=True)
class DemoAction:
    """An action ``added_days_ago`` and due ``due_in_days`` from the demo's today (negative:
    overdue), optionally updated since by its owner."""

    case: str  # a case reference, or "Given Family" of the case's victim or witness
    description: str
    owner: str  # the owner organisation's name
    owner_email: str | None
    added_days_ago: int
    due_in_days: int
    party: ActionParty = ActionParty.AGENCY
    source: ActionSource = ActionSource.CASE_OFFICER
    panel: str | None = None  # the panel that agreed it (panel decisions)
    status: ActionStatus | None = None  # set by an update from its owner
    note: str = ""
    updated_days_ago: int = 0


@dataclass(frozen=True)
class DemoPlan:
    """A plan agreed with the complainant ``agreed_days_ago``, reviewed ``reviewed_days_ago``."""

    case: str
    agreed_days_ago: int
    reviewed_days_ago: int | None = None


A = DemoAction
DEMO_ACTIONS: tuple[DemoAction, ...] = (
    # ASB-2026-0001: loud music at Willow Court (council ASB team; shared with the police).
    A("ASB-2026-0001", "Patrol Willow Court between 11pm and 3am on Friday and Saturday nights for four weeks and "
      "report any disturbance from the flat above to the ASB officer.", POLICE, POLICE_OFFICER, 20, 3,
      source=ActionSource.PANEL_DECISION, panel=PSG),
    A("ASB-2026-0001", "Tenancy warning visit to the tenant of the flat above, with a written record of what was "
      "said.", HOMES, "housing.officer@eastbrook.demo", 20, -5, source=ActionSource.PANEL_DECISION, panel=PSG),
    A("ASB-2026-0001", "Install noise recording equipment in Ms Carter's flat and review the recordings.", ASB,
      "asb.officer@eastbrook.demo", 45, -30, status=ActionStatus.DONE,
      note="Recorder installed for two weeks; four nights of loud music after midnight captured.", updated_days_ago=28),
    A("ASB-2026-0001", "Keep the diary sheets for four more weeks and return them to the ASB officer each Monday.",
      ASB, None, 20, 10, party=ActionParty.COMPLAINANT),
    # ASB-2026-0002: intimidation and suspected dealing at Marsh Lane (Eastbrook City Homes).
    A("ASB-2026-0002", "Joint visit to Flat 6 with the housing officer; consider a drugs warrant if intelligence "
      "supports it.", POLICE, POLICE_OFFICER, 30, -12),
    A("ASB-2026-0002", "Care Act assessment for Mrs Jennings; offer a personal alarm.", ADULTS,
      "sw.patel@adultcare.demo", 30, -4, status=ActionStatus.IN_PROGRESS, note="Assessment booked; alarm ordered.",
      updated_days_ago=6),
    A("ASB-2026-0002", "Housing options interview for Mrs Jennings, should she wish to move.", SOLUTIONS,
      "solutions@eastbrook.demo", 30, 14),
    A("ASB-2026-0002", "Advise whether the evidence supports a Notice of Seeking Possession.", LEGAL,
      "legal@eastbrook.demo", 12, 6),
    A("ASB-2026-0002", "Call the police on 101 (or 999 in an emergency) and the housing officer after each "
      "incident.", HOMES, None, 30, 28, party=ActionParty.COMPLAINANT),
    # ASB-2026-0003: bonfires at Orchard Row (council ASB team).
    A("ASB-2026-0003", "Write to the owner of number 3 about burning household waste and the law on smoke "
      "nuisance.", ASB, "asb.officer@eastbrook.demo", 10, 2),
    # Racist abuse on Station Road (council ASB team; shared with the police).
    A("Amira Haddad", "Identify the young people in the group and work with their families.", CHILDREN,
      "cs.okafor@childrens.demo", 7, -2),
    A("Amira Haddad", "Update Ms Haddad on the hate crime investigation.", POLICE, POLICE_OFFICER, 7, 9),
    # Cuckooing at Foundry House (council ASB team).
    A("Peter Hollis", "Mental health assessment for Mr Hollis.", HEALTH, "nurse.reid@health.demo", 14, 1),
    A("Peter Hollis", "Adult safeguarding enquiry into the use of Mr Hollis's flat by others.", ADULTS, None, 18, -8),
    # Car meets at Beacon Rise (council ASB team).
    A("Graham Pike", "Friday night patrols of the Beacon Rise car park.", POLICE, POLICE_OFFICER, 99, -60,
      source=ActionSource.CASE_REVIEW),
    A("Graham Pike", "Ask the landowner to fit a height barrier at the car park entrance.", ASB,
      "asb.officer@eastbrook.demo", 99, -20, source=ActionSource.CASE_REVIEW),
    # Riverside Homes' cases.
    A("Tomasz Nowicki", "Remove the graffiti from Mr Nowicki's door within 24 hours.", RIVERSIDE,
      "ha.officer@riverside.demo", 10, -9, status=ActionStatus.DONE,
      note="Door cleaned and repainted the next morning; photographs on file.", updated_days_ago=9),
    A("Tomasz Nowicki", "House-to-house enquiries at Riverside Court about the graffiti.", POLICE, POLICE_OFFICER,
      10, 4),
    A("Aisha Bello", "Offer the tenant of Flat 11 a referral to the substance misuse service.", HEALTH,
      "nurse.reid@health.demo", 20, -6),
    # Elm Park (Eastbrook City Homes).
    A("Linda Osei", "Prepare the possession claim should the notice be breached again.", LEGAL,
      "legal@eastbrook.demo", 15, 20, source=ActionSource.PANEL_DECISION, panel=CCP),
)  # fmt: skip

DEMO_PLANS: tuple[DemoPlan, ...] = (
    DemoPlan("ASB-2026-0001", agreed_days_ago=50),
    DemoPlan("ASB-2026-0002", agreed_days_ago=40),
    DemoPlan("Graham Pike", agreed_days_ago=150, reviewed_days_ago=99),  # its next review is overdue
)


class _Demo:
    """What seeding looks up as it goes: the clocks, the cases, the actors."""

    def __init__(self, session: Session, now: datetime, real_start: datetime) -> None:
        self.session, self.now, self.real_start = session, now, real_start
        self.today = local_date(now)
        self._actors: dict[int, Actor] = {}

    def moment(self, days_ago: int) -> datetime:
        day = self.today - timedelta(days=days_ago)
        return datetime.combine(day, time(10, 0), tzinfo=local_zone()).astimezone(UTC)

    def case(self, key: str) -> Case | None:
        """The open case with this reference, or whose victim or witness has this name."""
        if key[:1].isupper() and " " in key:
            given, family = key.split(" ", 1)
            case = self.session.exec(
                select(Case)
                .join(CaseParty, col(CaseParty.case_id) == col(Case.id))
                .join(Person, col(Person.id) == col(CaseParty.person_id))
                .where(Person.given_name == given, Person.family_name == family)
                .order_by(col(Case.id))
            ).first()
        else:
            case = self.session.exec(select(Case).where(Case.reference == key)).first()
        return case if case is not None and case.status != CaseStatus.CLOSED else None

    def actor_of(self, user_id: int) -> Actor:
        if user_id not in self._actors:
            user = self.session.get(User, user_id)
            assert user is not None
            self._actors[user_id] = actor_for_user(self.session, user)
        return self._actors[user_id]

    def lead(self, case: Case) -> Actor | None:
        return self.actor_of(case.lead_officer_user_id) if case.lead_officer_user_id is not None else None

    def user_id(self, email: str) -> int | None:
        return self.session.exec(select(User.id).where(User.email == email)).first()

    def organisation_id(self, name: str) -> int | None:
        return self.session.exec(select(Organisation.id).where(Organisation.name == name)).first()

    def panel_id(self, name: str) -> int | None:
        return self.session.exec(select(Panel.id).where(Panel.name == name)).first()

    def settle(self, case_id: int, moment: datetime) -> None:
        """Give the rows the last step stamped with the real clock the story's ``moment``."""
        session, since = self.session, self.real_start
        session.flush()
        for action in session.exec(
            select(CaseAction).where(CaseAction.case_id == case_id, col(CaseAction.updated_at) >= since)
        ):
            if action.created_at >= since:
                action.created_at = moment
            if action.completed_at is not None and action.completed_at >= since:
                action.completed_at = moment
            action.updated_at = moment
            session.add(action)
            for update in session.exec(
                select(CaseActionUpdate).where(
                    CaseActionUpdate.action_id == action.id, col(CaseActionUpdate.at) >= since
                )
            ):
                update.at = moment
                session.add(update)
        for event in session.exec(
            select(CaseEvent).where(
                CaseEvent.case_id == case_id,
                col(CaseEvent.occurred_at) >= since,
                col(CaseEvent.subject_type).in_(["case_action", "action_plan"]),
            )
        ):
            event.occurred_at = moment
            session.add(event)
        plan = session.exec(select(ActionPlan).where(ActionPlan.case_id == case_id)).first()
        if plan is not None and plan.created_at >= since:
            plan.created_at = moment
            session.add(plan)
        if plan is not None and plan.item_id is not None:
            item = session.get(InformationItem, plan.item_id)
            if item is not None and item.created_at >= since:
                item.created_at = moment
                session.add(item)
        case = session.get(Case, case_id)
        if case is not None and case.updated_at >= since:
            case.updated_at = moment
            session.add(case)
        session.flush()


def _add(demo: _Demo, spec: DemoAction) -> bool:
    session = demo.session
    case = demo.case(spec.case)
    if case is None or case.id is None:
        return False
    lead = demo.lead(case)
    owner_org = demo.organisation_id(spec.owner)
    if lead is None or owner_org is None:
        return False
    exists = session.exec(
        select(CaseAction.id).where(CaseAction.case_id == case.id, CaseAction.description == spec.description)
    ).first()
    if exists is not None:
        return False
    added_on = demo.today - timedelta(days=spec.added_days_ago)
    if added_on < local_date(case.opened_at):
        added_on = local_date(case.opened_at)
    action = add_action(
        session=session,
        actor=lead,
        case_id=case.id,
        data=ActionInput(
            description=spec.description,
            due_on=max(demo.today + timedelta(days=spec.due_in_days), added_on),
            owner_organisation_id=owner_org,
            owner_user_id=demo.user_id(spec.owner_email) if spec.owner_email else None,
            party=spec.party,
            source=spec.source,
            source_panel_id=demo.panel_id(spec.panel) if spec.panel else None,
        ),
        today=added_on,
    )
    assert action.id is not None
    demo.settle(case.id, demo.moment((demo.today - added_on).days))
    if spec.status is not None:
        updater = demo.actor_of(action.owner_user_id) if action.owner_user_id is not None else lead
        update_action(session=session, actor=updater, action_id=action.id, status=spec.status, note=spec.note)
        demo.settle(case.id, demo.moment(spec.updated_days_ago))
    return True


def _agree(demo: _Demo, spec: DemoPlan) -> bool:
    case = demo.case(spec.case)
    if case is None or case.id is None:
        return False
    plan = demo.session.exec(select(ActionPlan).where(ActionPlan.case_id == case.id)).first()
    lead = demo.lead(case)
    if lead is None or (plan is not None and plan.agreed_on is not None):
        return False
    agreed_on = max(demo.today - timedelta(days=spec.agreed_days_ago), local_date(case.opened_at))
    agree_action_plan(session=demo.session, actor=lead, case_id=case.id, agreed_on=agreed_on, today=demo.today)
    if spec.reviewed_days_ago is not None:
        reviewed_on = max(demo.today - timedelta(days=spec.reviewed_days_ago), agreed_on)
        review_action_plan(session=demo.session, actor=lead, case_id=case.id, reviewed_on=reviewed_on, today=demo.today)
    demo.settle(case.id, demo.moment((demo.today - agreed_on).days))
    return True


def seed_action_demo(session: Session, *, now: datetime | None = None) -> int:
    """Add the demo's actions and plan agreements that are missing.  Returns how many actions
    were added.  ``now`` is the demo clock (default: now; it cannot be later)."""
    real_start = utcnow()
    now = now or real_start
    if now > real_start:
        raise ValueError("the demo clock cannot be ahead of the real one")
    demo = _Demo(session, now, real_start)
    added = sum(1 for spec in DEMO_ACTIONS if _add(demo, spec))
    for plan in DEMO_PLANS:
        _agree(demo, plan)
    return added
