"""Reminders: each cadence and clock rule on its exact days, the sweep raising each reminder
once however often it runs, who hears of what, and the weekly digest to managers."""

from __future__ import annotations

import sys
import types
import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from panels import reminders as reminders_module
from panels.action_models import Notification, Reminder, ReminderKind
from panels.action_plans import record_victim_contact
from panels.case_models import Case, Intervention
from panels.policy import CasePolicy, ContactCadence, LegalClocks, StagePolicy, set_case_policy
from panels.reminders import (
    SWEEP_STEPS,
    ChunksFailed,
    Due,
    SweepIncomplete,
    action_reminders,
    agreement_reminders,
    contact_reminders,
    escalation_due,
    first_contact_reminders,
    intervention_reminders,
    next_plan_review_on,
    plan_reminders,
    queue_manager_digests,
    raise_in_chunks,
    raise_reminders,
    register_sweep_step,
    sar_reminders,
    stage_reminders,
    sweep_reminders,
)
from sharing.audit import verify_chain
from sharing.db import transaction
from sharing.models import AgreementParty, OrganisationType, Role, SharingAgreement, SubjectAccessRequest
from sharing.permissions import SYSTEM_ACTOR
from sharing.register import PersonInput, create_person
from tests.conftest import actor_of, unique
from tests.unit.action_helpers import add, notifications_of
from tests.unit.case_helpers import CaseWorld, case_world, make_case
from tests.unit.helpers import audit_events, last_audit_id, update_row

__all__ = ["case_world"]

D = date(2026, 3, 2)  # a Monday in winter: London time is UTC
CADENCE = ContactCadence()
CLOCKS = LegalClocks()


def noon(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 12, tzinfo=UTC)


def keys(dues: list[Any]) -> list[str]:
    return [d.key for d in dues]


# --- The rules, day by day -------------------------------------------------------------------


def test_an_action_is_reminded_on_its_day_and_once_when_overdue() -> None:
    rule = {"action_id": 42, "number": 3, "case_id": 7, "case_reference": "ASB-2026-0007", "due_on": D}
    assert action_reminders(**rule, status="open", today=D - timedelta(days=1)) == []
    on_the_day = action_reminders(**rule, status="in_progress", today=D)
    assert keys(on_the_day) == ["action:42:due:2026-03-02"]
    assert on_the_day[0].title == "Action 3 due today on case ASB-2026-0007"
    assert keys(action_reminders(**rule, status="open", today=D + timedelta(days=1))) == [
        "action:42:overdue:2026-03-02"
    ]
    # The same key every later day: the sweep raises it once.
    assert keys(action_reminders(**rule, status="open", today=D + timedelta(days=9))) == [
        "action:42:overdue:2026-03-02"
    ]
    assert action_reminders(**rule, status="done", today=D + timedelta(days=1)) == []


def test_first_contact_is_due_on_the_deadlines_day_and_late_from_its_minute() -> None:
    due_at = datetime(2026, 3, 2, 17, 0, tzinfo=UTC)
    rule = {"case_id": 7, "reference": "R", "due_at": due_at, "made": False}
    assert first_contact_reminders(**rule, now=due_at - timedelta(days=1), today=D - timedelta(days=1)) == []
    assert keys(first_contact_reminders(**rule, now=due_at - timedelta(hours=8), today=D)) == [
        "case:7:first_contact:due:2026-03-02"
    ]
    late = first_contact_reminders(**rule, now=due_at + timedelta(minutes=1), today=D)
    assert [(d.key, d.kind) for d in late] == [
        ("case:7:first_contact:overdue:2026-03-02", ReminderKind.FIRST_CONTACT_OVERDUE)
    ]
    assert first_contact_reminders(**{**rule, "made": True}, now=due_at + timedelta(days=1), today=D) == []


def test_the_victim_is_contacted_every_two_weeks_and_updated_every_month() -> None:
    rule = {"case_id": 7, "reference": "R", "last_contact_on": D, "last_update_on": D, "cadence": CADENCE}
    assert contact_reminders(**rule, today=D + timedelta(days=13)) == []
    assert keys(contact_reminders(**rule, today=D + timedelta(days=14))) == ["case:7:victim_contact:due:2026-03-16"]
    assert keys(contact_reminders(**rule, today=D + timedelta(days=15))) == ["case:7:victim_contact:overdue:2026-03-16"]
    assert keys(contact_reminders(**rule, today=D + timedelta(days=30))) == [
        "case:7:victim_contact:overdue:2026-03-16",
        "case:7:victim_update:due:2026-04-01",
    ]
    # A council's own cadence: contact weekly.
    weekly = contact_reminders(
        **{**rule, "cadence": ContactCadence(victim_contact_every_days=7)}, today=D + timedelta(days=7)
    )
    assert keys(weekly) == ["case:7:victim_contact:due:2026-03-09"]
    # Before the first contact there is nothing to count from.
    assert (
        contact_reminders(**{**rule, "last_contact_on": None, "last_update_on": None}, today=D + timedelta(days=99))
        == []
    )


def test_the_plan_is_agreed_by_its_day_then_reviewed_every_three_months() -> None:
    rule = {"case_id": 7, "reference": "R", "due_to_agree_by": D, "cadence": CADENCE}
    assert plan_reminders(**rule, agreed_on=None, last_reviewed_on=None, today=D - timedelta(days=1)) == []
    assert keys(plan_reminders(**rule, agreed_on=None, last_reviewed_on=None, today=D)) == [
        "case:7:plan_agreement:due:2026-03-02"
    ]
    assert keys(plan_reminders(**rule, agreed_on=None, last_reviewed_on=None, today=D + timedelta(days=1))) == [
        "case:7:plan_agreement:overdue:2026-03-02"
    ]
    assert next_plan_review_on(D, None, CADENCE) == date(2026, 6, 2)
    assert next_plan_review_on(D, date(2026, 5, 31), CADENCE) == date(2026, 8, 31)
    assert next_plan_review_on(date(2025, 11, 30), None, CADENCE) == date(2026, 2, 28)  # no 30 February
    assert plan_reminders(**rule, agreed_on=D, last_reviewed_on=None, today=date(2026, 6, 1)) == []
    assert keys(plan_reminders(**rule, agreed_on=D, last_reviewed_on=None, today=date(2026, 6, 2))) == [
        "case:7:plan_review:due:2026-06-02"
    ]


def test_stage_reviews_and_the_enquiry_limit() -> None:
    stages = StagePolicy()
    rule = {
        "case_id": 7,
        "reference": "R",
        "stage_entered_on": D,
        "next_review_on": D + timedelta(days=40),
        "stages": stages,
    }
    assert stage_reminders(**rule, stage="enquiry", today=D + timedelta(days=27)) == []
    assert keys(stage_reminders(**rule, stage="enquiry", today=D + timedelta(days=28))) == [
        "case:7:enquiry_limit:due:2026-03-30"
    ]
    assert keys(stage_reminders(**rule, stage="investigation", today=D + timedelta(days=40))) == [
        "case:7:stage_review:due:2026-04-11"
    ]
    assert keys(stage_reminders(**rule, stage="enquiry", today=D + timedelta(days=41))) == [
        "case:7:stage_review:overdue:2026-04-11",
        "case:7:enquiry_limit:overdue:2026-03-30",
    ]


def test_legal_clocks() -> None:
    expires = date(2027, 3, 2)
    rule: dict[str, Any] = {
        "intervention_id": 5, "case_id": 7, "reference": "R", "kind": "notice_of_seeking_possession",
        "expires_on": expires, "review_request_by": None, "earliest_proceedings_on": None, "monitoring_ends_on": None,
        "clocks": CLOCKS,
    }  # fmt: skip
    warn_from = expires - timedelta(days=CLOCKS.nosp_expiry_warning_days)
    assert intervention_reminders(**rule, today=warn_from - timedelta(days=1)) == []
    expiring = intervention_reminders(**rule, today=warn_from)
    assert keys(expiring) == ["intervention:5:expiring:2027-03-02"]
    assert expiring[0].title == "Notice of Seeking Possession ends on 2 March 2027: case R"
    assert keys(intervention_reminders(**rule, today=expires)) == ["intervention:5:expiring:2027-03-02"]
    assert intervention_reminders(**rule, today=expires + timedelta(days=1)) == []

    noi = {**rule, "kind": "notice_of_intention_demotion", "expires_on": None,
           "review_request_by": D, "earliest_proceedings_on": D + timedelta(days=14)}  # fmt: skip
    assert intervention_reminders(**noi, today=D - timedelta(days=1)) == []
    on_the_day = intervention_reminders(**noi, today=D)
    assert keys(on_the_day) == ["intervention:5:review_request_by:2026-03-02"]
    assert "ends today" in on_the_day[0].title
    assert "ended on 2 March 2026" in intervention_reminders(**noi, today=D + timedelta(days=1))[0].title
    assert (
        keys(intervention_reminders(**noi, today=D + timedelta(days=14)))[-1] == "intervention:5:proceedings:2026-03-16"
    )

    demotion = {**rule, "kind": "demotion_order", "expires_on": None, "monitoring_ends_on": expires}
    assert keys(intervention_reminders(**demotion, today=warn_from)) == ["intervention:5:monitoring_ends:2027-03-02"]
    # A council that warns 60 days ahead.
    early = {**rule, "clocks": LegalClocks(nosp_expiry_warning_days=60)}
    assert keys(intervention_reminders(**early, today=expires - timedelta(days=60))) == [
        "intervention:5:expiring:2027-03-02"
    ]


def test_agreements_sars_and_the_managers_digest() -> None:
    rule = {
        "agreement_id": 3,
        "reference": "ISA-1",
        "review_on": D,
        "ends_on": D + timedelta(days=90),
        "warning_days": 30,
    }
    assert agreement_reminders(**rule, today=D - timedelta(days=31)) == []
    assert keys(agreement_reminders(**rule, today=D - timedelta(days=30))) == ["agreement:3:review:2026-03-02"]
    assert keys(agreement_reminders(**rule, today=D + timedelta(days=60))) == [
        "agreement:3:review:2026-03-02",
        "agreement:3:ends:2026-05-31",
    ]
    assert sar_reminders(sar_id=9, deadline=D, warning_days=7, today=D - timedelta(days=8)) == []
    assert keys(sar_reminders(sar_id=9, deadline=D, warning_days=7, today=D - timedelta(days=7))) == [
        "sar:9:due:2026-03-02"
    ]
    assert keys(sar_reminders(sar_id=9, deadline=D, warning_days=7, today=D)) == ["sar:9:due:2026-03-02"]
    assert keys(sar_reminders(sar_id=9, deadline=D, warning_days=7, today=D + timedelta(days=1))) == [
        "sar:9:overdue:2026-03-02"
    ]
    digest = {"organisation_id": 4, "organisation": "Eastshire Police", "cadence": CADENCE, "today": D}
    assert escalation_due(**digest, overdue_days=[14, 3]) == []  # "more than" two weeks
    due = escalation_due(**digest, overdue_days=[15, 14, 40])
    assert keys(due) == ["escalation:4:2026-W10"]
    assert due[0].title == "2 actions more than 14 days overdue"
    assert "Eastshire Police" in due[0].body and "40 days" in due[0].body


# --- The sweep against the database --------------------------------------------------------------


def reminders_with(engine: Engine, prefix: str) -> list[Reminder]:
    with Session(engine) as session:
        return list(
            session.exec(select(Reminder).where(col(Reminder.dedupe_key).startswith(prefix)).order_by(col(Reminder.id)))
        )


def sweep(engine: Engine, day: date) -> dict[str, int]:
    return sweep_reminders(engine=engine, now=noon(day))


def test_running_the_sweep_twice_raises_each_reminder_once(engine: Engine, case_world: CaseWorld) -> None:
    cw = case_world
    case = make_case(engine, cw.officer)
    action = add(
        engine, cw.officer, case.id, owner_organisation_id=cw.police_id, owner_user_id=cw.police.user_id,
        due_on=D, today=D - timedelta(days=10),
    )  # fmt: skip
    since = last_audit_id(engine)
    sweep(engine, D - timedelta(days=1))
    assert reminders_with(engine, f"action:{action.id}:") == []
    for _ in range(2):
        sweep(engine, D)
    assert [r.dedupe_key for r in reminders_with(engine, f"action:{action.id}:")] == [f"action:{action.id}:due:{D}"]
    for day in (D + timedelta(days=1), D + timedelta(days=1), D + timedelta(days=5)):
        sweep(engine, day)
    found = reminders_with(engine, f"action:{action.id}:")
    assert [r.dedupe_key for r in found] == [f"action:{action.id}:due:{D}", f"action:{action.id}:overdue:{D}"]
    assert all(r.recipient_user_ids == [cw.police.user_id] for r in found)
    told = [n for n in notifications_of(engine, cw.police.user_id) if n.reminder_id in {r.id for r in found}]
    assert len(told) == 2 and all(n.case_reference == case.reference for n in told)
    raised = audit_events(engine, since=since, action="notifications:reminder:raised", subject_type="case_action")
    assert [e.detail["key"] for e in raised if e.subject_id == str(action.id)] == [r.dedupe_key for r in found]


def test_an_action_without_an_owner_goes_to_the_owner_organisations_managers(
    engine: Engine, case_world: CaseWorld, make_user: Callable[..., tuple[int, str]]
) -> None:
    cw = case_world
    manager, _ = make_user((Role.MANAGER,), organisation_id=cw.police_id, password=None)
    case = make_case(engine, cw.officer)
    action = add(engine, cw.officer, case.id, owner_organisation_id=cw.police_id, due_on=D, today=D)
    sweep(engine, D)
    assert reminders_with(engine, f"action:{action.id}:")[0].recipient_user_ids == [manager]


def test_case_reminders_go_to_the_lead_officer_by_the_lead_organisations_policy(
    engine: Engine, case_world: CaseWorld
) -> None:
    cw = case_world
    case = make_case(engine, cw.officer)
    with transaction(engine) as session:
        set_case_policy(
            session=session, actor=SYSTEM_ACTOR, organisation_id=cw.council_id,
            policy=CasePolicy(cadence=ContactCadence(victim_contact_every_days=7)),
        )  # fmt: skip
    update_row(
        engine, Case, case.id, opened_at=noon(D) - timedelta(days=1), first_contact_due_at=noon(D) + timedelta(hours=5)
    )
    sweep(engine, D)
    first = reminders_with(engine, f"case:{case.id}:first_contact")
    assert [r.dedupe_key for r in first] == [f"case:{case.id}:first_contact:due:{D}"]
    assert first[0].recipient_user_ids == [cw.officer.user_id]
    # Contact made: no more first-contact reminders; the weekly cadence runs from it.
    with transaction(engine) as session:
        record_victim_contact(
            session=session, actor=cw.officer, case_id=case.id, contacted_at=noon(D), method="phone", now=noon(D)
        )
    sweep(engine, D + timedelta(days=2))
    assert len(reminders_with(engine, f"case:{case.id}:first_contact")) == 1
    assert reminders_with(engine, f"case:{case.id}:victim_contact") == []
    sweep(engine, D + timedelta(days=7))
    assert [r.dedupe_key for r in reminders_with(engine, f"case:{case.id}:victim_contact")] == [
        f"case:{case.id}:victim_contact:due:{D + timedelta(days=7)}"
    ]
    # The plan was due to be agreed within 10 working days of the report: overdue by now.
    sweep(engine, D + timedelta(days=60))
    assert [r.kind for r in reminders_with(engine, f"case:{case.id}:plan_agreement")] == ["plan_agreement_overdue"]


def test_closed_cases_get_no_reminders(engine: Engine, case_world: CaseWorld) -> None:
    cw = case_world
    case = make_case(engine, cw.officer)
    add(engine, cw.officer, case.id, owner_organisation_id=cw.council_id, due_on=D, today=D)
    update_row(engine, Case, case.id, status="closed", next_review_on=D)
    sweep(engine, D + timedelta(days=1))
    assert reminders_with(engine, f"case:{case.id}:") == []
    with Session(engine) as session:
        assert session.exec(select(Reminder).where(Reminder.case_id == case.id)).all() == []


def test_an_intervention_about_to_expire_is_warned_of_once_and_marked(engine: Engine, case_world: CaseWorld) -> None:
    cw = case_world
    case = make_case(engine, cw.officer)
    expires = D + timedelta(days=CLOCKS.nosp_expiry_warning_days)
    with transaction(engine) as session:
        intervention = Intervention(
            case_id=case.id, kind="notice_of_seeking_possession", status="served", served_on=D - timedelta(days=335),
            expires_on=expires,
        )  # fmt: skip
        session.add(intervention)
        session.flush()
        intervention_id = intervention.id
    sweep(engine, D)
    sweep(engine, D + timedelta(days=3))
    found = reminders_with(engine, f"intervention:{intervention_id}:")
    assert [r.dedupe_key for r in found] == [f"intervention:{intervention_id}:expiring:{expires}"]
    assert found[0].recipient_user_ids == [cw.officer.user_id]
    with Session(engine) as session:
        row = session.get(Intervention, intervention_id)
        assert row is not None and row.expiry_warned_at == noon(D)


def test_sharing_officers_hear_of_agreements_and_subject_access_requests(
    engine: Engine, make_organisation: Callable[..., int], make_user: Callable[..., tuple[int, str]]
) -> None:
    org = make_organisation(type=OrganisationType.COUNCIL_ASB_TEAM)
    iso, _ = make_user((Role.INFORMATION_SHARING_OFFICER,), organisation_id=org, password=None)
    officer, _ = make_user((Role.LEAD_OFFICER,), organisation_id=org, password=None)
    with transaction(engine) as session:
        agreement = SharingAgreement(
            title="Test ISA", reference=unique("ISA"), status="active", starts_on=D - timedelta(days=300),
            ends_on=D + timedelta(days=400), review_on=D + timedelta(days=10),
        )  # fmt: skip
        session.add(agreement)
        session.flush()
        session.add(AgreementParty(agreement_id=agreement.id, organisation_id=org))
        person = create_person(
            session=session, actor=actor_of(engine, officer), data=PersonInput(given_name="Alice", family_name="Zed")
        )
        sar = SubjectAccessRequest(
            person_id=person.id, organisation_id=org, received_on=D - timedelta(days=25), due_on=D
        )
        session.add(sar)
        session.flush()
        agreement_id, sar_id = agreement.id, sar.id
    sweep(engine, D)
    assert [r.recipient_user_ids for r in reminders_with(engine, f"agreement:{agreement_id}:")] == [[iso]]
    assert [r.dedupe_key for r in reminders_with(engine, f"sar:{sar_id}:")] == [f"sar:{sar_id}:due:{D}"]
    titles = [n.title for n in notifications_of(engine, iso)]
    assert f"Subject access request {sar_id} is due on 2 March 2026" in titles
    assert not any("Alice" in t or "Zed" in t for t in titles)


def test_the_weekly_digest_tells_managers_of_actions_more_than_two_weeks_overdue(
    engine: Engine,
    case_world: CaseWorld,
    make_organisation: Callable[..., int],
    make_user: Callable[..., tuple[int, str]],
) -> None:
    cw = case_world
    agency = make_organisation(type=OrganisationType.PROBATION)
    manager, _ = make_user((Role.MANAGER,), organisation_id=agency, password=None)
    case = make_case(engine, cw.officer)
    add(engine, cw.officer, case.id, owner_organisation_id=agency, due_on=D, today=D)

    def digest(day: date) -> list[Reminder]:
        with transaction(engine) as session:
            queue_manager_digests(session=session, now=noon(day))
        return reminders_with(engine, f"escalation:{agency}:")

    assert digest(D + timedelta(days=14)) == []  # exactly two weeks: not yet
    assert [r.dedupe_key for r in digest(D + timedelta(days=15))] == [f"escalation:{agency}:2026-W12"]
    assert len(digest(D + timedelta(days=16))) == 1  # once a week
    assert len(digest(D + timedelta(days=22))) == 2  # the next week
    assert all(r.recipient_user_ids == [manager] for r in reminders_with(engine, f"escalation:{agency}:"))


def test_other_clocks_join_the_sweep(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[date] = []

    def proposals(*, session: Session, today: date) -> list[int]:  # given only what it names
        calls.append(today)
        return [1, 2]

    monkeypatch.setitem(sys.modules, "panels.stages", types.SimpleNamespace(propose_quiet_cases_for_closure=proposals))
    monkeypatch.setitem(SWEEP_STEPS, "extra", lambda session, now, today: {"extra_things": 3})
    counts = sweep(engine, D)
    assert calls == [D]
    assert counts["closures_proposed"] == 2 and counts["extra_things"] == 3
    register_sweep_step("another", lambda session, now, today: {})
    assert "another" in SWEEP_STEPS
    del SWEEP_STEPS["another"]


def test_a_failing_step_does_not_stop_the_other_reminders(
    engine: Engine, case_world: CaseWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    cw = case_world
    case = make_case(engine, cw.officer)
    action = add(engine, cw.officer, case.id, owner_organisation_id=cw.council_id, due_on=D, today=D)

    def broken(session: Session, now: datetime, today: date) -> dict[str, int]:
        session.add(Reminder(dedupe_key=f"broken:{uuid.uuid4().hex}", kind="x"))
        session.flush()
        raise ValueError("a clock broke")

    steps = {"broken": broken, **SWEEP_STEPS}  # first, so the others run after it
    monkeypatch.setattr("panels.reminders.SWEEP_STEPS", steps)
    with pytest.raises(SweepIncomplete, match=r"broken \(ValueError: a clock broke\)"):
        sweep(engine, D)
    assert len(reminders_with(engine, f"action:{action.id}:")) == 1
    assert reminders_with(engine, "broken:") == []  # its own writes rolled back


def test_notifications_made_by_reminders_carry_no_personal_data(engine: Engine, case_world: CaseWorld) -> None:
    cw = case_world
    case = make_case(engine, cw.officer, location="14 Acacia Avenue")
    add(engine, cw.officer, case.id, owner_organisation_id=cw.police_id, owner_user_id=cw.police.user_id,
        description="Speak to Mr Smith at 14 Acacia Avenue", due_on=D, today=D)  # fmt: skip
    sweep(engine, D)
    with Session(engine) as session:
        made = session.exec(select(Notification).where(Notification.case_reference == case.reference)).all()
    assert made
    for n in made:
        assert "Smith" not in n.title + n.body and "Acacia" not in n.title + n.body
    assert ReminderKind.ACTION_DUE in {n.kind for n in made}


# --- Raising in chunks -----------------------------------------------------------------------------


def chunk_dues(stem: str, count: int, **about: Any) -> list[Due]:
    return [
        Due(f"{stem}:{n}", ReminderKind.RETENTION_DUE, D, f"Reminder {n}", "Words only.", "/sharing/records", **about)
        for n in range(count)
    ]


def told_about(engine: Engine, stem: str) -> list[tuple[str, int]]:
    """(key, recipient) of every notification a reminder under ``stem`` made."""
    with Session(engine) as session:
        return list(
            session.exec(
                select(Reminder.dedupe_key, Notification.recipient_user_id)
                .join(Notification, col(Notification.reminder_id) == col(Reminder.id))
                .where(col(Reminder.dedupe_key).startswith(stem))
                .order_by(col(Notification.id))
            ).all()
        )


def chain_verifies(engine: Engine) -> bool:
    with Session(engine) as session:
        return verify_chain(session).ok


def test_chunks_skip_keys_raised_already_and_raise_the_rest_once(
    engine: Engine, make_user: Callable[..., tuple[int, str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("panels.reminders.SWEEP_CHUNK", 3)
    first, _ = make_user(password=None)
    second, _ = make_user(password=None)
    stem = unique("chunk")
    dues = chunk_dues(stem, 8)
    with transaction(engine) as session:  # raised by an earlier run
        raise_reminders(session, [(dues[1], [first]), (dues[4], [first])], now=noon(D))
    since = last_audit_id(engine)
    raised = raise_in_chunks(engine=engine, pending=[(d, [first, second, first]) for d in dues], now=noon(D))
    assert raised == {ReminderKind.RETENTION_DUE: 6}
    assert [r.dedupe_key for r in reminders_with(engine, f"{stem}:")] == [dues[n].key for n in (1, 4, 0, 2, 3, 5, 6, 7)]
    new = [dues[n].key for n in (0, 2, 3, 5, 6, 7)]
    assert told_about(engine, f"{stem}:") == [(dues[n].key, first) for n in (1, 4)] + [
        (key, who) for key in new for who in (first, second)
    ]
    events = audit_events(engine, since=since, action="notifications:reminder:raised")
    assert [e.detail["key"] for e in events if e.detail["key"].startswith(stem)] == new
    assert all(e.detail["recipients"] == [first, second, first] for e in events if e.detail["key"] in new)
    assert chain_verifies(engine)
    # Again: nothing.
    since = last_audit_id(engine)
    assert raise_in_chunks(engine=engine, pending=[(d, [first]) for d in dues], now=noon(D)) == {}
    assert len(told_about(engine, f"{stem}:")) == 14
    assert audit_events(engine, since=since) == []


def test_a_chunk_meeting_a_key_raised_after_its_check_is_checked_again_and_raises_the_rest_once(
    engine: Engine, make_user: Callable[..., tuple[int, str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another sweep raised one of the chunk's keys between the check and the insert: the
    unique key refuses the insert, the chunk rolls back whole and is tried again."""
    monkeypatch.setattr("panels.reminders.SWEEP_CHUNK", 4)
    user, _ = make_user(password=None)
    stem = unique("race")
    dues = chunk_dues(stem, 6)
    with transaction(engine) as session:  # the other sweep's
        raise_reminders(session, [(dues[2], [user])], now=noon(D))
    checks = {"stale": 2}  # both checks of the first attempt ran before the other sweep committed
    real_check = reminders_module._not_raised

    def check(session: Session, pending: Any) -> list[Any]:
        pending = list(pending)
        fresh = real_check(session, pending)
        if checks["stale"] and any(due.key == dues[2].key for due, _ in pending):
            checks["stale"] -= 1
            return [p for p in pending if p in fresh or p[0].key == dues[2].key]
        return fresh

    monkeypatch.setattr("panels.reminders._not_raised", check)
    since = last_audit_id(engine)
    raised = raise_in_chunks(engine=engine, pending=[(d, [user]) for d in dues], now=noon(D))
    assert checks["stale"] == 0
    assert raised == {ReminderKind.RETENTION_DUE: 5}
    assert sorted(r.dedupe_key for r in reminders_with(engine, f"{stem}:")) == sorted(d.key for d in dues)
    assert sorted(told_about(engine, f"{stem}:")) == sorted((d.key, user) for d in dues)
    events = audit_events(engine, since=since, action="notifications:reminder:raised")
    assert [e.detail["key"] for e in events] == [dues[n].key for n in (0, 1, 3, 4, 5)]
    assert chain_verifies(engine)


def test_a_chunk_that_fails_loses_only_itself(
    engine: Engine, make_user: Callable[..., tuple[int, str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("panels.reminders.SWEEP_CHUNK", 2)
    user, _ = make_user(password=None)
    stem = unique("broken")
    dues = chunk_dues(stem, 6)
    # A case that does not exist: the database refuses the reminder, however often it is tried.
    dues[3] = Due(f"{stem}:3", ReminderKind.STAGE_REVIEW_DUE, D, "Case review", "", "/cases/0", case_id=-1)
    with pytest.raises(ChunksFailed, match="1 of 3 chunks") as failed:
        raise_in_chunks(engine=engine, pending=[(d, [user]) for d in dues], now=noon(D))
    assert failed.value.raised == {ReminderKind.RETENTION_DUE: 4}
    assert [r.dedupe_key for r in reminders_with(engine, f"{stem}:")] == [dues[n].key for n in (0, 1, 4, 5)]
    assert [key for key, _ in told_about(engine, f"{stem}:")] == [dues[n].key for n in (0, 1, 4, 5)]
    assert chain_verifies(engine)


def test_the_sweep_raises_in_chunks_and_the_audit_trail_still_verifies(
    engine: Engine, case_world: CaseWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("panels.reminders.SWEEP_CHUNK", 2)
    cw = case_world
    keys, titles = [], []
    for _ in range(3):
        case = make_case(engine, cw.officer)
        action = add(
            engine, cw.officer, case.id, owner_organisation_id=cw.police_id, owner_user_id=cw.police.user_id,
            due_on=D, today=D,
        )  # fmt: skip
        keys.append(f"action:{action.id}:due:{D}")
        titles.append(f"Action {action.number} due today on case {case.reference}")
    since = last_audit_id(engine)
    sweep(engine, D)
    sweep(engine, D)
    assert [r.dedupe_key for key in keys for r in reminders_with(engine, key)] == keys
    raised = audit_events(engine, since=since, action="notifications:reminder:raised", subject_type="case_action")
    assert sorted(e.detail["key"] for e in raised if e.detail["key"] in keys) == sorted(keys)
    told = [n.title for n in notifications_of(engine, cw.police.user_id) if n.kind == ReminderKind.ACTION_DUE]
    assert sorted(told) == sorted(titles)
    assert chain_verifies(engine)
