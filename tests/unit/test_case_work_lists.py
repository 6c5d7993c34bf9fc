"""The lists behind the Reports and Cases pages: the triage queue newest first, the recently
triaged reports with their outcome, and the choices the case list's filters offer."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.engine import Engine

from panels.case_list import NOT_ASSESSED, case_list_choices
from panels.cases import CaseInput
from panels.triage import (
    ReportInput,
    TriageDecision,
    list_recently_triaged,
    list_reports_awaiting_triage,
    record_report,
    triage_report,
)
from sharing.db import transaction
from sharing.errors import PermissionDenied
from sharing.models import Role, User
from sharing.permissions import Actor
from tests.unit.case_partners import Partnership, partnership
from tests.unit.helpers import update_row
from tests.unit.sharing_helpers import access_log, last_access_log_id, make_actor

__all__ = ["partnership"]

RECEIVED = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)


def report(engine: Engine, actor: Actor, received_at: datetime, what: str, **overrides: object) -> int:
    data = ReportInput(channel="phone", what_happened=what, received_at=received_at, reporter_name="Sam Caller")
    for key, value in overrides.items():
        setattr(data, key, value)
    with transaction(engine) as session:
        row = record_report(session=session, actor=actor, data=data)
        assert row.id is not None
        return row.id


def triage(engine: Engine, actor: Actor, report_id: int, decision: TriageDecision, now: datetime) -> None:
    with transaction(engine) as session:
        triage_report(session=session, actor=actor, report_id=report_id, decision=decision, now=now)


# --- The triage queue -----------------------------------------------------------------------


def test_the_queue_can_be_read_newest_first(engine: Engine, partnership: Partnership) -> None:
    officer = partnership.council.officer
    first = report(engine, officer, RECEIVED, "First")
    second = report(engine, officer, RECEIVED + timedelta(hours=2), "Second")
    same_time = report(engine, officer, RECEIVED + timedelta(hours=2), "Same time, recorded later")
    with transaction(engine) as session:
        oldest_first = list_reports_awaiting_triage(session=session, actor=officer)
        newest_first = list_reports_awaiting_triage(session=session, actor=officer, newest_first=True)
        newest_one = list_reports_awaiting_triage(session=session, actor=officer, newest_first=True, limit=1)
    assert [r.report_id for r in oldest_first] == [first, second, same_time]
    assert [r.report_id for r in newest_first] == [same_time, second, first]
    assert [r.what_happened for r in newest_one] == ["Same time, recorded later"]


# --- Recently triaged -----------------------------------------------------------------------


def test_triaged_reports_come_newest_decision_first_with_their_outcome_and_case(
    engine: Engine, partnership: Partnership
) -> None:
    officer = partnership.council.officer
    not_asb = report(engine, officer, RECEIVED, "A baby crying next door")
    opened = report(engine, officer, RECEIVED, "Threats shouted at the door")
    anonymous = report(engine, officer, RECEIVED, "Dealing from a parked car", channel="anonymous", reporter_name="")
    pending = report(engine, officer, RECEIVED, "Still waiting")
    decided = datetime(2026, 3, 3, 10, 0, tzinfo=UTC)
    triage(engine, officer, not_asb, TriageDecision(outcome="not_asb", not_asb_reason="babies_crying"), decided)
    triage(
        engine,
        officer,
        opened,
        TriageDecision(
            outcome="case_opened",
            case=CaseInput(category="personal", types=["harassment"], location="3 Orchard Row"),
        ),
        decided + timedelta(hours=1),
    )
    triage(engine, officer, anonymous, TriageDecision(outcome="log_only"), decided + timedelta(hours=2))
    since = last_access_log_id(engine)

    with transaction(engine) as session:
        rows = list_recently_triaged(session=session, actor=officer)
    assert [r.report_id for r in rows] == [anonymous, opened, not_asb]
    assert pending not in [r.report_id for r in rows]
    by_id = {r.report_id: r for r in rows}
    assert by_id[not_asb].outcome == "Not anti-social behaviour: Babies crying"
    assert (by_id[not_asb].case_id, by_id[not_asb].case_reference) == (None, "")
    assert by_id[opened].outcome == "Case opened"
    assert by_id[opened].case_id is not None and by_id[opened].case_reference.startswith("ASB-")
    assert by_id[opened].triaged_at == decided + timedelta(hours=1)
    assert (by_id[anonymous].outcome, by_id[anonymous].reporter) == ("Log only (anonymous)", "Anonymous")
    assert by_id[opened].what_happened == "Threats shouted at the door"
    # Every report shown was read through the chokepoint, and logged.
    logged = access_log(engine, officer, since=since)
    assert {e.via for e in logged} == {"triage queue"} and len(logged) == 3


def test_triaged_reports_are_the_organisations_own_and_limited(engine: Engine, partnership: Partnership) -> None:
    officer = partnership.council.officer
    decided = datetime(2026, 3, 3, 10, 0, tzinfo=UTC)
    ids = [report(engine, officer, RECEIVED, f"Report {n}") for n in range(3)]
    for n, report_id in enumerate(ids):
        triage(
            engine, officer, report_id, TriageDecision(outcome="not_asb", not_asb_reason="cooking_smells"),
            decided + timedelta(minutes=n),
        )  # fmt: skip
    with transaction(engine) as session:
        latest_two = list_recently_triaged(session=session, actor=officer, limit=2)
    assert [r.report_id for r in latest_two] == [ids[2], ids[1]]
    with transaction(engine) as session:
        other_org = list_recently_triaged(session=session, actor=partnership.police.officer)
    assert all(r.report_id not in ids for r in other_org)


def test_a_panel_member_cannot_read_the_triaged_reports(engine: Engine, partnership: Partnership) -> None:
    with pytest.raises(PermissionDenied), transaction(engine) as session:
        list_recently_triaged(session=session, actor=partnership.police.member)


# --- The case list's choices ------------------------------------------------------------------


def test_the_lead_organisation_gets_its_scheme_and_its_case_officers(engine: Engine, partnership: Partnership) -> None:
    with transaction(engine) as session:
        council = partnership.council.org
        gone = make_actor(session, council, Role.LEAD_OFFICER, name="Aaron Former")
        both = make_actor(session, council, Role.LEAD_OFFICER, Role.MANAGER, name="Beth Both")
    update_row(engine, User, gone.user_id, is_active=False)
    with transaction(engine) as session:
        choices = case_list_choices(session=session, actor=partnership.council.officer)
    assert choices.risk_levels == ((3, "High"), (2, "Medium"), (1, "Standard"), (0, NOT_ASSESSED))
    officers = dict(choices.lead_officers)
    # Lead officers and managers of the council; not the sharing officer, the panel member,
    # the deactivated account, or anyone at the police.
    assert set(officers) == {partnership.council.officer.user_id, partnership.manager.user_id, both.user_id}
    assert officers[both.user_id] == "Beth Both"
    assert [name for _, name in choices.lead_officers] == sorted(officers.values(), key=str.lower)


def test_a_partner_gets_no_officers_to_filter_by(engine: Engine, partnership: Partnership) -> None:
    with transaction(engine) as session:
        choices = case_list_choices(session=session, actor=partnership.police.member)
    assert choices.lead_officers == ()
    assert choices.risk_levels[-1] == (0, NOT_ASSESSED)


def test_someone_who_cannot_read_cases_gets_no_choices(engine: Engine, partnership: Partnership) -> None:
    with transaction(engine) as session:
        admin = make_actor(session, partnership.council.org, Role.ADMINISTRATOR, name="Admin")
    with pytest.raises(PermissionDenied), transaction(engine) as session:
        case_list_choices(session=session, actor=admin)
