"""The demo's cases: thirty of them through the real services, told relative to a demo clock,
with the special cases the demo needs to show (deadlines missed, the ASB Case Review threshold,
legal clocks, closure) and exactly the disclosed ones visible to the police.

Most tests read a database of their own, seeded with a fixed demo clock (``NOW``) so every
date can be checked exactly; the suite's database (seeded at the real time) is checked for
idempotence and for what the police see.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from dateutil.relativedelta import relativedelta
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, func, select

from panels.case_demo import DEMO_CASES, DEMO_PEOPLE, FIRST_REFERENCE, DemoCase, seed_case_demo
from panels.case_list import CaseFilters, list_cases
from panels.case_models import (
    Case,
    CaseEvent,
    CaseParty,
    CaseReport,
    Incident,
    Intervention,
    RiskAssessment,
    StageMove,
)
from panels.demo import seed_demo
from panels.policy import get_case_policy
from panels.remedies import clock_alerts
from panels.stages import approve_closure
from panels.vocabulary import CaseStage, CaseStatus, InterventionKind, PartyRole
from panels.working_days import local_date, local_zone
from sharing.accounts import actor_for_user
from sharing.audit import AuditAction
from sharing.db import get_engine, transaction
from sharing.migrations import upgrade_to_head
from sharing.models import Disclosure, DisclosureItem, InformationItem, Organisation, Person, User
from sharing.permissions import Actor
from sharing.vocabulary import DisclosureStatus, ItemKind
from tests.unit.helpers import audit_events

NOW = datetime(2026, 11, 18, 10, 0, tzinfo=UTC)  # a Wednesday
TODAY = date(2026, 11, 18)
ASB = "Eastbrook City Council ASB Team"
HOMES = "Eastbrook City Homes"
RIVERSIDE = "Riverside Homes"
SHARED = {"carter", "moss", "haddad", "hollis", "canal", "yusuf", "nowicki"}
OVERDUE = {"lindqvist", "olawale", "grant", "simmons"}


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    """A database of its own with the demo seeded on the fixed demo clock, without the demo's
    meetings and actions (they have their own tests)."""
    path: Path = tmp_path_factory.mktemp("case-demo") / "demo.db"
    url = f"sqlite:///{path.as_posix()}"
    upgrade_to_head(url)
    engine = get_engine(url)
    with pytest.MonkeyPatch.context() as patch, transaction(engine) as session:
        patch.setattr("panels.demo._seed_meetings", lambda session: False)
        patch.setattr("panels.demo._seed_actions", lambda session, now: 0)
        added = seed_demo(session, now=NOW)
    assert added["cases"] == 1
    yield engine
    engine.dispose()


def spec(key: str) -> DemoCase:
    return next(s for s in DEMO_CASES if s.key == key)


def case_of(session: Session, key: str) -> Case:
    """The demo case told by ``key`` (found through its first report)."""
    report = session.exec(select(CaseReport).where(CaseReport.what_happened == spec(key).report)).one()
    case = session.get(Case, report.case_id)
    assert case is not None
    return case


def keys_of(session: Session, cases: list[Case] | list[int]) -> set[str]:
    ids = {c if isinstance(c, int) else c.id for c in cases}
    return {s.key for s in DEMO_CASES if case_of(session, s.key).id in ids}


def actor(session: Session, email: str) -> Actor:
    return actor_for_user(session, session.exec(select(User).where(User.email == email)).one())


def org_id(session: Session, name: str) -> int:
    org = session.exec(select(Organisation).where(Organisation.name == name)).one()
    assert org.id is not None
    return org.id


def days_ago(moment: datetime) -> int:
    return (TODAY - moment.astimezone(local_zone()).date()).days


# --- What there is ---------------------------------------------------------------------------


def test_thirty_cases_led_by_three_organisations(demo: Engine) -> None:
    with Session(demo) as session:
        cases = session.exec(select(Case)).all()
        leads = Counter(session.get(Organisation, c.lead_organisation_id).name for c in cases)  # type: ignore[union-attr]
        assert len(cases) == len(DEMO_CASES) == 30
        assert leads == {ASB: 15, HOMES: 9, RIVERSIDE: 6}
        assert Counter(c.status for c in cases) == {
            CaseStatus.OPEN: 27, CaseStatus.CLOSED: 2, CaseStatus.CLOSURE_REQUESTED: 1,
        }  # fmt: skip
        # Varied: every category, a dozen types, every tenure that leads a case.
        assert {c.category for c in cases} == {"personal", "nuisance", "environmental"}
        assert len({t for c in cases for t in c.types}) >= 11
        tenures = set(session.exec(select(CaseParty.tenure)))
        assert tenures >= {
            "council_tenant", "housing_association_tenant", "leaseholder", "owner_occupier", "private_tenant",
        }  # fmt: skip
        roles = set(session.exec(select(CaseParty.role)))
        assert roles == {str(r) for r in PartyRole} - {"household_member"}
        # Every case came from a report, triaged to it.
        reports = session.exec(select(CaseReport)).all()
        assert sorted(r.case_id for r in reports) == sorted(c.id for c in cases)  # type: ignore[type-var]
        assert {r.channel for r in reports} == {"phone", "email", "online", "in_person", "third_party", "anonymous"}
        assert session.exec(select(func.count(col(Incident.id)))).one() == sum(len(s.incidents) for s in DEMO_CASES)


def test_the_first_three_cases_take_up_the_references_the_sharing_demo_filed_notes_under(demo: Engine) -> None:
    expected = {"carter": ("ASB-2026-0001", ASB, "Jamie Carter", "victim"),
                "moss": ("ASB-2026-0002", HOMES, "Dylan Moss", "alleged_perpetrator"),
                "vance": ("ASB-2026-0003", ASB, "Terry Vance", "alleged_perpetrator")}  # fmt: skip
    with Session(demo) as session:
        for key, (reference, lead, name, role) in expected.items():
            case = case_of(session, key)
            assert case.reference == reference
            assert session.get(Organisation, case.lead_organisation_id).name == lead  # type: ignore[union-attr]
            parties = {
                session.get(Person, p.person_id).display_name: p.role  # type: ignore[union-attr]
                for p in session.exec(select(CaseParty).where(CaseParty.case_id == case.id))
            }
            assert parties[name] == role
            items = session.exec(select(InformationItem).where(InformationItem.case_reference == reference)).all()
            # The sharing demo's note, the case summary, the report, the risk assessment and the incidents.
            assert {i.kind for i in items} >= {"case_summary", "case_note", "risk_assessment"}
            assert {i.owner_organisation_id for i in items} == {case.lead_organisation_id}
            summary = session.get(InformationItem, case.summary_item_id)
            assert summary is not None and summary.case_reference == reference and summary.title == f"Case {reference}"
        # Each adopted reference is on the audit trail, from the provisional one.  Which other
        # cases change theirs depends on the day the demo is seeded (a case opened in the story
        # last year takes last year's reference from the one this year's numbering gave it).
        changes = [
            e for e in audit_events(demo, action=AuditAction.CASE_UPDATED) if e.detail.get("change") == "reference"
        ]
        adopted = {e.subject_id: e.detail["to"] for e in changes}
        assert len(adopted) == len(changes)  # no case changes its reference twice
        assert {"ASB-2026-0001", "ASB-2026-0002", "ASB-2026-0003"} <= set(adopted.values())
        assert all(e.detail["from"] != e.detail["to"] for e in changes)
        for case_id, reference in adopted.items():
            case = session.get(Case, int(case_id))
            assert case is not None and case.reference == reference
            if reference not in {"ASB-2026-0001", "ASB-2026-0002", "ASB-2026-0003"}:
                assert reference.split("-")[-2] == str(local_date(case.opened_at).year)  # the year it opened


def test_references_run_by_organisation_and_year_opened(demo: Engine) -> None:
    with Session(demo) as session:
        assert case_of(session, "osei").reference == "ASB-2025-0001"  # opened 400 days before the demo clock
        riverside = sorted(
            c.reference
            for c in session.exec(select(Case).where(Case.lead_organisation_id == org_id(session, RIVERSIDE)))
        )
        assert riverside == [f"RH-2026-{n:04d}" for n in range(1, 7)]
        others = sorted(c.reference for c in session.exec(select(Case)) if c.reference.startswith("ASB-2026-"))
        assert others == [f"ASB-2026-{n:04d}" for n in range(1, 24)]


def test_riverside_homes_prioritises_with_welwyns_priority_1_to_4(demo: Engine) -> None:
    with Session(demo) as session:
        riverside = org_id(session, RIVERSIDE)
        policy = get_case_policy(session, riverside)
        assert policy.risk_scheme.key == "welwyn" and policy.reference_prefix == "RH"
        assert get_case_policy(session, org_id(session, ASB)).risk_scheme.key == "cambridge"
        labels = {c.risk_label for c in session.exec(select(Case).where(Case.lead_organisation_id == riverside))}
        assert labels == {"Priority 1", "Priority 2", "Priority 3", "Priority 4"}
        # The hate incident is Priority 1 whatever its score (15: Priority 3 alone).
        hate = case_of(session, "nowicki")
        assessment = session.exec(select(RiskAssessment).where(RiskAssessment.case_id == hate.id)).one()
        assert (assessment.score, assessment.level_label) == (15, "Priority 1")
        assert assessment.override_reason == "Hate incident: Priority 1 whatever the score"
        [event] = [e for e in audit_events(demo, action=AuditAction.POLICY_CHANGED) if e.subject_id == str(riverside)]
        assert event.detail["risk_scheme"] == "welwyn"


def test_council_cases_are_high_medium_standard_or_not_yet_assessed(demo: Engine) -> None:
    with Session(demo) as session:
        riverside = org_id(session, RIVERSIDE)
        labels = Counter(c.risk_label for c in session.exec(select(Case)) if c.lead_organisation_id != riverside)
        assert set(labels) == {"High", "Medium", "Standard", "Not assessed"}
        assert labels["Not assessed"] == 1
        assert case_of(session, "greaves").first_contact_due_at is None


# --- The special cases ---------------------------------------------------------------------------


def test_several_cases_are_past_their_first_contact_deadline(demo: Engine) -> None:
    with Session(demo) as session:
        overdue = session.exec(
            select(Case).where(col(Case.first_contact_due_at) < NOW, col(Case.first_contact_made_at).is_(None))
        ).all()
        assert keys_of(session, list(overdue)) == OVERDUE
        # Every other assessed case had its first contact, on time.
        for case in session.exec(select(Case).where(col(Case.first_contact_made_at).is_not(None))):
            assert case.first_contact_due_at is not None
            assert case.opened_at <= case.first_contact_made_at <= case.first_contact_due_at  # type: ignore[operator]
        lindqvist = case_of(session, "lindqvist")
        # High risk reported on Friday 13 November: due by the end of the next working day, Monday.
        assert lindqvist.first_contact_due_at is not None
        assert lindqvist.first_contact_due_at.astimezone(local_zone()).date() == date(2026, 11, 16)
    with transaction(demo) as session:
        officer = actor(session, "asb.officer@eastbrook.demo")
        page = list_cases(session=session, actor=officer, filters=CaseFilters(overdue_first_contact=True), now=NOW)
        assert {r.reference for r in page.rows} == {
            case_of(session, k).reference for k in OVERDUE if spec(k).lead in ("asb", "manager")
        }
        assert all(r.overdue for r in page.rows)


def test_one_case_meets_the_asb_case_review_threshold(demo: Engine) -> None:
    with Session(demo) as session:
        flagged = session.exec(select(Case).where(col(Case.case_review_eligible).is_(True))).all()
        assert keys_of(session, list(flagged)) == {"pike"}
        [case] = flagged
        assert case.case_review_reasons
        incidents = session.exec(select(Incident).where(Incident.case_id == case.id)).all()
        six_months_ago = NOW - relativedelta(months=6)
        assert len(incidents) == 3
        for incident in incidents:
            assert incident.occurred_at >= six_months_ago
            assert incident.reported_at <= incident.occurred_at + relativedelta(months=1)
        flags = [e for e in audit_events(demo, action=AuditAction.CASE_REVIEW_FLAGGED) if e.subject_id == str(case.id)]
        assert len(flags) == 1
        lines = session.exec(
            select(CaseEvent).where(CaseEvent.case_id == case.id, CaseEvent.kind == "case_review_flagged")
        ).all()
        assert [days_ago(line.occurred_at) for line in lines] == [20]  # when the third incident was reported


def test_a_notice_of_seeking_possession_is_about_to_expire(demo: Engine) -> None:
    with Session(demo) as session:
        case = case_of(session, "osei")
        assert (case.stage, case.status) == (CaseStage.LEGAL_REMEDIES, CaseStatus.OPEN)
        [nosp] = session.exec(select(Intervention).where(Intervention.case_id == case.id)).all()
        assert nosp.kind == InterventionKind.NOTICE_OF_SEEKING_POSSESSION and nosp.status == "served"
        assert nosp.served_on == TODAY - timedelta(days=350)  # about eleven and a half months ago
        assert nosp.expires_on == nosp.served_on + relativedelta(months=12)
        assert TODAY < nosp.expires_on <= TODAY + timedelta(days=30)
        fletcher = session.exec(select(Person).where(Person.family_name == "Fletcher")).one()
        assert nosp.subject_person_id == fletcher.id
        alerts = clock_alerts(nosp, TODAY, get_case_policy(session, case.lead_organisation_id).clocks)
        assert alerts == [f"Notice of Seeking Possession expires on {nosp.expires_on.day} "
                          f"{nosp.expires_on:%B %Y}: alert witnesses if appropriate"]  # fmt: skip


def test_a_demoted_tenancy_is_in_its_year_of_monitoring(demo: Engine) -> None:
    with Session(demo) as session:
        case = case_of(session, "price")
        notice, order = session.exec(
            select(Intervention).where(Intervention.case_id == case.id).order_by(col(Intervention.served_on))
        ).all()
        assert notice.kind == InterventionKind.NOTICE_OF_INTENTION_DEMOTION
        assert order.kind == InterventionKind.DEMOTION_ORDER and order.prior_intervention_id == notice.id
        assert notice.served_on == TODAY - timedelta(days=200)
        assert order.served_on == TODAY - timedelta(days=150)  # about five months ago
        assert notice.earliest_proceedings_on is not None and order.served_on >= notice.earliest_proceedings_on
        assert order.monitoring_ends_on == order.served_on + relativedelta(months=12)
        assert order.monitoring_ends_on > TODAY and order.status == "served"
        assert case.stage == CaseStage.LEGAL_REMEDIES


def test_closed_cases_have_reasons_and_a_managers_approval(demo: Engine) -> None:
    with Session(demo) as session:
        manager = session.exec(select(User).where(User.email == "psg.chair@eastbrook.demo")).one()
        officer = session.exec(select(User).where(User.email == "asb.officer@eastbrook.demo")).one()
        closed = session.exec(select(Case).where(Case.status == CaseStatus.CLOSED)).all()
        assert keys_of(session, list(closed)) == {"kaur", "barnes"}
        for case in closed:
            assert case.closure_reason and case.closure_note
            assert case.closure_requested_by_user_id == officer.id
            assert case.closure_approved_by_user_id == manager.id
            assert case.stage == CaseStage.CLOSURE
            assert case.closed_at is not None and case.victim_told_of_case_review_at == case.closed_at
            assert case.closure_requested_at is not None and case.closure_requested_at < case.closed_at
            items = session.exec(select(InformationItem).where(InformationItem.case_reference == case.reference))
            assert {i.case_closed_on for i in items} == {case.closed_at.date()}
        kaur = case_of(session, "kaur")
        assert (kaur.closure_reason, days_ago(kaur.closed_at), days_ago(kaur.closure_requested_at)) == (  # type: ignore[arg-type]
            "resolved", 38, 40,
        )  # fmt: skip


def test_one_case_awaits_the_managers_approval_and_one_is_proposed_for_closure(demo: Engine) -> None:
    with Session(demo) as session:
        waiting = session.exec(select(Case).where(Case.status == CaseStatus.CLOSURE_REQUESTED)).one()
        assert keys_of(session, [waiting]) == {"moreton"}
        assert waiting.closure_requested_at is not None and days_ago(waiting.closure_requested_at) == 6
        proposed = session.exec(select(Case).where(col(Case.closure_proposed_at).is_not(None))).all()
        assert keys_of(session, list(proposed)) == {"ellery"}
        [quiet] = proposed
        assert quiet.closure_proposed_at == NOW and quiet.status == CaseStatus.OPEN
        line = session.exec(
            select(CaseEvent).where(CaseEvent.case_id == quiet.id, CaseEvent.kind == "closure_proposed")
        ).one()
        assert line.occurred_at == NOW
    # Morgan Ellis, the team manager, can approve it (rolled back: the demo keeps it waiting).
    with Session(demo) as session:
        manager = actor(session, "psg.chair@eastbrook.demo")
        closed = approve_closure(session=session, actor=manager, case_id=waiting.id, victim_told_of_case_review=True)  # type: ignore[arg-type]
        assert closed.status == CaseStatus.CLOSED
        session.rollback()


def test_interventions_move_cases_to_their_stage_in_the_story(demo: Engine) -> None:
    with Session(demo) as session:
        stages = {s.key: case_of(session, s.key).stage for s in DEMO_CASES}
        assert stages["moss"] == stages["bell"] == stages["clarke"] == CaseStage.INTERVENTIONS
        assert stages["pike"] == CaseStage.REVIEW
        assert stages["vance"] == CaseStage.ENQUIRY
        kinds = Counter(i.kind for i in session.exec(select(Intervention)))
        assert kinds == {
            "warning_letter": 2, "acceptable_behaviour_contract": 1, "good_neighbour_agreement": 1,
            "community_protection_warning": 1, "notice_of_seeking_possession": 1,
            "notice_of_intention_demotion": 1, "demotion_order": 1,
        }  # fmt: skip
        # Each move was made at its moment in the story, before the intervention it led to.
        for intervention in session.exec(select(Intervention)):
            moves = session.exec(select(StageMove).where(StageMove.case_id == intervention.case_id)).all()
            assert intervention.created_at.astimezone(local_zone()).date() == intervention.served_on
            assert any(m.moved_at <= intervention.created_at for m in moves)


# --- The demo clock ------------------------------------------------------------------------------


def test_every_case_record_is_dated_by_the_demo_clock(demo: Engine) -> None:
    with Session(demo) as session:
        stamps = [
            *session.exec(select(CaseEvent.occurred_at)),
            *session.exec(select(CaseParty.added_at)),
            *session.exec(select(StageMove.moved_at)),
            *session.exec(select(Intervention.created_at)),
            *session.exec(select(RiskAssessment.assessed_at)),
            *session.exec(select(Incident.reported_at)),
            *session.exec(select(CaseReport.received_at)),
            *session.exec(select(Case.updated_at)),
            *session.exec(select(InformationItem.created_at).where(col(InformationItem.kind) != ItemKind.PERSON_DETAILS)
                          .where(col(InformationItem.title).not_like("ASB-2026-000%"))),
        ]  # fmt: skip
        assert stamps and max(stamps) <= NOW
        for key, opened in (("osei", 400), ("carter", 62), ("greaves", 1)):
            case = case_of(session, key)
            assert days_ago(case.opened_at) == opened
            assert case.opened_at.astimezone(local_zone()).hour == spec(key).report_hour
        carter = case_of(session, "carter")
        lines = session.exec(
            select(CaseEvent)
            .where(CaseEvent.case_id == carter.id)
            .order_by(col(CaseEvent.occurred_at), col(CaseEvent.id))
        ).all()
        assert [line.kind for line in lines] == [
            "report", "case_opened", "party_added", "party_added", "triage", "risk_assessed", "first_contact",
            "stage_moved", "incident", "incident",
        ]  # fmt: skip
        assert carter.updated_at == lines[-1].occurred_at


def test_the_people_are_fictional(demo: Engine) -> None:
    with Session(demo) as session:
        people = session.exec(select(Person)).all()
        assert len(people) == len(DEMO_PEOPLE) + 4  # and the sharing demo's four
        for person in people:
            assert not person.phone or re.fullmatch(r"07700 900\d{3}", person.phone), person.phone
            assert "Eastbrook" in person.address or person.address == "No fixed address", person.address


# --- What the police see -----------------------------------------------------------------------


def test_pc_jones_sees_exactly_the_cases_disclosed_to_the_police(demo: Engine) -> None:
    with transaction(demo) as session:
        jones = actor(session, "pc.jones@police.demo")
        page = list_cases(session=session, actor=jones, filters=CaseFilters(status="all"), page_size=100, now=NOW)
        shared = {case_of(session, k).reference for k in SHARED}
        assert {r.reference for r in page.rows} == shared and page.total == len(SHARED)
        assert {"ASB-2026-0001", "ASB-2026-0002"} <= shared and "ASB-2026-0003" not in shared
        assert all(not r.is_lead and r.access == "disclosed" for r in page.rows)
    with Session(demo) as session:
        police = org_id(session, "Eastshire Police")
        # The NoSP case was asked for under s.115 and awaits the information-sharing officer.
        osei = case_of(session, "osei")
        waiting = session.exec(
            select(Disclosure)
            .join(DisclosureItem, col(DisclosureItem.disclosure_id) == col(Disclosure.id))
            .where(DisclosureItem.item_id == osei.summary_item_id, Disclosure.recipient_organisation_id == police)
        ).one()
        assert waiting.status == DisclosureStatus.AWAITING_APPROVAL and waiting.basis == "crime_and_disorder_s115"
        assert osei.reference not in {r.reference for r in page.rows}


def test_the_police_added_an_incident_to_a_case_shared_with_them(demo: Engine) -> None:
    with Session(demo) as session:
        police = org_id(session, "Eastshire Police")
        [incident] = session.exec(select(Incident).where(Incident.entered_by_organisation_id == police)).all()
        case = case_of(session, "moss")
        assert incident.case_id == case.id and incident.crime_reference == "EP/26/40312"
        item = session.get(InformationItem, incident.item_id)
        assert item is not None and item.owner_organisation_id == case.lead_organisation_id


def test_the_suites_demo_shows_the_police_the_same_cases(engine: Engine) -> None:
    """The suite's own database, seeded at the real time."""
    with transaction(engine) as session:
        jones = actor(session, "pc.jones@police.demo")
        page = list_cases(session=session, actor=jones, filters=CaseFilters(status="all"), page_size=100)
        demo_refs = {case_of(session, k).reference for k in SHARED}
        assert demo_refs <= {r.reference for r in page.rows}
        assert case_of(session, "vance").reference not in {r.reference for r in page.rows}
        assert case_of(session, "osei").reference not in {r.reference for r in page.rows}


# --- Seeding again ---------------------------------------------------------------------------------


@pytest.mark.parametrize("which", ["fixed clock", "suite"])
def test_seeding_again_adds_nothing(demo: Engine, engine: Engine, which: str, monkeypatch: pytest.MonkeyPatch) -> None:
    target = demo if which == "fixed clock" else engine
    monkeypatch.setattr("panels.demo._seed_meetings", lambda session: False)  # as the fixture seeded it
    monkeypatch.setattr("panels.demo._seed_actions", lambda session, now: 0)
    with Session(target) as session:
        before = (
            session.exec(select(func.count(col(Case.id)))).one(),
            session.exec(select(func.count(col(CaseEvent.id)))).one(),
            session.exec(select(func.count(col(Person.id)))).one(),
        )
        first = session.exec(select(Case).where(Case.reference == FIRST_REFERENCE)).one()
    with transaction(target) as session:
        assert seed_case_demo(session, now=NOW) is False
        assert seed_demo(session)["cases"] == 0
    with Session(target) as session:
        after = (
            session.exec(select(func.count(col(Case.id)))).one(),
            session.exec(select(func.count(col(CaseEvent.id)))).one(),
            session.exec(select(func.count(col(Person.id)))).one(),
        )
        assert after == before
        assert session.exec(select(Case).where(Case.reference == FIRST_REFERENCE)).one().updated_at == first.updated_at


def test_the_demo_clock_cannot_run_ahead(demo: Engine) -> None:
    with Session(demo) as session, pytest.raises(ValueError, match="ahead"):
        seed_case_demo(session, now=datetime.now(UTC) + timedelta(days=1))
