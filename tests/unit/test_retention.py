"""Retention: rules per category, which records have passed their period, and disposal
(delete or anonymise) only by the owner's information-sharing officer, only when confirmed,
each leaving a tombstone in the audit trail that names no one."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from typing import cast

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from sharing.audit import AuditAction
from sharing.db import transaction
from sharing.errors import InvalidInput, NotFound, PermissionDenied
from sharing.models import (
    AuditEvent,
    ConsentRecord,
    Disclosure,
    DisclosureItem,
    InformationItem,
    OrganisationType,
    Person,
    RetentionRule,
)
from sharing.permissions import SYSTEM_ACTOR, Actor
from sharing.register import ConsentInput, record_consent
from sharing.retention import (
    ANONYMISED,
    DisposalAction,
    add_years,
    anonymise_person,
    dispose_of_record,
    list_retention_rules,
    records_past_retention,
    set_retention_period,
)
from sharing.vocabulary import ConsentMethod, DataCategory, Purpose
from tests.unit.helpers import audit_events, last_audit_id, load, update_row
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
    shown,
    today,
)

# --- Rules ---------------------------------------------------------------------------------


@pytest.fixture
def restore_rules(engine: Engine) -> Iterator[None]:
    """Rules are shared by every test: put them back afterwards."""
    with Session(engine) as session:
        before = {r.category: r.years_after_closure for r in session.exec(select(RetentionRule)).all()}
    yield
    with transaction(engine) as session:
        for category, years in before.items():
            rule = session.get(RetentionRule, category)
            assert rule is not None
            rule.years_after_closure = years
            session.add(rule)


def test_every_category_is_kept_six_years_by_default(engine: Engine) -> None:
    council = make_agency(engine, OrganisationType.COUNCIL_ASB_TEAM, "Council")
    with transaction(engine) as session:
        rules = list_retention_rules(session=session, actor=council.iso)
    assert [r.category for r in rules] == [str(c) for c in DataCategory]
    assert {r.years_after_closure for r in rules} == {6}
    assert next(r for r in rules if r.category == "housing").label == "housing and tenancy"


def test_an_officer_sets_a_period_and_it_is_audited(engine: Engine, restore_rules: None) -> None:
    council = make_agency(engine, OrganisationType.COUNCIL_ASB_TEAM, "Council")
    since = last_audit_id(engine)
    with transaction(engine) as session:
        set_retention_period(session=session, actor=council.iso, category="health", years=8)
    with transaction(engine) as session:
        rules = {r.category: r for r in list_retention_rules(session=session, actor=council.iso)}
    assert rules["health"].years_after_closure == 8
    assert rules["health"].updated_by == "Sharing Officer"
    (event,) = audit_events(engine, action=AuditAction.RETENTION_RULE_CHANGED, since=since)
    assert event.subject_id == "health" and event.detail == {"category": "health", "from": 6, "to": 8}


@pytest.mark.parametrize(
    ("category", "years", "field"),
    [("health", 0, "years"), ("health", 101, "years"), ("health", -3, "years"), ("gossip", 6, "category")],
)
def test_periods_outside_one_to_a_hundred_years_or_unknown_categories_are_refused(
    engine: Engine, restore_rules: None, category: str, years: int, field: str
) -> None:
    council = make_agency(engine, OrganisationType.COUNCIL_ASB_TEAM, "Council")
    with pytest.raises(InvalidInput) as error, transaction(engine) as session:
        set_retention_period(session=session, actor=council.iso, category=category, years=years)
    assert field in error.value.field_errors
    assert load(engine, RetentionRule, "health").years_after_closure == 6


def test_only_officers_manage_retention_and_refusals_are_audited(engine: Engine) -> None:
    council = make_agency(engine, OrganisationType.COUNCIL_ASB_TEAM, "Council")
    since = last_audit_id(engine)
    for actor in (council.officer, council.member):
        with pytest.raises(PermissionDenied), transaction(engine) as session:
            set_retention_period(session=session, actor=actor, category="health", years=2)
        with pytest.raises(PermissionDenied), transaction(engine) as session:
            records_past_retention(session=session, actor=actor, today=today())
    denials = audit_events(engine, action=AuditAction.PERMISSION_DENIED, since=since)
    assert len(denials) == 4 and {e.reason for e in denials} == {"lacks sharing:retention:manage"}
    assert load(engine, RetentionRule, "health").years_after_closure == 6


def test_adding_years_to_the_29th_of_february() -> None:
    assert add_years(date(2020, 2, 29), 6) == date(2026, 2, 28)
    assert add_years(date(2020, 2, 29), 4) == date(2024, 2, 29)


# --- What is due ---------------------------------------------------------------------------


@dataclass
class Held:
    council: Agency
    police: Agency
    person: PersonRef
    note: int


@pytest.fixture
def held(engine: Engine) -> Held:
    council = make_agency(engine, OrganisationType.COUNCIL_ASB_TEAM, "Council")
    police = make_agency(engine, OrganisationType.POLICE, "Police")
    make_agreement(engine, council.iso, [council.org, police.org])
    person = make_person(engine, council.officer, given_name="Morwenna")
    note = make_item(
        engine,
        council.officer,
        [("summary", DataCategory.ASB_HISTORY), ("impact", DataCategory.HEALTH)],
        person_id=person.id,
        title=f"Noise complaint by {person.name}",
    )
    return Held(council, police, person, note)


def close(engine: Engine, item_id: int, on: date) -> None:
    update_row(engine, InformationItem, item_id, case_closed_on=on)


def test_records_whose_case_closed_more_than_the_period_ago_are_listed(engine: Engine, held: Held) -> None:
    now = date(2026, 3, 1)
    exactly = make_item(engine, held.council.officer, person_id=held.person.id)
    recent = make_item(engine, held.council.officer, person_id=held.person.id)
    leap = make_item(engine, held.council.officer, [("risk", DataCategory.SAFEGUARDING)], person_id=held.person.id)
    close(engine, held.note, date(2019, 6, 1))  # 6 years passed in June 2025
    close(engine, exactly, date(2020, 3, 1))  # due today
    close(engine, recent, date(2020, 3, 2))  # due tomorrow
    close(engine, leap, date(2020, 2, 29))  # due 28 February 2026
    # The person-details record is still open: never due.
    police_item = make_item(engine, held.police.officer, person_id=held.person.id)
    close(engine, police_item, date(2001, 1, 1))  # another organisation's: not in the council's list

    with transaction(engine) as session:
        due = records_past_retention(session=session, actor=held.council.iso, today=now)
    assert [d.item_id for d in due] == [held.note, leap, exactly]  # longest overdue first
    first = due[0]
    assert first.retain_until == date(2025, 6, 1) and first.retention_years == 6
    assert first.owner_organisation == held.council.org.name and first.category == "asb_history"
    assert due[1].retain_until == date(2026, 2, 28)
    with transaction(engine) as session:
        assert records_past_retention(session=session, actor=held.council.iso, today=date(2025, 5, 31)) == []
        everywhere = records_past_retention(session=session, actor=SYSTEM_ACTOR, today=now)
    assert {held.note, leap, exactly, police_item} <= {d.item_id for d in everywhere}


def test_a_longer_period_for_a_category_moves_its_records_out(engine: Engine, held: Held, restore_rules: None) -> None:
    close(engine, held.note, date(2019, 6, 1))
    with transaction(engine) as session:
        set_retention_period(session=session, actor=held.council.iso, category="asb_history", years=10)
        assert records_past_retention(session=session, actor=held.council.iso, today=date(2026, 3, 1)) == []


# --- Disposal ------------------------------------------------------------------------------


def dispose(engine: Engine, actor: Actor, item_id: int, action: str, confirm: bool = True) -> None:
    with transaction(engine) as session:
        dispose_of_record(
            session=session, actor=actor, item_id=item_id, action=cast(DisposalAction, action), confirm=confirm
        )


def long_ago() -> date:
    return today() - timedelta(days=7 * 366)


def assert_names_no_one(event: AuditEvent, person: PersonRef) -> None:
    given, family = person.name.split(" ", 1)
    for text in (json.dumps(event.detail), event.reason or "", event.subject_id or ""):
        assert given not in text and family not in text and person.name not in text


def test_deleting_a_record_keeps_the_disclosure_and_leaves_a_tombstone(engine: Engine, held: Held) -> None:
    make_consent(engine, held.council.officer, held.person.id, organisations=[held.police.org])
    disclosure = share(engine, held.council.officer, [held.note], held.police.org)
    assert disclosure.id is not None and held.person.name in disclosure.what_was_shared
    close(engine, held.note, long_ago())
    since = last_audit_id(engine)

    dispose(engine, held.council.iso, held.note, "delete")

    with Session(engine) as session:
        assert session.get(InformationItem, held.note) is None
        assert not session.exec(select(DisclosureItem).where(DisclosureItem.item_id == held.note)).all()
        kept = session.get(Disclosure, disclosure.id)
    assert kept is not None and kept.status == disclosure.status
    assert f"record {held.note} deleted" in kept.what_was_shared
    assert held.person.name not in kept.what_was_shared
    (event,) = audit_events(engine, action="sharing:retention:deleted", since=since)
    assert event.subject_type == "information_item" and event.subject_id == str(held.note)
    assert event.detail["item_id"] == held.note
    assert event.detail["kind"] == "case_note" and event.detail["category"] == "asb_history"
    assert event.detail["owner_organisation_id"] == held.council.org.id
    assert event.detail["case_closed_on"] == long_ago().isoformat()
    assert event.detail["created_at"] and event.detail["disposed_on"] == today().isoformat()
    assert event.detail["disclosure_ids"] == [disclosure.id]
    assert_names_no_one(event, held.person)


def test_anonymising_a_record_replaces_every_value(engine: Engine, held: Held) -> None:
    close(engine, held.note, long_ago())
    since = last_audit_id(engine)
    dispose(engine, held.council.iso, held.note, "anonymise")

    item = load(engine, InformationItem, held.note)
    assert item.title == ANONYMISED
    assert [f["value"] for f in item.content] == [ANONYMISED, ANONYMISED]
    assert [f["key"] for f in item.content] == ["summary", "impact"]
    (view,) = read(engine, held.council.officer, [held.note])
    assert set(shown(view).values()) == {ANONYMISED}
    (event,) = audit_events(engine, action="sharing:retention:anonymised", since=since)
    assert event.detail["item_id"] == held.note and event.detail["kind"] == "case_note"
    assert_names_no_one(event, held.person)
    # Already anonymised: no longer listed, and not anonymised twice.
    with transaction(engine) as session:
        assert records_past_retention(session=session, actor=held.council.iso, today=today()) == []
    with pytest.raises(InvalidInput):
        dispose(engine, held.council.iso, held.note, "anonymise")


def test_nothing_happens_without_confirmation(engine: Engine, held: Held) -> None:
    close(engine, held.note, long_ago())
    since = last_audit_id(engine)
    for action in ("delete", "anonymise"):
        with pytest.raises(InvalidInput) as error:
            dispose(engine, held.council.iso, held.note, action, confirm=False)
        assert "confirm" in error.value.field_errors
    item = load(engine, InformationItem, held.note)
    assert item.title.startswith("Noise complaint") and item.content[0]["value"] == "value of summary"
    assert not audit_events(engine, action="sharing:retention:deleted", since=since)
    assert not audit_events(engine, action="sharing:retention:anonymised", since=since)


def test_only_the_owners_sharing_officer_may_dispose_and_refusals_are_audited(engine: Engine, held: Held) -> None:
    close(engine, held.note, long_ago())
    since = last_audit_id(engine)
    for actor in (held.council.officer, held.council.member, held.police.iso, SYSTEM_ACTOR):
        with pytest.raises(PermissionDenied):
            dispose(engine, actor, held.note, "delete")
    denials = audit_events(engine, action=AuditAction.PERMISSION_DENIED, since=since)
    assert [e.reason for e in denials] == [
        "lacks sharing:retention:manage",
        "lacks sharing:retention:manage",
        "another organisation's record",
        "not an information-sharing officer",
    ]
    assert {e.subject_id for e in denials} == {str(held.note)}
    assert load(engine, InformationItem, held.note).title.startswith("Noise complaint")


def test_records_still_within_their_period_are_not_disposed_of(engine: Engine, held: Held) -> None:
    with pytest.raises(InvalidInput) as error:
        dispose(engine, held.council.iso, held.note, "delete")
    assert "still open" in error.value.field_errors["item"]
    close(engine, held.note, today() - timedelta(days=365))
    with pytest.raises(InvalidInput) as error:
        dispose(engine, held.council.iso, held.note, "anonymise")
    assert "must be kept until" in error.value.field_errors["item"]
    with pytest.raises(NotFound):
        dispose(engine, held.council.iso, 987654321, "delete")
    with pytest.raises(InvalidInput):
        dispose(engine, held.council.iso, held.note, "shred")


# --- The person ----------------------------------------------------------------------------


def test_a_person_is_anonymised_only_once_nothing_about_them_is_left(engine: Engine, held: Held) -> None:
    with transaction(engine) as session:
        consent = record_consent(
            session=session,
            actor=held.council.officer,
            data=ConsentInput(
                person_id=held.person.id, method=ConsentMethod.VERBAL, purposes=[Purpose.ASB_CASE_MANAGEMENT],
                categories=[DataCategory.ASB_HISTORY], given_on=today() - timedelta(days=3000),
                organisation_ids=[held.police.org.id],
                representative_name="Aunt Morag", representative_relationship="aunt",
            ),
        )  # fmt: skip
    with pytest.raises(InvalidInput) as error, transaction(engine) as session:
        anonymise_person(session=session, actor=held.council.iso, person_id=held.person.id, confirm=True)
    assert "2 records about this person are still held" in error.value.field_errors["person"]

    close(engine, held.note, long_ago())
    close(engine, held.person.details_item_id, long_ago())
    dispose(engine, held.council.iso, held.note, "delete")
    dispose(engine, held.council.iso, held.person.details_item_id, "anonymise")

    with pytest.raises(InvalidInput), transaction(engine) as session:
        anonymise_person(session=session, actor=held.council.iso, person_id=held.person.id, confirm=False)
    with pytest.raises(PermissionDenied), transaction(engine) as session:
        anonymise_person(session=session, actor=held.police.iso, person_id=held.person.id, confirm=True)
    assert load(engine, Person, held.person.id).anonymised_at is None

    since = last_audit_id(engine)
    with transaction(engine) as session:
        anonymise_person(session=session, actor=held.council.iso, person_id=held.person.id, confirm=True)
    person = load(engine, Person, held.person.id)
    assert (person.given_name, person.family_name) == ("Anonymised", "Anonymised")
    assert (person.date_of_birth, person.address, person.postcode, person.phone, person.email) == (None, "", "", "", "")
    assert person.anonymised_at is not None
    stored_consent = load(engine, ConsentRecord, consent.id)
    assert stored_consent.representative_name == "" and stored_consent.representative_relationship == ""
    (event,) = audit_events(engine, action=AuditAction.PERSON_ANONYMISED, since=since)
    assert event.subject_type == "person" and event.subject_id == str(held.person.id)
    assert_names_no_one(event, held.person)
    assert "Morag" not in json.dumps(event.detail)
    # Every tombstone about this person names no one.
    with Session(engine) as session:
        tombstones = session.exec(
            select(AuditEvent).where(
                col(AuditEvent.action).in_(["sharing:retention:deleted", "sharing:retention:anonymised"])
            )
        ).all()
    for tombstone in tombstones:
        assert_names_no_one(tombstone, held.person)

    with pytest.raises(InvalidInput), transaction(engine) as session:
        anonymise_person(session=session, actor=held.council.iso, person_id=held.person.id, confirm=True)
