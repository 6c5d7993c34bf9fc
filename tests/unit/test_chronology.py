"""The chronology and the case page: the lead organisation sees every line; a partner sees the
lines tied to what was disclosed to it, and nothing at all of a case not shared with it."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from panels.case_models import CaseEvent
from panels.case_page import CasePageRead, get_case_page
from panels.cases import CaseInput
from panels.chronology import ChronologyEntry, case_chronology
from panels.parties import PartyInput, add_party
from panels.triage import ReportInput, TriageDecision, record_report, triage_report
from sharing.db import transaction
from sharing.errors import PermissionDenied
from sharing.models import AccessLog
from sharing.permissions import Actor
from sharing.reads import NOT_SHARED
from sharing.vocabulary import WITHHELD, DataCategory, LawfulBasis
from tests.unit.case_partners import Partnership, partnership, share_with_police
from tests.unit.helpers import audit_events, last_audit_id
from tests.unit.sharing_helpers import PersonRef, make_consent, make_person, share

__all__ = ["partnership"]


@dataclass(frozen=True)
class Story:
    case_id: int
    summary_item_id: int
    report_item_id: int
    reporter: PersonRef


def story(engine: Engine, p: Partnership) -> Story:
    """A report from a person on record, opened as a case."""
    reporter = make_person(engine, p.council.officer, given_name="Rita")
    with transaction(engine) as session:
        report = record_report(
            session=session, actor=p.council.officer,
            data=ReportInput(channel="phone", what_happened="Shouting and threats on the stairs.",
                             location="3 Mill Lane", reporter_person_id=reporter.id),
        )  # fmt: skip
        assert report.id is not None
        triage_report(
            session=session, actor=p.council.officer, report_id=report.id,
            decision=TriageDecision(outcome="case_opened",
                                    case=CaseInput(category="personal", types=["harassment"], area="East")),
        )  # fmt: skip
        assert report.case_id is not None and report.item_id is not None
        from panels.case_models import Case

        case = session.get(Case, report.case_id)
        assert case is not None and case.summary_item_id is not None
        return Story(report.case_id, case.summary_item_id, report.item_id, reporter)


def chronology(engine: Engine, actor: Actor, case_id: int) -> list[ChronologyEntry]:
    with transaction(engine) as session:
        return case_chronology(session=session, actor=actor, case_id=case_id)


def page(engine: Engine, actor: Actor, case_id: int) -> CasePageRead:
    with transaction(engine) as session:
        return get_case_page(session=session, actor=actor, case_id=case_id)


def test_the_lead_organisation_sees_every_line_newest_first(engine: Engine, partnership: Partnership) -> None:
    s = story(engine, partnership)
    entries = chronology(engine, partnership.council.officer, s.case_id)
    with Session(engine) as session:
        stored = session.exec(select(CaseEvent).where(CaseEvent.case_id == s.case_id).order_by(col(CaseEvent.id))).all()
    assert len(entries) == len(stored) == 4
    assert {e.kind for e in entries} == {"case_opened", "party_added", "report", "triage"}
    assert [e.occurred_at for e in entries] == sorted((e.occurred_at for e in entries), reverse=True)
    opened = next(e for e in entries if e.kind == "case_opened")
    assert (opened.kind_label, opened.summary) == ("Case opened", "Case opened")
    assert (opened.by_name, opened.by_organisation) == ("Lead Officer", partnership.council.org.name)
    party = next(e for e in entries if e.kind == "party_added")
    assert party.summary == "Victim added to the case"


def test_a_partner_sees_only_the_lines_of_what_was_shared(engine: Engine, partnership: Partnership) -> None:
    p = partnership
    s = story(engine, p)
    police = p.police.member
    share_with_police(engine, p, [s.summary_item_id])
    assert [e.kind for e in chronology(engine, police, s.case_id)] == ["case_opened"]

    # The reporter's details (contact only), with their consent: the party line appears.
    make_consent(engine, p.council.officer, s.reporter.id, organisations=[p.police.org])
    share(engine, p.council.officer, [s.reporter.details_item_id], p.police.org, basis=LawfulBasis.CONSENT,
          categories=[DataCategory.CONTACT])  # fmt: skip
    assert {e.kind for e in chronology(engine, police, s.case_id)} == {"case_opened", "party_added"}

    share_with_police(engine, p, [s.report_item_id])
    assert {e.kind for e in chronology(engine, police, s.case_id)} == {"case_opened", "party_added", "report", "triage"}


def test_chronology_reads_are_logged(engine: Engine, partnership: Partnership) -> None:
    p = partnership
    s = story(engine, p)
    share_with_police(engine, p, [s.summary_item_id])
    chronology(engine, p.police.member, s.case_id)
    with Session(engine) as session:
        logged = session.exec(
            select(AccessLog.item_id, AccessLog.outcome).where(
                AccessLog.user_id == p.police.member.user_id, AccessLog.via == "chronology"
            )
        ).all()
    assert sorted(logged) == sorted(
        [
            (s.summary_item_id, "disclosed"),
            (s.report_item_id, "denied"),
            (s.reporter.details_item_id, "denied"),
        ]
    )


def test_a_partner_is_refused_a_case_not_shared_with_it(engine: Engine, partnership: Partnership) -> None:
    s = story(engine, partnership)
    since = last_audit_id(engine)
    with pytest.raises(PermissionDenied) as error:
        chronology(engine, partnership.police.member, s.case_id)
    assert error.value.message == NOT_SHARED
    denied = audit_events(engine, since=since, action="sharing:item:read_denied")
    assert [(e.subject_id, e.detail["via"]) for e in denied] == [(str(s.summary_item_id), "chronology")]
    with pytest.raises(PermissionDenied):
        page(engine, partnership.police.member, s.case_id)


# --- The case page --------------------------------------------------------------------------


def test_the_lead_sees_the_whole_case_page(engine: Engine, partnership: Partnership) -> None:
    p = partnership
    s = story(engine, p)
    neighbour = make_person(engine, p.council.officer, given_name="Ned")
    with transaction(engine) as session:
        add_party(
            session=session, actor=p.council.officer, case_id=s.case_id,
            data=PartyInput(person_id=neighbour.id, role="alleged_perpetrator", tenure="private_tenant",
                            landlord="A. Landlord", vulnerability="Known alcohol misuse", support_services=["CGL"]),
        )  # fmt: skip
    read = page(engine, p.council.officer, s.case_id)
    assert read.can_manage and read.access == "owner" and read.lead_organisation == p.council.org.name
    summary = {f.key: f.value for f in read.summary}
    assert summary["location"] == "3 Mill Lane" and summary["types"] == "Harassment or intimidation"
    assert read.reference == summary["reference"]
    assert [(x.name, x.role_label, x.tenure_label) for x in read.parties] == [
        (s.reporter.name, "Victim", "Not known"),
        (neighbour.name, "Alleged perpetrator", "Private tenant"),
    ]
    perpetrator = read.parties[1]
    assert (perpetrator.landlord, perpetrator.vulnerability, perpetrator.support_services) == (
        "A. Landlord",
        "Known alcohol misuse",
        ("CGL",),
    )
    assert len(read.chronology) == 5
    assert page(engine, p.council.member, s.case_id).can_manage is False  # a panel member cannot manage


def test_a_partner_sees_shared_people_with_withheld_names(engine: Engine, partnership: Partnership) -> None:
    p = partnership
    s = story(engine, p)
    share_with_police(engine, p, [s.summary_item_id])
    read = page(engine, p.police.member, s.case_id)
    assert (read.can_manage, read.access, read.parties) == (False, "disclosed", ())
    assert [e.kind for e in read.chronology] == ["case_opened"]

    make_consent(engine, p.council.officer, s.reporter.id, organisations=[p.police.org])
    share(engine, p.council.officer, [s.reporter.details_item_id], p.police.org, basis=LawfulBasis.CONSENT,
          categories=[DataCategory.CONTACT])  # fmt: skip
    read = page(engine, p.police.member, s.case_id)
    assert [(x.name, x.name_withheld, x.role_label) for x in read.parties] == [(WITHHELD, True, "Victim")]
    party = read.parties[0]
    # Tenure, landlord and vulnerability stay on the lead organisation's record.
    assert (party.tenure_label, party.landlord, party.vulnerability, party.support_services) == ("", "", "", ())
