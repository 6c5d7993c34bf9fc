"""Subject access requests: the one-calendar-month deadline (month ends, leap years), extensions
only within the first month and up to the limit with a reason, overdue flags, refusals
audited, and the export of everything held (JSON + PDF in a ZIP), also from ``portal-admin``."""

from __future__ import annotations

import io
import json
import zipfile
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from portal.cli import main
from sharing.audit import AuditAction, Outcome
from sharing.config import get_settings
from sharing.db import transaction
from sharing.disclosures import decide_disclosure
from sharing.errors import InvalidInput, NotFound, PermissionDenied
from sharing.models import AccessLog, OrganisationType, SubjectAccessRequest
from sharing.permissions import SYSTEM_ACTOR, Actor
from sharing.register import ItemField, create_item
from sharing.sar import (
    EXPORT_VIA,
    add_months,
    build_sar_export,
    complete_sar,
    extend_sar,
    list_sars,
    log_sar,
    record_identity_check,
    sar_due_on,
)
from sharing.vocabulary import DataCategory, DisclosureStatus, ItemKind, LawfulBasis
from tests.unit.helpers import audit_events, last_audit_id
from tests.unit.sharing_helpers import (
    Agency,
    PersonRef,
    make_agency,
    make_agreement,
    make_consent,
    make_item,
    make_person,
    read,
    share,
    today,
)

# --- Deadlines -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("received", "due"),
    [
        (date(2025, 1, 15), date(2025, 2, 15)),
        (date(2025, 1, 31), date(2025, 2, 28)),  # February has no 31st: its last day
        (date(2024, 1, 31), date(2024, 2, 29)),  # leap year
        (date(2024, 1, 29), date(2024, 2, 29)),
        (date(2025, 1, 29), date(2025, 2, 28)),
        (date(2024, 2, 29), date(2024, 3, 29)),
        (date(2025, 3, 31), date(2025, 4, 30)),
        (date(2025, 8, 31), date(2025, 9, 30)),
        (date(2024, 12, 31), date(2025, 1, 31)),  # across the year end
        (date(2025, 12, 15), date(2026, 1, 15)),
    ],
)
def test_a_request_is_due_one_calendar_month_after_receipt(received: date, due: date) -> None:
    assert get_settings().sar_due_months == 1
    assert sar_due_on(received) == due


def test_adding_months_keeps_the_day_or_falls_back_to_the_month_end() -> None:
    assert add_months(date(2024, 11, 30), 3) == date(2025, 2, 28)
    assert add_months(date(2023, 11, 30), 3) == date(2024, 2, 29)
    assert add_months(date(2025, 5, 31), 1) == date(2025, 6, 30)
    assert add_months(date(2025, 5, 31), 2) == date(2025, 7, 31)


# --- Set-up --------------------------------------------------------------------------------


@dataclass
class Case:
    council: Agency
    police: Agency
    person: PersonRef
    note: int


@pytest.fixture
def case(engine: Engine) -> Case:
    council = make_agency(engine, OrganisationType.COUNCIL_ASB_TEAM, "Council")
    police = make_agency(engine, OrganisationType.POLICE, "Police")
    make_agreement(engine, council.iso, [council.org, police.org])
    person = make_person(engine, council.officer, given_name="Rowan")
    note = make_item(
        engine,
        council.officer,
        [("summary", DataCategory.ASB_HISTORY), ("impact", DataCategory.HEALTH)],
        person_id=person.id,
        case_reference="ASB-SAR-1",
    )
    return Case(council, police, person, note)


def log(engine: Engine, actor: Actor, person_id: int, received_on: date, **kwargs: Any) -> SubjectAccessRequest:
    with transaction(engine) as session:
        return log_sar(session=session, actor=actor, person_id=person_id, received_on=received_on, **kwargs)


def extend(engine: Engine, actor: Actor, sar_id: int, months: int, reason: str, on: date) -> SubjectAccessRequest:
    with transaction(engine) as session:
        return extend_sar(session=session, actor=actor, sar_id=sar_id, months=months, reason=reason, today=on)


# --- Logging and extensions ----------------------------------------------------------------


def test_logging_a_request_sets_its_deadline_and_is_audited(engine: Engine, case: Case) -> None:
    since = last_audit_id(engine)
    sar = log(engine, case.council.iso, case.person.id, date(2024, 1, 31), identity_checked_on=date(2024, 2, 2))
    assert sar.due_on == date(2024, 2, 29)
    assert sar.organisation_id == case.council.org.id
    assert sar.identity_checked_on == date(2024, 2, 2)
    assert sar.logged_by_user_id == case.council.iso.user_id
    (event,) = audit_events(engine, action=AuditAction.SAR_LOGGED, since=since)
    assert event.subject_id == str(sar.id) and event.detail["due_on"] == "2024-02-29"

    assert sar.id is not None
    with transaction(engine) as session:
        record_identity_check(session=session, actor=case.council.iso, sar_id=sar.id, checked_on=date(2024, 2, 5))
    assert audit_events(engine, action=AuditAction.SAR_IDENTITY_CHECKED, subject_id=sar.id)


def test_a_request_cannot_be_logged_for_a_future_date_or_an_unknown_person(engine: Engine, case: Case) -> None:
    with pytest.raises(InvalidInput) as error:
        log(engine, case.council.iso, case.person.id, today() + timedelta(days=1))
    assert "received_on" in error.value.field_errors
    with pytest.raises(NotFound):
        log(engine, case.council.iso, 987654321, today())


def test_extension_within_the_first_month_runs_from_receipt(engine: Engine, case: Case) -> None:
    sar = log(engine, case.council.iso, case.person.id, date(2024, 11, 30))
    assert sar.id is not None and sar.due_on == date(2024, 12, 30)
    since = last_audit_id(engine)
    # On the deadline itself is still within the first month.
    extended = extend(
        engine, case.council.iso, sar.id, 2, "  Complex: records held by three teams.  ", date(2024, 12, 30)
    )
    assert extended.extended_to == date(2025, 2, 28)  # three calendar months after receipt
    assert extended.extension_reason == "Complex: records held by three teams."
    assert extended.extension_recorded_on == date(2024, 12, 30)
    (event,) = audit_events(engine, action=AuditAction.SAR_EXTENDED, subject_id=sar.id, since=since)
    assert event.reason == "Complex: records held by three teams."
    assert event.detail["months"] == 2 and event.detail["extended_to"] == "2025-02-28"


def test_extensions_in_steps_stay_within_the_limit(engine: Engine, case: Case) -> None:
    limit = get_settings().sar_max_extension_months
    assert limit == 2
    sar = log(engine, case.council.iso, case.person.id, date(2024, 1, 31))
    assert sar.id is not None
    first = extend(engine, case.council.iso, sar.id, 1, "Several requests at once.", date(2024, 2, 10))
    assert first.extended_to == date(2024, 3, 31)
    second = extend(engine, case.council.iso, sar.id, 2, "Still gathering records.", date(2024, 2, 20))
    assert second.extended_to == date(2024, 4, 30)
    with pytest.raises(InvalidInput) as error:  # not later than it already is
        extend(engine, case.council.iso, sar.id, 1, "Shorter.", date(2024, 2, 21))
    assert "already" in error.value.field_errors["months"]


@pytest.mark.parametrize(
    ("months", "reason", "on", "field", "words"),
    [
        (1, "Complex.", date(2024, 2, 1), "months", "within the first month"),  # a day after the deadline
        (3, "Complex.", date(2024, 1, 20), "months", "between 1 and 2 months"),  # over the limit
        (0, "Complex.", date(2024, 1, 20), "months", "between 1 and 2 months"),
        (1, "   ", date(2024, 1, 20), "reason", "Say why"),  # no reason
    ],
)
def test_extensions_are_refused_after_the_first_month_over_the_limit_or_without_a_reason(
    engine: Engine, case: Case, months: int, reason: str, on: date, field: str, words: str
) -> None:
    sar = log(engine, case.council.iso, case.person.id, date(2023, 12, 31))
    assert sar.id is not None and sar.due_on == date(2024, 1, 31)
    with pytest.raises(InvalidInput) as error:
        extend(engine, case.council.iso, sar.id, months, reason, on)
    assert words in error.value.field_errors[field]
    with Session(engine) as session:
        stored = session.get(SubjectAccessRequest, sar.id)
        assert stored is not None and stored.extended_to is None


def test_a_completed_request_cannot_be_extended_or_completed_again(engine: Engine, case: Case) -> None:
    sar = log(engine, case.council.iso, case.person.id, date(2024, 3, 1))
    assert sar.id is not None
    with transaction(engine) as session:
        done = complete_sar(session=session, actor=case.council.iso, sar_id=sar.id, completed_on=date(2024, 3, 20))
    assert done.completed_on == date(2024, 3, 20)
    assert audit_events(engine, action=AuditAction.SAR_COMPLETED, subject_id=sar.id)[0].detail["late"] is False
    with pytest.raises(InvalidInput):
        extend(engine, case.council.iso, sar.id, 1, "Complex.", date(2024, 3, 21))
    with pytest.raises(InvalidInput), transaction(engine) as session:
        complete_sar(session=session, actor=case.council.iso, sar_id=sar.id, completed_on=date(2024, 3, 21))
    with pytest.raises(InvalidInput), transaction(engine) as session:
        sar2 = log_sar(session=session, actor=case.council.iso, person_id=case.person.id, received_on=date(2024, 3, 5))
        assert sar2.id is not None
        complete_sar(session=session, actor=case.council.iso, sar_id=sar2.id, completed_on=date(2024, 3, 4))


def test_the_list_flags_overdue_requests(engine: Engine, case: Case) -> None:
    now = date(2024, 6, 15)
    overdue = log(engine, case.council.iso, case.person.id, date(2024, 5, 10))  # due 10 June
    open_ = log(engine, case.council.iso, case.person.id, date(2024, 6, 1))  # due 1 July
    extended = log(engine, case.council.iso, case.person.id, date(2024, 5, 12))  # due 12 June, extended
    late = log(engine, case.council.iso, case.person.id, date(2024, 4, 1))  # due 1 May, answered late
    assert overdue.id and open_.id and extended.id and late.id
    extend(engine, case.council.iso, extended.id, 1, "Complex.", date(2024, 6, 1))
    with transaction(engine) as session:
        complete_sar(session=session, actor=case.council.iso, sar_id=late.id, completed_on=date(2024, 5, 3))
    with transaction(engine) as session:
        rows = {r.id: r for r in list_sars(session=session, actor=case.council.iso, today=now)}
        # Another organisation's officer sees none of them.
        assert list_sars(session=session, actor=case.police.iso, today=now) == []
        open_rows = list_sars(session=session, actor=case.council.iso, today=now, open_only=True)
    assert set(rows) == {overdue.id, open_.id, extended.id, late.id}
    assert rows[overdue.id].overdue and rows[overdue.id].days_left == -5
    assert not rows[open_.id].overdue and rows[open_.id].days_left == 16
    assert rows[extended.id].deadline == date(2024, 7, 12) and not rows[extended.id].overdue
    assert rows[late.id].completed and not rows[late.id].overdue and rows[late.id].completed_late
    assert rows[overdue.id].person_details_item_id == case.person.details_item_id
    assert [r.id for r in open_rows] == [overdue.id, open_.id, extended.id]  # earliest deadline first


# --- Refusals ------------------------------------------------------------------------------


def test_people_without_the_permission_are_refused_and_it_is_audited(engine: Engine, case: Case) -> None:
    since = last_audit_id(engine)
    for actor in (case.council.officer, case.council.member):
        with pytest.raises(PermissionDenied):
            log(engine, actor, case.person.id, today())
        with pytest.raises(PermissionDenied), transaction(engine) as session:
            build_sar_export(session=session, actor=actor, person_id=case.person.id)
        with pytest.raises(PermissionDenied), transaction(engine) as session:
            list_sars(session=session, actor=actor, today=today())
    denials = audit_events(engine, action=AuditAction.PERMISSION_DENIED, since=since)
    assert len(denials) == 6
    assert {e.reason for e in denials} == {"lacks sharing:sar:manage"}
    assert {e.actor_user_id for e in denials} == {case.council.officer.user_id, case.council.member.user_id}
    with Session(engine) as session:
        assert not session.exec(
            select(SubjectAccessRequest).where(SubjectAccessRequest.person_id == case.person.id)
        ).all()


def test_an_officer_of_an_organisation_holding_nothing_is_refused(engine: Engine, case: Case) -> None:
    since = last_audit_id(engine)
    with pytest.raises(PermissionDenied):
        log(engine, case.police.iso, case.person.id, today())
    with pytest.raises(PermissionDenied), transaction(engine) as session:
        build_sar_export(session=session, actor=case.police.iso, person_id=case.person.id)
    sar = log(engine, case.council.iso, case.person.id, today())
    assert sar.id is not None
    with pytest.raises(PermissionDenied):
        extend(engine, case.police.iso, sar.id, 1, "Complex.", today())
    denials = audit_events(
        engine, action=AuditAction.PERMISSION_DENIED, actor_user_id=case.police.iso.user_id, since=since
    )
    assert [e.outcome for e in denials] == [Outcome.DENIED] * 3
    assert [e.reason for e in denials] == [
        "holds nothing about the person",
        "holds nothing about the person",
        "another organisation's request",
    ]


# --- The export ----------------------------------------------------------------------------


UNENCODABLE = "Shouted \N{RIGHTWARDS ARROW} at neighbour \N{GRINNING FACE} \N{GREEK CAPITAL LETTER OMEGA} \u2013 twice"


def _open(content: bytes, person_id: int) -> tuple[dict[str, Any], bytes]:
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        assert sorted(archive.namelist()) == [f"subject-access-{person_id}.json", f"subject-access-{person_id}.pdf"]
        data = json.loads(archive.read(f"subject-access-{person_id}.json"))
        pdf = archive.read(f"subject-access-{person_id}.pdf")
    return data, pdf


def test_the_export_holds_details_items_disclosures_consent_and_who_looked(engine: Engine, case: Case) -> None:
    council, police, person = case.council, case.police, case.person
    consent_id = make_consent(engine, council.officer, person.id, organisations=[police.org])
    by_consent = share(engine, council.officer, [case.note, person.details_item_id], police.org)
    assert by_consent.status == DisclosureStatus.ACTIVE
    # Under a gateway: a second person (the sharing officer) decides.  Its words are beyond
    # what the PDF's core font can show.
    with transaction(engine) as session:
        odd = create_item(
            session=session, actor=council.officer, kind=ItemKind.INCIDENT, title="Incident \N{EN DASH} 3 May",
            category=DataCategory.ALLEGATIONS_OF_CRIME, person_id=person.id,
            fields=[ItemField("what", "What happened", UNENCODABLE, DataCategory.ALLEGATIONS_OF_CRIME)],
        )  # fmt: skip
        assert odd.id is not None
        odd_id = odd.id
    gateway = share(engine, council.officer, [odd_id], police.org, basis=LawfulBasis.CRIME_AND_DISORDER_S115)
    assert gateway.id is not None
    with transaction(engine) as session:
        decide_disclosure(session=session, actor=council.iso, disclosure_id=gateway.id, approve=True, note="Agreed.")
    read(engine, police.member, [case.note], via="police case review")

    since = last_audit_id(engine)
    with transaction(engine) as session:
        content = build_sar_export(session=session, actor=council.iso, person_id=person.id)
    data, pdf = _open(content, person.id)

    assert data["person"]["given_name"] == "Rowan"
    assert data["person"]["family_name"] == person.name.split(" ", 1)[1]
    assert data["person"]["date_of_birth"] == "1980-05-17"
    assert data["person"]["controller_organisation"] == council.org.name

    items = {i["id"]: i for i in data["information"]}
    assert set(items) == {person.details_item_id, case.note, odd_id}
    note = items[case.note]
    assert note["owner_organisation"] == council.org.name and note["created_at"]
    assert note["created_by"] == "Lead Officer" and note["case_reference"] == "ASB-SAR-1"
    assert {f["key"]: f["value"] for f in note["fields"]} == {
        "summary": "value of summary",
        "impact": "value of impact",
    }
    assert {f["key"] for f in items[person.details_item_id]["fields"]} == {
        "name", "date_of_birth", "address", "phone", "email"
    }  # fmt: skip

    disclosures = {d["id"]: d for d in data["disclosures"]}
    assert set(disclosures) == {by_consent.id, gateway.id}
    shared = disclosures[by_consent.id]
    assert shared["recipient_organisation"] == police.org.name
    assert shared["discloser_organisation"] == council.org.name
    assert shared["basis"] == "consent" and shared["purpose"] == "asb_case_management"
    assert shared["purpose_label"] == "ASB case management"
    assert shared["requested_by"] == "Lead Officer" and shared["requested_at"]
    assert shared["status"] == "active" and shared["consent_id"] == consent_id
    assert sorted(shared["item_ids"]) == sorted([case.note, person.details_item_id])
    approved = disclosures[gateway.id]
    assert approved["decided_by"] == "Sharing Officer" and approved["decided_at"]
    assert approved["basis_label"] == "Crime and Disorder Act 1998 s.115"

    assert [c["id"] for c in data["consent"]] == [consent_id]
    assert data["consent"][0]["organisations"] == [police.org.name]

    police_reads = [a for a in data["access_log"] if a["organisation"] == police.org.name]
    assert police_reads and police_reads[0]["via"] == "police case review"
    assert police_reads[0]["item_id"] == case.note and police_reads[0]["outcome"] == "disclosed"
    assert police_reads[0]["who"] == "Panel Member"

    assert pdf.startswith(b"%PDF") and len(pdf) > 1000

    # The export itself is logged, one row per item, and audited without personal data.
    with Session(engine) as session:
        logged = session.exec(
            select(AccessLog).where(AccessLog.via == EXPORT_VIA, AccessLog.person_id == person.id)
        ).all()
    assert sorted(r.item_id or 0 for r in logged) == sorted([person.details_item_id, case.note, odd_id])
    assert {r.user_id for r in logged} == {council.iso.user_id}
    (event,) = audit_events(engine, action=AuditAction.SAR_EXPORTED, since=since)
    assert event.subject_id == str(person.id) and event.detail["items"] == 3 and event.detail["disclosures"] == 2
    assert "Rowan" not in json.dumps(event.detail)


def test_another_organisation_exports_only_what_it_holds(engine: Engine, case: Case) -> None:
    police_note = make_item(
        engine, case.police.officer, [("report", DataCategory.ALLEGATIONS_OF_CRIME)], person_id=case.person.id
    )
    with transaction(engine) as session:
        content = build_sar_export(session=session, actor=case.police.iso, person_id=case.person.id)
    data, _ = _open(content, case.person.id)
    assert [i["id"] for i in data["information"]] == [police_note]
    assert data["person"] is None  # the council holds the person's details
    assert data["organisation"] == case.police.org.name


def test_portal_admin_sar_export_writes_the_zip(
    engine: Engine, case: Case, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "out" / "export.zip"
    target.parent.mkdir()
    since = last_audit_id(engine)
    assert main(["sar-export", str(case.person.id), "--output", str(target)]) == 0
    assert str(target) in capsys.readouterr().out
    data, pdf = _open(target.read_bytes(), case.person.id)
    assert {i["id"] for i in data["information"]} == {case.person.details_item_id, case.note}
    assert pdf.startswith(b"%PDF")
    (event,) = audit_events(engine, action=AuditAction.SAR_EXPORTED, since=since)
    assert event.actor_label == "system"

    monkeypatch.chdir(tmp_path)
    assert main(["sar-export", str(case.person.id)]) == 0
    assert (tmp_path / f"subject-access-{case.person.id}.zip").is_file()


def test_portal_admin_sar_export_of_an_unknown_person_fails(
    engine: Engine, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "nobody.zip"
    code = main(["sar-export", "987654321", "--output", str(target)])
    captured = capsys.readouterr()
    assert code == 1
    assert "no person with the id 987654321" in captured.err
    assert captured.out == ""
    assert not target.exists()
    with Session(engine) as session:
        assert not session.exec(select(AccessLog).where(col(AccessLog.person_id) == 987654321)).all()


def test_the_system_export_covers_every_organisation(engine: Engine, case: Case) -> None:
    police_note = make_item(
        engine, case.police.officer, [("report", DataCategory.ALLEGATIONS_OF_CRIME)], person_id=case.person.id
    )
    with transaction(engine) as session:
        content = build_sar_export(session=session, actor=SYSTEM_ACTOR, person_id=case.person.id)
    data, _ = _open(content, case.person.id)
    owners = {i["id"]: i["owner_organisation"] for i in data["information"]}
    assert owners == {
        case.person.details_item_id: case.council.org.name,
        case.note: case.council.org.name,
        police_note: case.police.org.name,
    }
