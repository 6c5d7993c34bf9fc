"""The incident diary: who may add to it (the lead organisation, or a partner the case was
shared with), what an entry must say, the item it becomes, the ASB Case Review flag, evidence
files checked by their content, and partners reading only what was disclosed."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select
from starlette.applications import Starlette
from starlette.testclient import TestClient

from panels.case_models import Case, CaseEvent, Incident, IncidentEvidence
from panels.cases import add_case_event
from panels.incidents import (
    NOT_SHARED_WITH_YOU,
    EvidenceFile,
    IncidentInput,
    add_evidence,
    download_evidence,
    list_incidents,
    record_incident,
    refresh_case_review_flags,
)
from panels.policy import READING_CASE_REVIEW, CasePolicy, CaseReviewPolicy, ThresholdRule, set_case_policy
from panels.reminders import sweep_reminders
from portal import routes
from portal.export_routes import export_routes
from portal.session_cookie import SESSION_COOKIE
from sharing.config import get_settings
from sharing.db import transaction
from sharing.disclosures import decide_disclosure
from sharing.errors import DomainError, InvalidInput, NotFound, PermissionDenied
from sharing.models import AccessLog, InformationItem, OrganisationType, Role, StoredDocument
from sharing.permissions import SYSTEM_ACTOR, Actor
from sharing.vocabulary import WITHHELD, DataCategory, LawfulBasis
from tests.unit.case_helpers import CaseWorld, case_world, make_case
from tests.unit.helpers import audit_events, last_audit_id, load, start_session_for, update_row
from tests.unit.sharing_helpers import Org, make_actor, make_agreement, make_person, share

__all__ = ["case_world"]

NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 60
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 60
PDF = b"%PDF-1.7\n" + b"\x00" * 60
MP3_ID3 = b"ID3\x04\x00" + b"\x00" * 60
MP3_FRAME = b"\xff\xfb\x90\x64" + b"\x00" * 60
M4A = b"\x00\x00\x00\x20ftypM4A " + b"\x00" * 60
WAV = b"RIFF\x24\x00\x00\x00WAVEfmt " + b"\x00" * 60


def incident_data(days_ago: float = 5, **overrides: Any) -> IncidentInput:
    data = IncidentInput(
        occurred_at=NOW - timedelta(days=days_ago),
        what_happened="Loud music and shouting until 3am; bottles thrown into the garden.",
        reported_by_name="Jo Bloggs",
        effect_on_victim="Could not sleep; afraid to go into the garden.",
    )
    for key, value in overrides.items():
        setattr(data, key, value)
    return data


def record(
    engine: Engine, actor: Actor, case_id: int, data: IncidentInput | None = None, now: datetime = NOW
) -> Incident:
    with transaction(engine) as session:
        incident = record_incident(session=session, actor=actor, case_id=case_id, data=data or incident_data(), now=now)
        session.refresh(incident)
        session.expunge(incident)
    return incident


def refused_fields(engine: Engine, actor: Actor, case_id: int, data: IncidentInput) -> dict[str, str]:
    with pytest.raises(InvalidInput) as error, transaction(engine) as session:
        record_incident(session=session, actor=actor, case_id=case_id, data=data, now=NOW)
    return error.value.field_errors


def council_and_police(world: CaseWorld) -> tuple[Org, Org]:
    return (
        Org(world.council_id, "Council", OrganisationType.COUNCIL_ASB_TEAM),
        Org(world.police_id, "Police", OrganisationType.POLICE),
    )


def disclose(engine: Engine, world: CaseWorld, item_ids: list[int]) -> None:
    """Share items with the police under s115, approved by the council's sharing officer."""
    council, police = council_and_police(world)
    disclosure = share(engine, world.officer, item_ids, police, basis=LawfulBasis.CRIME_AND_DISORDER_S115)
    with transaction(engine) as session:
        iso = make_actor(session, council, Role.INFORMATION_SHARING_OFFICER, name="Sharing Officer")
    assert disclosure.id is not None
    with transaction(engine) as session:
        decide_disclosure(session=session, actor=iso, disclosure_id=disclosure.id, approve=True, note="Agreed.")


@pytest.fixture
def shared_case(engine: Engine, case_world: CaseWorld) -> Case:
    """A council case whose summary the police can see."""
    council, police = council_and_police(case_world)
    make_agreement(engine, SYSTEM_ACTOR, [council, police])
    case = make_case(engine, case_world.officer)
    assert case.summary_item_id is not None
    disclose(engine, case_world, [case.summary_item_id])
    return case


def events_of(engine: Engine, case_id: int | None) -> list[CaseEvent]:
    with Session(engine) as session:
        return list(session.exec(select(CaseEvent).where(CaseEvent.case_id == case_id).order_by(col(CaseEvent.id))))


# --- Recording --------------------------------------------------------------------------------------------


def test_an_officer_records_an_incident_as_an_item_of_the_case(engine: Engine, case_world: CaseWorld) -> None:
    case = make_case(engine, case_world.officer)
    since = last_audit_id(engine)
    incident = record(engine, case_world.officer, case.id, incident_data(days_ago=3, is_hate=True))
    assert incident.occurred_at == NOW - timedelta(days=3)
    assert incident.reported_at == NOW
    assert incident.entered_by_organisation_id == case_world.council_id
    assert incident.entered_by_user_id == case_world.officer.user_id
    assert incident.reported_by_name == "Jo Bloggs" and incident.is_hate
    item: InformationItem = load(engine, InformationItem, incident.item_id)
    assert item.owner_organisation_id == case_world.council_id
    assert item.kind == "incident" and item.category == DataCategory.ASB_HISTORY
    assert item.case_reference == case.reference
    assert item.title == f"Incident on 18 November 2026 ({case.reference})"
    content = {f["key"]: (f["value"], f["category"]) for f in item.content}
    assert content["occurred_at"] == ("18 November 2026 at 12:00", "asb_history")  # GMT in November
    assert content["reported_by"] == ("Jo Bloggs", "identity")
    assert content["hate_incident"][0] == "Yes" and content["police"][0] == "No"
    saved: Case = load(engine, Case, case.id)
    assert saved.last_incident_at == NOW - timedelta(days=3)
    assert [(e.kind, e.item_id, e.subject_id) for e in events_of(engine, case.id)][-1] == (
        "incident",
        incident.item_id,
        incident.id,
    )
    recorded = audit_events(engine, action="cases:incident:recorded", since=since)
    assert [(e.subject_type, e.subject_id) for e in recorded] == [("incident", str(incident.id))]


def test_police_involvement_makes_it_an_allegation_of_crime(engine: Engine, case_world: CaseWorld) -> None:
    case = make_case(engine, case_world.officer)
    called = record(engine, case_world.officer, case.id, incident_data(police_called=True))
    reference_only = record(engine, case_world.officer, case.id, incident_data(crime_reference=" 37/12345/26-A "))
    assert reference_only.crime_reference == "37/12345/26-A"
    for incident in (called, reference_only):
        item: InformationItem = load(engine, InformationItem, incident.item_id)
        assert item.category == DataCategory.ALLEGATIONS_OF_CRIME
    item = load(engine, InformationItem, reference_only.item_id)
    assert {f["key"]: f["value"] for f in item.content}["police"] == "No, crime reference 37/12345/26-A"


def test_police_called_without_a_crime_reference_yet_is_allowed(engine: Engine, case_world: CaseWorld) -> None:
    case = make_case(engine, case_world.officer)
    incident = record(engine, case_world.officer, case.id, incident_data(police_called=True, crime_reference=""))
    assert incident.police_called and incident.crime_reference == ""


@pytest.mark.parametrize("reference", ["37 12345", "CAD#1234", "x" * 61, "ref;drop"])
def test_a_crime_reference_must_look_like_one(engine: Engine, case_world: CaseWorld, reference: str) -> None:
    case = make_case(engine, case_world.officer)
    errors = refused_fields(engine, case_world.officer, case.id, incident_data(crime_reference=reference))
    assert errors == {
        "crime_reference": (
            "A crime reference is letters, digits, slashes and dashes only (at most 60), e.g. 37/12345/26."
        )
    }


def test_an_incident_cannot_be_in_the_future(engine: Engine, case_world: CaseWorld) -> None:
    case = make_case(engine, case_world.officer)
    errors = refused_fields(engine, case_world.officer, case.id, incident_data(days_ago=-1 / 24 / 60))
    assert errors == {"occurred_at": "The incident cannot have happened in the future."}
    assert record(engine, case_world.officer, case.id, incident_data(days_ago=0)).occurred_at == NOW


def test_an_incident_more_than_two_years_before_its_report_is_refused(engine: Engine, case_world: CaseWorld) -> None:
    case = make_case(engine, case_world.officer)
    two_years = datetime(2024, 11, 21, 12, 0, tzinfo=UTC)
    errors = refused_fields(
        engine, case_world.officer, case.id, incident_data(occurred_at=two_years - timedelta(minutes=1))
    )
    assert errors == {
        "occurred_at": "This is more than 2 years before it was reported. Record it in the case history instead."
    }
    assert record(engine, case_world.officer, case.id, incident_data(occurred_at=two_years)).occurred_at == two_years


def test_the_report_date_must_follow_the_incident_and_not_be_in_the_future(
    engine: Engine, case_world: CaseWorld
) -> None:
    case = make_case(engine, case_world.officer)
    before = incident_data(days_ago=3, reported_at=NOW - timedelta(days=4))
    assert refused_fields(engine, case_world.officer, case.id, before) == {
        "reported_at": "It cannot have been reported before it happened."
    }
    future = incident_data(reported_at=NOW + timedelta(hours=1))
    assert refused_fields(engine, case_world.officer, case.id, future) == {
        "reported_at": "The date it was reported cannot be in the future."
    }
    # Reported a day late: kept as told.
    late = record(engine, case_world.officer, case.id, incident_data(days_ago=3, reported_at=NOW - timedelta(days=2)))
    assert late.reported_at == NOW - timedelta(days=2)


def test_naive_times_are_local_time(engine: Engine, case_world: CaseWorld) -> None:
    case = make_case(engine, case_world.officer)
    summer = record(engine, case_world.officer, case.id, incident_data(occurred_at=datetime(2026, 7, 1, 23, 30)))
    assert summer.occurred_at == datetime(2026, 7, 1, 22, 30, tzinfo=UTC)  # BST


def test_an_incident_needs_what_happened_who_reported_and_when(engine: Engine, case_world: CaseWorld) -> None:
    case = make_case(engine, case_world.officer)
    data = IncidentInput(occurred_at=None, what_happened="  ", reported_by_name=" ", perpetrator_person_id=-5)
    assert refused_fields(engine, case_world.officer, case.id, data) == {
        "occurred_at": "Say when it happened (the date and roughly the time).",
        "what_happened": "Describe what happened.",
        "reported_by": "Say who reported it: choose the person or type their name.",
        "perpetrator_person_id": "That person is not on record.",
    }
    both = incident_data(reported_by_person_id=-1)
    assert refused_fields(engine, case_world.officer, case.id, both) == {
        "reported_by": "Choose the person on record or type a name, not both."
    }


def test_people_on_record_are_named_in_the_item(engine: Engine, case_world: CaseWorld) -> None:
    case = make_case(engine, case_world.officer)
    victim = make_person(engine, case_world.officer, given_name="Vic")
    neighbour = make_person(engine, case_world.officer, given_name="Nev")
    data = incident_data(reported_by_name="", reported_by_person_id=victim.id, perpetrator_person_id=neighbour.id)
    incident = record(engine, case_world.officer, case.id, data)
    item: InformationItem = load(engine, InformationItem, incident.item_id)
    content = {f["key"]: f["value"] for f in item.content}
    assert content["reported_by"] == victim.name and content["perpetrator"] == neighbour.name
    assert item.person_id == victim.id
    assert incident.reported_by_person_id == victim.id and incident.perpetrator_person_id == neighbour.id


def test_a_new_incident_keeps_the_latest_date_and_clears_a_closure_proposal(
    engine: Engine, case_world: CaseWorld
) -> None:
    case = make_case(engine, case_world.officer)
    record(engine, case_world.officer, case.id, incident_data(days_ago=2))
    update_row(engine, Case, case.id, closure_proposed_at=NOW - timedelta(days=1))
    record(engine, case_world.officer, case.id, incident_data(days_ago=10))
    saved: Case = load(engine, Case, case.id)
    assert saved.last_incident_at == NOW - timedelta(days=2)
    assert saved.closure_proposed_at is None


def test_a_closed_case_takes_no_incidents(engine: Engine, case_world: CaseWorld) -> None:
    case = make_case(engine, case_world.officer)
    update_row(engine, Case, case.id, status="closed")
    errors = refused_fields(engine, case_world.officer, case.id, incident_data())
    assert errors == {"case": "This case is closed. Re-open it to add incidents."}


# --- Partners -------------------------------------------------------------------------------------------


def test_a_partner_without_the_case_shared_cannot_add_an_incident(engine: Engine, case_world: CaseWorld) -> None:
    case = make_case(engine, case_world.officer)
    since = last_audit_id(engine)
    with pytest.raises(PermissionDenied) as error, transaction(engine) as session:
        record_incident(session=session, actor=case_world.police, case_id=case.id, data=incident_data(), now=NOW)
    assert error.value.message == NOT_SHARED_WITH_YOU
    denials = audit_events(engine, actor_user_id=case_world.police.user_id, since=since)
    assert [(e.action, e.subject_type) for e in denials] == [
        ("sharing:item:read_denied", "information_item"),
        ("access:permission:denied", "case"),
    ]
    assert denials[1].reason == "case not shared with the organisation"
    with Session(engine) as session:
        assert session.exec(select(Incident).where(Incident.case_id == case.id)).all() == []
        logged = session.exec(
            select(AccessLog).where(AccessLog.user_id == case_world.police.user_id, AccessLog.outcome == "denied")
        ).all()
    assert [(r.item_id, r.via) for r in logged][-1] == (case.summary_item_id, "incident diary")


def test_a_partner_without_the_permission_is_refused(
    engine: Engine, case_world: CaseWorld, make_user: Callable[..., tuple[int, str]]
) -> None:
    from tests.conftest import actor_of

    case = make_case(engine, case_world.officer)
    iso_id, _ = make_user((Role.INFORMATION_SHARING_OFFICER,), organisation_id=case_world.police_id)
    iso = actor_of(engine, iso_id)
    since = last_audit_id(engine)
    with pytest.raises(PermissionDenied), transaction(engine) as session:
        record_incident(session=session, actor=iso, case_id=case.id, data=incident_data(), now=NOW)
    assert [e.action for e in audit_events(engine, actor_user_id=iso_id, since=since)] == ["access:permission:denied"]


def test_a_partner_the_case_was_shared_with_adds_an_incident_to_the_leads_record(
    engine: Engine, case_world: CaseWorld, shared_case: Case
) -> None:
    since = last_audit_id(engine)
    incident = record(engine, case_world.police, shared_case.id, incident_data(police_called=True))
    assert incident.entered_by_organisation_id == case_world.police_id
    item: InformationItem = load(engine, InformationItem, incident.item_id)
    assert item.owner_organisation_id == case_world.council_id
    assert item.created_by_user_id == case_world.police.user_id
    recorded = audit_events(engine, action="cases:incident:recorded", since=since)
    assert [e.detail["partner"] for e in recorded] == [True]
    # The lead sees it in the diary; the police do not until the incident itself is shared.
    with transaction(engine) as session:
        lead_view = list_incidents(session=session, actor=case_world.officer, case_id=shared_case.id)
        partner_view = list_incidents(session=session, actor=case_world.police, case_id=shared_case.id)
    assert [i.id for i in lead_view] == [incident.id]
    assert {f.key: f.value for f in lead_view[0].view.fields}["entered_by"].startswith("Org-")
    assert partner_view == []


def test_partners_see_only_the_incidents_disclosed_to_them_newest_first(
    engine: Engine, case_world: CaseWorld, shared_case: Case
) -> None:
    older = record(engine, case_world.officer, shared_case.id, incident_data(days_ago=9))
    newest = record(engine, case_world.officer, shared_case.id, incident_data(days_ago=1))
    middle = record(engine, case_world.officer, shared_case.id, incident_data(days_ago=4))
    with transaction(engine) as session:
        lead = list_incidents(session=session, actor=case_world.officer, case_id=shared_case.id)
    assert [i.id for i in lead] == [newest.id, middle.id, older.id]
    assert {i.view.access for i in lead} == {"owner"}
    assert older.item_id is not None and newest.item_id is not None
    disclose(engine, case_world, [newest.item_id])
    disclose(engine, case_world, [older.item_id])
    with transaction(engine) as session:
        partner = list_incidents(session=session, actor=case_world.police, case_id=shared_case.id)
    assert [i.id for i in partner] == [newest.id, older.id]
    fields = {f.key: f.value for f in partner[0].view.fields}
    assert fields["what_happened"].startswith("Loud music")
    with Session(engine) as session:
        logged = session.exec(
            select(AccessLog.item_id, AccessLog.outcome).where(
                AccessLog.user_id == case_world.police.user_id, AccessLog.via == "incident diary"
            )
        ).all()
    assert (middle.item_id, "denied") in logged and (newest.item_id, "disclosed") in logged


def test_a_partner_sees_the_reporter_only_when_identity_was_shared(
    engine: Engine, case_world: CaseWorld, shared_case: Case
) -> None:
    incident = record(engine, case_world.officer, shared_case.id)
    assert incident.item_id is not None
    council, police = council_and_police(case_world)
    disclosure = share(
        engine, case_world.officer, [incident.item_id], police, basis=LawfulBasis.CRIME_AND_DISORDER_S115,
        categories=[DataCategory.ASB_HISTORY],
    )  # fmt: skip
    with transaction(engine) as session:
        iso = make_actor(session, council, Role.INFORMATION_SHARING_OFFICER)
    assert disclosure.id is not None
    with transaction(engine) as session:
        decide_disclosure(session=session, actor=iso, disclosure_id=disclosure.id, approve=True)
        (seen,) = list_incidents(session=session, actor=case_world.police, case_id=shared_case.id)
    fields = {f.key: f.value for f in seen.view.fields}
    assert fields["reported_by"] == WITHHELD
    assert fields["what_happened"].startswith("Loud music")


# --- The ASB Case Review flag ---------------------------------------------------------------------------


def test_the_third_qualifying_incident_flags_the_case_for_case_review(engine: Engine, case_world: CaseWorld) -> None:
    case = make_case(engine, case_world.officer)
    record(engine, case_world.officer, case.id, incident_data(days_ago=25))
    # Reported more than a month after it happened: does not count (Dartford, the default).
    record(
        engine, case_world.officer, case.id,
        incident_data(occurred_at=NOW - timedelta(days=60), reported_at=NOW - timedelta(days=20)),
    )  # fmt: skip
    second = record(engine, case_world.officer, case.id, incident_data(days_ago=20))
    assert second.id is not None
    saved: Case = load(engine, Case, case.id)
    assert not saved.case_review_eligible
    assert saved.case_review_reasons == [
        "2 of the 3 incidents needed between 21 May and 21 November 2026, each reported within a month: "
        "threshold not met (1 more reported too late to count)"
    ]
    since = last_audit_id(engine)
    record(engine, case_world.officer, case.id, incident_data(days_ago=2))
    saved = load(engine, Case, case.id)
    assert saved.case_review_eligible
    assert saved.case_review_reasons == [
        "3 incidents between 21 May and 21 November 2026, each reported within a month: threshold met"
    ]
    flagged = [e for e in events_of(engine, case.id) if e.kind == "case_review_flagged"]
    assert len(flagged) == 1
    assert flagged[0].item_id == case.summary_item_id
    assert flagged[0].summary.endswith(
        "3 incidents between 21 May and 21 November 2026, each reported within a month: threshold met"
    )
    assert [e.subject_id for e in audit_events(engine, action="cases:case_review:flagged", since=since)] == [
        str(case.id)
    ]
    # A fourth incident keeps the flag without flagging again.
    since = last_audit_id(engine)
    record(engine, case_world.officer, case.id, incident_data(days_ago=1))
    assert len([e for e in events_of(engine, case.id) if e.kind == "case_review_flagged"]) == 1
    assert audit_events(engine, action="cases:case_review:flagged", since=since) == []


def test_the_flag_follows_the_lead_organisations_policy(engine: Engine, case_world: CaseWorld) -> None:
    with transaction(engine) as session:
        set_case_policy(
            session=session, actor=SYSTEM_ACTOR, organisation_id=case_world.council_id,
            policy=CasePolicy(case_review=READING_CASE_REVIEW),
        )  # fmt: skip
    case = make_case(engine, case_world.officer)
    neighbour = make_person(engine, case_world.officer, given_name="Nev")
    # Reported long after they happened (no matter to Reading), but about nobody on record.
    for days_ago in (90, 60, 30):
        record(engine, case_world.officer, case.id, incident_data(days_ago=days_ago))
    saved: Case = load(engine, Case, case.id)
    assert not saved.case_review_eligible
    assert (
        saved.case_review_reasons[0] == "The last incident, on 22 October 2026, was within a month of 21 November 2026"
    )
    for days_ago in (80, 50, 20):
        record(
            engine, case_world.officer, case.id, incident_data(days_ago=days_ago, perpetrator_person_id=neighbour.id)
        )
    saved = load(engine, Case, case.id)
    assert saved.case_review_eligible
    assert saved.case_review_reasons[1] == (
        "3 incidents about the same alleged perpetrator from one person between 21 May and 21 November 2026: "
        "threshold met"
    )


# --- Evidence -------------------------------------------------------------------------------------------


def attach(
    engine: Engine, actor: Actor, incident_id: int | None, kind: str, content: bytes, **kwargs: Any
) -> IncidentEvidence:
    assert incident_id is not None
    with transaction(engine) as session:
        evidence = add_evidence(
            session=session, actor=actor, incident_id=incident_id, kind=kind,
            filename=kwargs.get("filename", "evidence.bin"), content_type=kwargs.get("content_type", ""),
            content=content, description=kwargs.get("description", ""),
        )  # fmt: skip
        session.refresh(evidence)
        session.expunge(evidence)
    return evidence


def refused_evidence(
    engine: Engine, actor: Actor, incident_id: int | None, kind: str, content: bytes
) -> dict[str, str]:
    with pytest.raises(InvalidInput) as error:
        attach(engine, actor, incident_id, kind, content)
    return error.value.field_errors


@pytest.mark.parametrize(
    ("kind", "content", "stored_as"),
    [
        ("photo", JPEG, "image/jpeg"),
        ("photo", PNG, "image/png"),
        ("recording", MP3_ID3, "audio/mpeg"),
        ("recording", MP3_FRAME, "audio/mpeg"),
        ("recording", b"\xff\xf3" + b"\x00" * 60, "audio/mpeg"),
        ("recording", M4A, "audio/mp4"),
        ("recording", WAV, "audio/wav"),
        ("letter", PDF, "application/pdf"),
    ],
)
def test_evidence_is_kept_with_its_checksum(
    engine: Engine, case_world: CaseWorld, kind: str, content: bytes, stored_as: str
) -> None:
    case = make_case(engine, case_world.officer)
    incident = record(engine, case_world.officer, case.id)
    since = last_audit_id(engine)
    evidence = attach(
        engine, case_world.officer, incident.id, kind, content, filename="front-door.x",
        content_type="application/octet-stream", description="Taken from the bedroom window",
    )  # fmt: skip
    document: StoredDocument = load(engine, StoredDocument, evidence.document_id)
    assert document.sha256 == hashlib.sha256(content).hexdigest()
    assert document.content == content and document.size_bytes == len(content)
    assert document.content_type == stored_as and document.filename == "front-door.x"
    assert evidence.kind == kind and evidence.description == "Taken from the bedroom window"
    line = events_of(engine, case.id)[-1]
    assert (line.kind, line.item_id, line.subject_id) == ("evidence", incident.item_id, evidence.id)
    assert line.summary == (
        f"{kind.capitalize()} added to the incident on 16 November 2026: Taken from the bedroom window"
    )
    (audited,) = audit_events(engine, action="cases:evidence:added", since=since)
    assert audited.subject_id == str(evidence.id)
    assert audited.detail["sha256"] == document.sha256 and audited.detail["incident"] == incident.id
    with transaction(engine) as session:
        (listed,) = list_incidents(session=session, actor=case_world.officer, case_id=case.id)
    assert [(e.id, e.sha256, e.kind) for e in listed.evidence] == [(evidence.id, document.sha256, kind)]


@pytest.mark.parametrize(
    ("kind", "content", "message"),
    [
        ("photo", PDF, "This file does not look like a photo (JPEG or PNG)."),
        ("photo", b"GIF89a" + b"\x00" * 20, "This file does not look like a photo (JPEG or PNG)."),
        ("recording", JPEG, "This file does not look like a recording (MP3, M4A or WAV)."),
        ("recording", b"RIFF\x24\x00\x00\x00AVI LIST", "This file does not look like a recording (MP3, M4A or WAV)."),
        ("letter", PNG, "This file does not look like a letter (PDF)."),
        ("letter", b"", "The file is empty."),
    ],
)
def test_evidence_must_be_what_it_says(
    engine: Engine, case_world: CaseWorld, kind: str, content: bytes, message: str
) -> None:
    case = make_case(engine, case_world.officer)
    incident = record(engine, case_world.officer, case.id)
    assert refused_evidence(engine, case_world.officer, incident.id, kind, content) == {"file": message}


def test_evidence_of_an_unknown_kind_is_refused(engine: Engine, case_world: CaseWorld) -> None:
    case = make_case(engine, case_world.officer)
    incident = record(engine, case_world.officer, case.id)
    assert refused_evidence(engine, case_world.officer, incident.id, "video", JPEG) == {
        "kind": "Choose photo, recording or letter."
    }


def test_evidence_larger_than_the_setting_is_refused(
    engine: Engine, case_world: CaseWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(get_settings(), "evidence_max_mb", 1)
    case = make_case(engine, case_world.officer)
    incident = record(engine, case_world.officer, case.id)
    exactly = JPEG + b"\x00" * (1024 * 1024 - len(JPEG))
    assert len(attach(engine, case_world.officer, incident.id, "photo", exactly).kind) > 0
    assert refused_evidence(engine, case_world.officer, incident.id, "photo", exactly + b"\x00") == {
        "file": "The file is larger than 1 MB."
    }


def test_the_evidence_limit_is_a_validated_setting() -> None:
    from sharing.config import ConfigError, load_settings

    assert load_settings(evidence_max_mb=5).evidence_max_mb == 5
    assert get_settings().evidence_max_mb == 20
    with pytest.raises(ConfigError, match="PORTAL_EVIDENCE_MAX_MB"):
        load_settings(evidence_max_mb=0)


def test_partners_add_evidence_only_to_their_own_incidents(
    engine: Engine, case_world: CaseWorld, shared_case: Case
) -> None:
    theirs = record(engine, case_world.police, shared_case.id)
    ours = record(engine, case_world.officer, shared_case.id)
    assert attach(engine, case_world.police, theirs.id, "photo", PNG).added_by_user_id == case_world.police.user_id
    since = last_audit_id(engine)
    with pytest.raises(PermissionDenied) as error:
        attach(engine, case_world.police, ours.id, "photo", PNG)
    assert error.value.message == "Partners can add evidence only to incidents their organisation entered."
    assert [e.reason for e in audit_events(engine, action="access:permission:denied", since=since)] == [
        "another organisation's incident"
    ]


def test_an_outsider_cannot_add_evidence(engine: Engine, case_world: CaseWorld) -> None:
    case = make_case(engine, case_world.officer)
    incident = record(engine, case_world.officer, case.id)
    with pytest.raises(PermissionDenied) as error:
        attach(engine, case_world.police, incident.id, "photo", PNG)
    assert error.value.message == NOT_SHARED_WITH_YOU
    with Session(engine) as session:
        assert session.exec(select(IncidentEvidence).where(IncidentEvidence.incident_id == incident.id)).all() == []


def test_chronology_lines_of_an_incident_go_with_its_item(engine: Engine, case_world: CaseWorld) -> None:
    case = make_case(engine, case_world.officer)
    incident = record(engine, case_world.officer, case.id)
    attach(engine, case_world.officer, incident.id, "letter", PDF)
    with transaction(engine) as session:
        saved = session.get(Case, case.id)
        assert saved is not None
        add_case_event(session, case=saved, actor=case_world.officer, kind="note", summary="Visited")  # type: ignore[arg-type]
    kinds = [(e.kind, e.item_id) for e in events_of(engine, case.id)]
    assert kinds[1:] == [("incident", incident.item_id), ("evidence", incident.item_id), ("note", case.summary_item_id)]


# --- Downloading evidence ---------------------------------------------------------------------------


def download(engine: Engine, actor: Actor, evidence_id: int | None) -> EvidenceFile:
    assert evidence_id is not None
    with transaction(engine) as session:
        return download_evidence(session=session, actor=actor, evidence_id=evidence_id)


def test_the_lead_downloads_evidence_as_it_was_added_and_it_is_logged(engine: Engine, case_world: CaseWorld) -> None:
    case = make_case(engine, case_world.officer)
    incident = record(engine, case_world.officer, case.id)
    evidence = attach(engine, case_world.officer, incident.id, "letter", PDF, filename="warning letter.pdf")
    since = last_audit_id(engine)
    file = download(engine, case_world.officer, evidence.id)
    assert (file.filename, file.content_type, file.content) == ("warning letter.pdf", "application/pdf", PDF)
    (event,) = audit_events(engine, action="cases:evidence:downloaded", since=since)
    assert (event.outcome, event.subject_id) == ("success", str(evidence.id))
    assert event.detail["sha256"] == hashlib.sha256(PDF).hexdigest()
    with Session(engine) as session:
        logged = session.exec(
            select(AccessLog.item_id, AccessLog.outcome).where(AccessLog.via == "evidence download")
        ).all()
    assert logged == [(incident.item_id, "owner")]


def test_a_partner_downloads_only_the_evidence_of_incidents_wholly_shared_with_it(
    engine: Engine, case_world: CaseWorld, shared_case: Case
) -> None:
    council, police = council_and_police(case_world)
    whole = record(engine, case_world.officer, shared_case.id)
    part = record(engine, case_world.officer, shared_case.id)
    unshared = record(engine, case_world.officer, shared_case.id)
    assert whole.item_id is not None and part.item_id is not None
    disclose(engine, case_world, [whole.item_id])
    partial = share(
        engine, case_world.officer, [part.item_id], police, basis=LawfulBasis.CRIME_AND_DISORDER_S115,
        categories=[DataCategory.ASB_HISTORY],
    )  # fmt: skip
    with transaction(engine) as session:
        iso = make_actor(session, council, Role.INFORMATION_SHARING_OFFICER)
    assert partial.id is not None
    with transaction(engine) as session:
        decide_disclosure(session=session, actor=iso, disclosure_id=partial.id, approve=True)
    photos = {i.id: attach(engine, case_world.officer, i.id, "photo", PNG) for i in (whole, part, unshared)}

    assert download(engine, case_world.police, photos[whole.id].id).content == PNG
    since = last_audit_id(engine)
    with pytest.raises(PermissionDenied) as error:
        download(engine, case_world.police, photos[part.id].id)
    assert (
        error.value.message
        == "Part of this incident is not shared with your organisation, so its evidence is not either."
    )
    assert [e.reason for e in audit_events(engine, action="access:permission:denied", since=since)] == [
        "incident partly withheld"
    ]
    since = last_audit_id(engine)
    with pytest.raises(PermissionDenied):
        download(engine, case_world.police, photos[unshared.id].id)
    assert [e.subject_id for e in audit_events(engine, action="sharing:item:read_denied", since=since)] == [
        str(unshared.item_id)
    ]
    assert audit_events(engine, action="cases:evidence:downloaded", since=since) == []


def test_evidence_that_changed_since_it_was_added_is_refused_and_the_failure_kept(
    engine: Engine, case_world: CaseWorld
) -> None:
    case = make_case(engine, case_world.officer)
    incident = record(engine, case_world.officer, case.id)
    evidence = attach(engine, case_world.officer, incident.id, "photo", JPEG)
    update_row(engine, StoredDocument, evidence.document_id, content=JPEG + b"tampered")
    since = last_audit_id(engine)
    with pytest.raises(DomainError) as error:
        download(engine, case_world.officer, evidence.id)
    assert "changed since it was added" in error.value.message
    (event,) = audit_events(engine, action="cases:evidence:downloaded", since=since)
    assert (event.outcome, event.reason) == ("failure", "checksum mismatch")


def test_evidence_that_is_not_on_record_is_not_found(engine: Engine, case_world: CaseWorld) -> None:
    with pytest.raises(NotFound):
        download(engine, case_world.officer, 999_999)


# --- Re-checking the ASB Case Review flag as time passes ------------------------------------------------


def refresh(engine: Engine, now: datetime) -> list[int]:
    with transaction(engine) as session:
        return refresh_case_review_flags(session=session, actor=SYSTEM_ACTOR, now=now)


def test_a_flag_lapses_when_the_incidents_age_out_and_says_so_once(engine: Engine, case_world: CaseWorld) -> None:
    case = make_case(engine, case_world.officer)
    for days_ago in (20, 10, 2):
        record(engine, case_world.officer, case.id, incident_data(days_ago=days_ago))
    assert load(engine, Case, case.id).case_review_eligible
    assert case.id not in refresh(engine, NOW)  # nothing has changed yet (other tests' cases may have)

    later = NOW + timedelta(days=200)
    since = last_audit_id(engine)
    assert case.id in refresh(engine, later)
    saved: Case = load(engine, Case, case.id)
    assert not saved.case_review_eligible
    assert saved.case_review_reasons[0].endswith("threshold not met")
    lapsed = [e for e in events_of(engine, case.id) if e.kind == "case_review_lapsed"]
    assert len(lapsed) == 1 and lapsed[0].item_id == case.summary_item_id
    assert len(audit_events(engine, action="cases:case_review:lapsed", subject_id=case.id, since=since)) == 1
    assert case.id not in refresh(engine, later)
    assert len([e for e in events_of(engine, case.id) if e.kind == "case_review_lapsed"]) == 1


def test_a_council_that_changes_its_thresholds_sees_its_cases_flagged_by_them(
    engine: Engine, case_world: CaseWorld
) -> None:
    case = make_case(engine, case_world.officer)
    closed = make_case(engine, case_world.officer)
    # Reported long after they happened: Dartford's default does not count them.
    for target in (case, closed):
        for days_ago in (60, 40, 20):
            record(engine, case_world.officer, target.id, incident_data(days_ago=days_ago))
    update_row(engine, Case, closed.id, status="closed")
    assert not load(engine, Case, case.id).case_review_eligible
    lenient = CaseReviewPolicy(
        name="Any three in six months",
        rules=[ThresholdRule(key="three", label="3 incidents in 6 months", min_incidents=3, window_months=6)],
    )
    with transaction(engine) as session:
        set_case_policy(
            session=session, actor=SYSTEM_ACTOR, organisation_id=case_world.council_id,
            policy=CasePolicy(case_review=lenient),
        )  # fmt: skip
    since = last_audit_id(engine)
    changed = refresh(engine, NOW)
    assert case.id in changed and closed.id not in changed
    assert load(engine, Case, case.id).case_review_eligible
    assert not load(engine, Case, closed.id).case_review_eligible
    flagged = audit_events(engine, action="cases:case_review:flagged", subject_id=case.id, since=since)
    assert [e.actor_label for e in flagged] == ["system"]


def test_the_daily_sweep_rechecks_the_flags(engine: Engine, case_world: CaseWorld) -> None:
    case = make_case(engine, case_world.officer)
    for days_ago in (20, 10, 2):
        record(engine, case_world.officer, case.id, incident_data(days_ago=days_ago))
    counts = sweep_reminders(engine=engine, now=NOW + timedelta(days=200))
    assert counts.get("case_review_flags_changed", 0) >= 1
    assert not load(engine, Case, case.id).case_review_eligible


def test_the_evidence_address_sends_the_file_to_a_signed_in_reader_only(
    engine: Engine, case_world: CaseWorld, make_user: Callable[..., tuple[int, str]]
) -> None:
    _, officer_email = make_user((Role.LEAD_OFFICER,), organisation_id=case_world.council_id)
    _, police_email = make_user((Role.PANEL_MEMBER,), organisation_id=case_world.police_id)
    case = make_case(engine, case_world.officer)
    incident = record(engine, case_world.officer, case.id)
    evidence = attach(engine, case_world.officer, incident.id, "photo", PNG, filename='door "front".png')
    app = Starlette(routes=export_routes())
    address = routes.evidence_file(evidence.id)  # type: ignore[arg-type]
    assert TestClient(app, follow_redirects=False).get(address).status_code == 303
    officer = start_session_for(engine, officer_email)
    response = TestClient(app, cookies={SESSION_COOKIE: officer.token}).get(address)
    assert response.status_code == 200
    assert response.content == PNG
    assert response.headers["content-type"] == "image/png"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["content-disposition"] == (
        "attachment; filename=\"door _front_.png\"; filename*=UTF-8''door%20%22front%22.png"
    )
    police = start_session_for(engine, police_email)
    refused = TestClient(app, cookies={SESSION_COOKIE: police.token}).get(address)
    assert refused.status_code == 403
    assert PNG not in refused.content
    missing = TestClient(app, cookies={SESSION_COOKIE: officer.token}).get(routes.evidence_file(999_999))
    assert missing.status_code == 404
