"""Need-to-know reads through the one chokepoint (``sharing.reads``): the owner sees everything,
a recipient sees exactly the fields a live disclosure covers and the withheld notice for the
rest, anyone else is refused in plain words; every read and refusal is logged."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from sharing import reads
from sharing.accounts import actor_for_user
from sharing.audit import AuditAction, Outcome
from sharing.config import get_settings
from sharing.db import transaction
from sharing.disclosures import (
    DisclosureRefused,
    decide_disclosure,
    overdue_emergency_reviews,
    review_emergency_disclosure,
)
from sharing.errors import NotFound, PermissionDenied
from sharing.models import ConsentRecord, Disclosure, InformationItem, OrganisationType, User
from sharing.permissions import Actor
from sharing.reads import NOT_SHARED, read_item, read_items, visible_item_ids
from sharing.rules import add_working_days, consent_is_valid, disclosure_is_live
from sharing.vocabulary import LIVE_STATUSES, WITHHELD, DataCategory, DisclosureStatus, LawfulBasis, Purpose
from tests.unit.helpers import audit_events, last_audit_id, update_row
from tests.unit.sharing_helpers import (
    Agency,
    PersonRef,
    access_log,
    last_access_log_id,
    load_disclosure,
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

S115 = LawfulBasis.CRIME_AND_DISORDER_S115
PERSON_FIELDS = ["name", "date_of_birth", "address", "phone", "email"]


@dataclass
class Partnership:
    council: Agency
    police: Agency
    outsider: Agency  # a party to nothing the council shares
    person: PersonRef
    note: int  # summary (ASB history), impact (health), tenancy (housing)


@pytest.fixture
def p(engine: Engine) -> Partnership:
    council = make_agency(engine, OrganisationType.COUNCIL_ASB_TEAM, "Council")
    police = make_agency(engine, OrganisationType.POLICE, "Police")
    outsider = make_agency(engine, OrganisationType.HOUSING_ASSOCIATION, "Outsider")
    make_agreement(engine, council.iso, [council.org, police.org, outsider.org])
    person = make_person(engine, council.officer)
    note = make_item(
        engine,
        council.officer,
        [("summary", DataCategory.ASB_HISTORY), ("impact", DataCategory.HEALTH), ("tenancy", DataCategory.HOUSING)],
        person_id=person.id,
        case_reference="ASB-T-1",
    )
    return Partnership(council, police, outsider, person, note)


def approve(engine: Engine, actor: Actor, disclosure_id: int | None) -> None:
    assert disclosure_id is not None
    with transaction(engine) as session:
        decide_disclosure(session=session, actor=actor, disclosure_id=disclosure_id, approve=True, note="Agreed.")


def review(engine: Engine, actor: Actor, disclosure_id: int | None, upheld: bool) -> None:
    assert disclosure_id is not None
    with transaction(engine) as session:
        review_emergency_disclosure(
            session=session, actor=actor, disclosure_id=disclosure_id, upheld=upheld, note="Reviewed the next day."
        )


def expect_not_shared(engine: Engine, actor: Actor, item_id: int) -> None:
    """``read_item`` refuses in plain words, and the refusal outlives the rollback: one denied
    access-log row and one audit row."""
    since_log, since_audit = last_access_log_id(engine), last_audit_id(engine)
    with pytest.raises(PermissionDenied) as caught, transaction(engine) as session:
        read_item(session=session, actor=actor, item_id=item_id, via="case page")
    assert caught.value.message == NOT_SHARED == "This information has not been shared with your organisation."
    logged = access_log(engine, actor, since=since_log)
    assert [(r.item_id, r.outcome, r.via, r.organisation_id) for r in logged] == [
        (item_id, "denied", "case page", actor.organisation_id)
    ]
    audited = audit_events(engine, actor_user_id=actor.user_id, since=since_audit)
    assert [(e.action, e.outcome, e.subject_type, e.subject_id) for e in audited] == [
        (AuditAction.ITEM_READ_DENIED, Outcome.DENIED, "information_item", str(item_id))
    ]


# --- Owner, recipient, outsider ------------------------------------------------------------------


def test_the_owner_sees_everything(engine: Engine, p: Partnership) -> None:
    since = last_access_log_id(engine)
    views = read(engine, p.council.member, [p.person.details_item_id, p.note], via="case file")
    assert [v.access for v in views] == ["owner", "owner"]
    details, note = views
    assert shown(details) == {
        "name": p.person.name,
        "date_of_birth": "17 May 1980",
        "address": "1 High Street, Eastbrook, EB1 1AA",
        "phone": "07700 900999",
        "email": "jo@example.com",
    }
    assert shown(note) == {"summary": "value of summary", "impact": "value of impact", "tenancy": "value of tenancy"}
    assert not any(f.withheld for v in views for f in v.fields)
    assert details.title == f"Personal details of {p.person.name}"
    assert note.owner_organisation == p.council.org.name and note.disclosure_ids == ()
    # Owner reads are logged too (the subject's access history).
    logged = access_log(engine, p.council.member, since=since)
    assert [(r.item_id, r.outcome, r.person_id, r.withheld_fields) for r in logged] == [
        (p.person.details_item_id, "owner", p.person.id, []),
        (p.note, "owner", p.person.id, []),
    ]


def test_a_recipient_sees_exactly_the_covered_fields(engine: Engine, p: Partnership) -> None:
    make_consent(engine, p.council.officer, p.person.id, organisations=[p.police.org])
    disclosure = share(
        engine, p.council.officer, [p.person.details_item_id, p.note], p.police.org,
        categories=[DataCategory.IDENTITY, DataCategory.ASB_HISTORY],
    )  # fmt: skip
    assert disclosure.status == DisclosureStatus.ACTIVE
    since = last_access_log_id(engine)
    details, note = read(engine, p.police.member, [p.person.details_item_id, p.note])
    assert shown(details) == {
        "name": p.person.name,
        "date_of_birth": "17 May 1980",
        "address": WITHHELD,
        "phone": WITHHELD,
        "email": WITHHELD,
    }
    assert [f.key for f in details.fields if f.withheld] == ["address", "phone", "email"]
    assert details.title == "Personal details"  # a partial view does not give the name away in its title
    assert shown(note) == {"summary": "value of summary", "impact": WITHHELD, "tenancy": WITHHELD}
    assert all(f.value for v in (details, note) for f in v.fields)  # never blank
    assert details.access == note.access == "partial"
    assert note.disclosure_ids == (disclosure.id,)
    logged = access_log(engine, p.police.member, since=since)
    assert [(r.item_id, r.outcome, r.disclosure_id, r.withheld_fields) for r in logged] == [
        (p.person.details_item_id, "partial", disclosure.id, ["address", "phone", "email"]),
        (p.note, "partial", disclosure.id, ["impact", "tenancy"]),
    ]


def test_two_live_disclosures_add_up(engine: Engine, p: Partnership) -> None:
    make_consent(engine, p.council.officer, p.person.id, organisations=[p.police.org])
    first = share(engine, p.council.officer, [p.note], p.police.org, categories=[DataCategory.ASB_HISTORY])
    second = share(engine, p.council.officer, [p.note], p.police.org, basis=S115, categories=[DataCategory.HOUSING])
    approve(engine, p.police.iso, second.id)
    (note,) = read(engine, p.police.officer, [p.note])
    assert shown(note) == {"summary": "value of summary", "impact": WITHHELD, "tenancy": "value of tenancy"}
    assert note.disclosure_ids == tuple(sorted([first.id, second.id]))  # type: ignore[type-var]


def test_everything_covered_reads_as_disclosed(engine: Engine, p: Partnership) -> None:
    disclosure = share(engine, p.council.officer, [p.note], p.police.org, basis=S115)
    approve(engine, p.council.iso, disclosure.id)
    since = last_access_log_id(engine)
    (note,) = read(engine, p.police.member, [p.note])
    assert note.access == "disclosed"
    assert not any(f.withheld for f in note.fields)
    assert [r.outcome for r in access_log(engine, p.police.member, since=since)] == ["disclosed"]


def test_an_unrelated_organisation_is_refused_and_the_refusal_is_logged(engine: Engine, p: Partnership) -> None:
    make_consent(engine, p.council.officer, p.person.id, organisations=[p.police.org])
    share(engine, p.council.officer, [p.note], p.police.org)
    expect_not_shared(engine, p.outsider.member, p.note)
    expect_not_shared(engine, p.outsider.iso, p.person.details_item_id)
    # In a list the item is left out, and the refused attempt is logged and audited as well.
    since_log, since_audit = last_access_log_id(engine), last_audit_id(engine)
    assert read(engine, p.outsider.member, [p.note, p.person.details_item_id], via="search") == []
    logged = access_log(engine, p.outsider.member, since=since_log)
    assert [(r.item_id, r.outcome, r.disclosure_id) for r in logged] == [
        (p.note, "denied", None),
        (p.person.details_item_id, "denied", None),
    ]
    assert logged[0].withheld_fields == ["summary", "impact", "tenancy"]
    audited = audit_events(engine, action=AuditAction.ITEM_READ_DENIED, actor_user_id=p.outsider.member.user_id,
                           since=since_audit)  # fmt: skip
    assert [e.subject_id for e in audited] == [str(p.note), str(p.person.details_item_id)]


@pytest.mark.parametrize("status", ["awaiting_approval", "rejected"])
def test_a_share_that_is_not_approved_gives_no_access(engine: Engine, p: Partnership, status: str) -> None:
    disclosure = share(engine, p.council.officer, [p.note], p.police.org, basis=S115)
    if status == "rejected":
        assert disclosure.id is not None
        with transaction(engine) as session:
            decide_disclosure(session=session, actor=p.police.iso, disclosure_id=disclosure.id, approve=False,
                              note="Not proportionate.")  # fmt: skip
    assert load_disclosure(engine, disclosure.id).status == status
    expect_not_shared(engine, p.police.member, p.note)


def test_a_share_past_its_retention_date_gives_no_access(engine: Engine, p: Partnership) -> None:
    disclosure = share(engine, p.council.officer, [p.note], p.police.org, basis=S115)
    approve(engine, p.council.iso, disclosure.id)
    assert read(engine, p.police.member, [p.note])[0].access == "disclosed"
    update_row(engine, Disclosure, disclosure.id, retain_until=today() - timedelta(days=1))
    expect_not_shared(engine, p.police.member, p.note)
    assert p.note not in visible_ids(engine, p.police.member)


def test_a_read_of_something_that_does_not_exist_says_so(engine: Engine, p: Partnership) -> None:
    with pytest.raises(NotFound), transaction(engine) as session:
        read_item(session=session, actor=p.police.member, item_id=10**9, via="case page")
    assert read(engine, p.police.member, [10**9]) == []


# --- Emergencies ---------------------------------------------------------------------------------


def test_an_emergency_share_is_live_at_once_and_due_for_review_a_working_day_later(
    engine: Engine, p: Partnership
) -> None:
    disclosure = share(engine, p.council.officer, [p.note], p.police.org, basis=LawfulBasis.VITAL_INTERESTS,
                       emergency=True)  # fmt: skip
    assert disclosure.status == DisclosureStatus.EMERGENCY
    assert disclosure.emergency
    assert disclosure.decided_by_user_id == disclosure.requested_by_user_id == p.council.officer.user_id
    days = get_settings().emergency_review_working_days
    assert disclosure.review_due_at == add_working_days(disclosure.requested_at, days)
    stored = load_disclosure(engine, disclosure.id)
    assert stored.review_due_at == add_working_days(stored.requested_at, days)
    assert stored.review_due_at is not None and stored.review_due_at > stored.requested_at
    assert stored.review_due_at.weekday() < 5
    (note,) = read(engine, p.police.member, [p.note])
    assert note.access == "disclosed"
    # Overdue once the due time passes, and not before.
    with Session(engine) as session:
        assert disclosure.id not in {d.id for d in overdue_emergency_reviews(session, stored.requested_at)}
        later = stored.review_due_at + timedelta(seconds=1)
        assert disclosure.id in {d.id for d in overdue_emergency_reviews(session, later)}


@pytest.mark.parametrize(
    ("requested", "due"),
    [
        (datetime(2026, 5, 8, 15, 30, tzinfo=UTC), datetime(2026, 5, 11, 15, 30, tzinfo=UTC)),  # Friday -> Monday
        (datetime(2026, 5, 1, 9, 0, tzinfo=UTC), datetime(2026, 5, 5, 9, 0, tzinfo=UTC)),  # May Day Monday skipped
        (datetime(2026, 4, 2, 12, 0, tzinfo=UTC), datetime(2026, 4, 7, 12, 0, tzinfo=UTC)),  # Easter skipped
        (datetime(2026, 12, 24, 8, 0, tzinfo=UTC), datetime(2026, 12, 29, 8, 0, tzinfo=UTC)),  # Christmas
        (datetime(2026, 5, 12, 8, 0, tzinfo=UTC), datetime(2026, 5, 13, 8, 0, tzinfo=UTC)),  # Tuesday -> Wednesday
        # 00:30 on Friday in London is still Thursday in UTC: due on Monday, not on Saturday.
        (datetime(2026, 5, 7, 23, 30, tzinfo=UTC), datetime(2026, 5, 10, 23, 30, tzinfo=UTC)),
        # Shared on the Friday before the clocks go back: due on Monday at the same local time.
        (datetime(2026, 10, 23, 9, 0, tzinfo=UTC), datetime(2026, 10, 26, 10, 0, tzinfo=UTC)),
    ],
    ids=["friday", "may-day", "easter", "christmas", "tuesday", "london-friday-night", "clocks-go-back"],
)
def test_an_emergency_review_skips_weekends_and_bank_holidays(
    engine: Engine, p: Partnership, monkeypatch: pytest.MonkeyPatch, requested: datetime, due: datetime
) -> None:
    assert add_working_days(requested, 1) == due
    monkeypatch.setattr("sharing.disclosures.utcnow", lambda: requested)
    make_agreement(
        engine, p.council.iso, [p.council.org, p.police.org], starts_on=date(2026, 1, 1), ends_on=date(2027, 12, 31)
    )
    disclosure = share(engine, p.council.officer, [p.note], p.police.org, basis=S115, emergency=True)
    assert disclosure.requested_at == requested
    assert disclosure.review_due_at == due
    assert load_disclosure(engine, disclosure.id).review_due_at == due


def test_a_revoked_emergency_share_stops_access(engine: Engine, p: Partnership) -> None:
    disclosure = share(engine, p.council.officer, [p.note], p.police.org, basis=S115, emergency=True)
    assert read(engine, p.police.member, [p.note])[0].access == "disclosed"
    assert p.note in visible_ids(engine, p.police.member)
    review(engine, p.council.iso, disclosure.id, upheld=False)
    stored = load_disclosure(engine, disclosure.id)
    assert stored.status == DisclosureStatus.REVOKED
    assert stored.reviewed_by_user_id == p.council.iso.user_id and stored.reviewed_at is not None
    expect_not_shared(engine, p.police.member, p.note)
    assert p.note not in visible_ids(engine, p.police.member)


def test_an_upheld_emergency_share_stays_live(engine: Engine, p: Partnership) -> None:
    disclosure = share(engine, p.council.officer, [p.note], p.police.org, basis=S115, emergency=True)
    review(engine, p.police.iso, disclosure.id, upheld=True)
    assert load_disclosure(engine, disclosure.id).status == DisclosureStatus.ACTIVE
    assert read(engine, p.police.member, [p.note])[0].access == "disclosed"


# --- Confidential complainants -------------------------------------------------------------------


@pytest.fixture
def complainant(engine: Engine, p: Partnership) -> PersonRef:
    return make_person(engine, p.council.officer, given_name="Ruth", confidential=True)


def test_a_confidential_complainants_identity_is_withheld_under_a_gateway(
    engine: Engine, p: Partnership, complainant: PersonRef
) -> None:
    statement = make_item(
        engine, p.council.officer, [("statement", DataCategory.ASB_HISTORY), ("who", DataCategory.IDENTITY)],
        person_id=complainant.id,
    )  # fmt: skip
    disclosure = share(engine, p.council.officer, [complainant.details_item_id, statement], p.police.org, basis=S115)
    approve(engine, p.police.iso, disclosure.id)
    details, note = read(engine, p.police.member, [complainant.details_item_id, statement])
    assert shown(details) == dict.fromkeys(PERSON_FIELDS, WITHHELD)
    assert details.title == "Personal details"
    assert complainant.name not in details.title
    # What they reported is shared; who they are is not.
    assert shown(note) == {"statement": "value of statement", "who": WITHHELD}


def test_a_confidential_complainants_identity_is_shown_under_consent_that_covers_it(
    engine: Engine, p: Partnership, complainant: PersonRef
) -> None:
    make_consent(engine, p.council.officer, complainant.id, organisations=[p.police.org],
                 categories=[DataCategory.IDENTITY])  # fmt: skip
    gateway = share(engine, p.council.officer, [complainant.details_item_id], p.police.org, basis=S115)
    approve(engine, p.police.iso, gateway.id)
    consented = share(
        engine, p.council.officer, [complainant.details_item_id], p.police.org, categories=[DataCategory.IDENTITY]
    )
    assert consented.status == DisclosureStatus.ACTIVE
    (details,) = read(engine, p.police.member, [complainant.details_item_id])
    # Identity: the consent covers it.  Contact: only the gateway does, which is not enough.
    assert shown(details) == {
        "name": complainant.name,
        "date_of_birth": "17 May 1980",
        "address": WITHHELD,
        "phone": WITHHELD,
        "email": WITHHELD,
    }


def test_an_ordinary_persons_identity_is_shown_under_a_gateway(engine: Engine, p: Partnership) -> None:
    disclosure = share(engine, p.council.officer, [p.person.details_item_id], p.police.org, basis=S115)
    approve(engine, p.police.iso, disclosure.id)
    (details,) = read(engine, p.police.member, [p.person.details_item_id])
    assert details.access == "disclosed"
    assert shown(details)["name"] == p.person.name


# --- Listing ---------------------------------------------------------------------------------------


def visible_ids(engine: Engine, actor: Actor, **filters: object) -> list[int]:
    with transaction(engine) as session:
        return visible_item_ids(session=session, actor=actor, **filters)  # type: ignore[arg-type]


def test_visible_items_are_the_organisations_own_and_those_disclosed_to_it(engine: Engine, p: Partnership) -> None:
    police_note = make_item(engine, p.police.officer)
    pending_note = make_item(engine, p.council.officer, person_id=p.person.id)
    refused_note = make_item(engine, p.council.officer, person_id=p.person.id)
    make_consent(engine, p.council.officer, p.person.id, organisations=[p.police.org])
    shared = share(engine, p.council.officer, [p.note], p.police.org)
    assert shared.status == DisclosureStatus.ACTIVE
    share(engine, p.council.officer, [pending_note], p.police.org, basis=S115)  # awaiting approval
    with pytest.raises(DisclosureRefused, match="does not cover sharing"):
        share(engine, p.council.officer, [refused_note], p.police.org, purpose=Purpose.SAFEGUARDING)
    ids = visible_ids(engine, p.police.member)
    assert police_note in ids and p.note in ids
    assert pending_note not in ids and refused_note not in ids and p.person.details_item_id not in ids
    assert ids == sorted(ids, reverse=True)  # newest first
    assert set(visible_ids(engine, p.police.member, person_id=p.person.id)) == {p.note}
    assert visible_ids(engine, p.police.member, case_reference="ASB-T-1") == [p.note]
    assert visible_ids(engine, p.outsider.member, person_id=p.person.id) == []
    owner = visible_ids(engine, p.council.member, person_id=p.person.id)
    assert set(owner) == {p.person.details_item_id, p.note, pending_note, refused_note}
    # Everything listed can be read.
    listed = visible_ids(engine, p.police.member)
    assert [v.id for v in read(engine, p.police.member, listed)] == listed


def test_items_whose_consent_has_expired_are_not_listed(engine: Engine, p: Partnership) -> None:
    consent = make_consent(engine, p.council.officer, p.person.id, organisations=[p.police.org])
    share(engine, p.council.officer, [p.note], p.police.org)
    assert p.note in visible_ids(engine, p.police.member)
    update_row(engine, ConsentRecord, consent, expires_on=today() - timedelta(days=1))
    expect_not_shared(engine, p.police.member, p.note)
    assert p.note not in visible_ids(engine, p.police.member)


def test_the_live_rule_in_sql_is_the_rules_consent_validity_and_retention(engine: Engine, p: Partnership) -> None:
    """Listing and reading judge a disclosure live exactly as ``sharing.rules`` does: a live
    status, ``retain_until`` not passed, and the consent (if any) given, not expired, not
    withdrawn on any day around today."""
    consent = make_consent(engine, p.council.officer, p.person.id, organisations=[p.police.org])
    on_consent = share(engine, p.council.officer, [p.note], p.police.org)
    assert on_consent.consent_id == consent and on_consent.status == DisclosureStatus.ACTIVE
    gateway_note = make_item(engine, p.council.officer, [("summary", DataCategory.ASB_HISTORY)])
    on_gateway = share(engine, p.council.officer, [gateway_note], p.police.org, basis=S115)
    approve(engine, p.police.iso, on_gateway.id)
    now = today()
    days = [now - timedelta(days=1), now, now + timedelta(days=1)]

    def seen(item_id: int) -> tuple[bool, bool]:
        listed = item_id in visible_ids(engine, p.police.member)
        with transaction(engine) as session:
            views = read_items(session=session, actor=p.police.member, item_ids=[item_id], via="test")
        return listed, bool(views)

    for given_on in days:
        for expires_on in [None, *days]:
            for withdrawn_on in [None, *days]:
                update_row(engine, ConsentRecord, consent, given_on=given_on, expires_on=expires_on,
                           withdrawn_on=withdrawn_on)  # fmt: skip
                with Session(engine) as session:
                    record = session.get(ConsentRecord, consent)
                    assert record is not None
                    live = disclosure_is_live(DisclosureStatus.ACTIVE, record, now)
                assert live == consent_is_valid(record, now)
                assert seen(p.note) == (live, live), (given_on, expires_on, withdrawn_on)
    for retain_until in [None, *days]:
        update_row(engine, Disclosure, on_gateway.id, retain_until=retain_until)
        live = retain_until is None or retain_until >= now
        assert seen(gateway_note) == (live, live), retain_until
    for status in DisclosureStatus:
        update_row(engine, Disclosure, on_gateway.id, status=status, retain_until=None)
        live = status in LIVE_STATUSES
        assert seen(gateway_note) == (live, live), status


def test_every_page_of_the_list_is_the_newest_visible_items(
    engine: Engine, p: Partnership, monkeypatch: pytest.MonkeyPatch
) -> None:
    """However the list is found (a walk of the newest items, or, when few of them are
    visible, the newest own and disclosed items merged), it is the same: newest first."""
    own = [make_item(engine, p.police.officer) for _ in range(3)]
    hidden = [make_item(engine, p.council.officer, person_id=p.person.id) for _ in range(3)]
    shared = share(engine, p.council.officer, hidden[:2], p.police.org, basis=S115)
    approve(engine, p.police.iso, shared.id)
    everything = visible_ids(engine, p.police.member, limit=10_000)
    assert set(own) | set(hidden[:2]) <= set(everything) and hidden[2] not in everything
    assert everything == sorted(everything, reverse=True)
    for window in (0, 1, 4, 1000):
        monkeypatch.setattr(reads, "WALK_MIN", window)
        monkeypatch.setattr(reads, "WALK_PER_ROW", 0)
        for limit in (1, 2, 3, 5, len(everything), len(everything) + 1):
            assert visible_ids(engine, p.police.member, limit=limit) == everything[:limit], (window, limit)
    assert visible_ids(engine, p.police.member, limit=0) == []


# --- The demo ----------------------------------------------------------------------------------------


def demo_actor(engine: Engine, email: str) -> Actor:
    with Session(engine) as session:
        user = session.exec(select(User).where(User.email == email)).one()
        return actor_for_user(session, user)


def case_items(engine: Engine, reference: str) -> list[int]:
    """The notes the sharing demo filed under the reference (the case demo adds the case's own
    records under it, its summary shared with the police for the first two)."""
    with Session(engine) as session:
        rows = session.exec(select(InformationItem).where(col(InformationItem.title).startswith(f"{reference}:")))
        return sorted(row.id for row in rows if row.id is not None)


def test_the_demo_police_officer_sees_two_cases_but_not_the_third(engine: Engine) -> None:
    jones = demo_actor(engine, "pc.jones@police.demo")
    assert jones.organisation_name == "Eastshire Police"
    first, second, third = (case_items(engine, f"ASB-2026-000{n}") for n in (1, 2, 3))
    assert first and second and third
    with transaction(engine) as session:
        seen = {ref: visible_item_ids(session=session, actor=jones, case_reference=ref)
                for ref in ("ASB-2026-0001", "ASB-2026-0002", "ASB-2026-0003")}  # fmt: skip
    assert set(first) <= set(seen["ASB-2026-0001"])
    assert set(second) <= set(seen["ASB-2026-0002"])
    assert seen["ASB-2026-0003"] == []
    with transaction(engine) as session:
        views = read_items(session=session, actor=jones, item_ids=first + second + third, via="demo")
    by_id = {v.id: v for v in views}
    assert set(by_id) == set(first + second)
    (note_1,) = (by_id[i] for i in first)
    # Shared with consent, but not the effect on her health.
    assert note_1.access == "partial"
    assert shown(note_1)["impact"] == WITHHELD
    assert shown(note_1)["summary"].startswith("Loud music")
    (note_2,) = (by_id[i] for i in second)
    assert note_2.access == "disclosed"
    assert "drug dealing" in note_2.title
    expect_not_shared(engine, jones, third[0])
