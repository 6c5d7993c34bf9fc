"""Property tests of information sharing.

The main test drives the real services through random histories (agreements made, activated,
suspended and expired; consent given, withdrawn and expired; disclosures asked for on every
basis including emergencies; approvals, rejections and reviews; reads by people of every
organisation) and checks each step against a small in-memory model of the rules, and these
properties after every step:

(a) nobody sees a field of an item (gets anything but the withheld notice) unless their
    organisation owns the item or a live disclosure to it covers the field's category;
(b) every read and every refusal is in the access log, and refusals in the audit trail;
(c) withdrawn consent never authorises a read after the withdrawal: what rested on it is
    flagged for review and its recipients are told;
(d) every live disclosure without consent rests on a legal gateway, has a justification of
    the configured length, and was approved by a second person who is an information-sharing
    officer, or is an emergency share with a review date;
(e) every refused share is on record as a refused disclosure with its reason.

Each example builds its own organisations, people and items (unique names), so examples do
not see each other's rows.  The pure rules in ``sharing.rules`` get their own, quicker tests.
"""

from __future__ import annotations

import contextlib
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import event as hypothesis_event
from hypothesis import strategies as st
from hypothesis.errors import InvalidArgument
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from sharing.audit import AuditAction, Outcome
from sharing.config import get_settings
from sharing.db import transaction
from sharing.disclosures import (
    DisclosureRefused,
    DisclosureRequest,
    decide_disclosure,
    request_disclosure,
    review_emergency_disclosure,
)
from sharing.errors import DomainError, InvalidInput, PermissionDenied
from sharing.models import (
    AccessLog,
    AuditEvent,
    ConsentRecord,
    Disclosure,
    DisclosureItem,
    OrganisationNotice,
    OrganisationType,
    Role,
    SharingAgreement,
    UserRole,
)
from sharing.permissions import Actor
from sharing.reads import NOT_SHARED, ItemView, read_item, read_items, visible_item_ids
from sharing.register import (
    AgreementInput,
    ConsentInput,
    ItemField,
    PersonInput,
    create_agreement,
    create_item,
    create_person,
    person_details_item,
    record_consent,
    set_agreement_status,
    withdraw_consent,
)
from sharing.rules import (
    OrgRef,
    add_working_days,
    agreement_gap,
    consent_gap,
    consent_is_valid,
    disclosure_is_live,
)
from sharing.vocabulary import (
    LIVE_STATUSES,
    WITHHELD,
    AgreementStatus,
    ConsentMethod,
    DataCategory,
    DisclosureStatus,
    ItemKind,
    LawfulBasis,
    Purpose,
)
from tests.conftest import unique
from tests.unit.sharing_helpers import JUSTIFICATION, Agency, make_agency_in, today

CATEGORIES = sorted(DataCategory)
PURPOSES = sorted(Purpose)
GATEWAYS = [b for b in LawfulBasis if b.is_gateway]
IDENTITY = {DataCategory.IDENTITY, DataCategory.CONTACT}
ROLES = ("officer", "iso", "member")
ORG_TYPES = [
    OrganisationType.COUNCIL_ASB_TEAM,
    OrganisationType.POLICE,
    OrganisationType.ADULT_SOCIAL_CARE,
    OrganisationType.HOUSING_ASSOCIATION,
]
PERSON_VALUES = {
    "name": None,  # the person's display name
    "date_of_birth": "2 January 1990",
    "address": "1 Test Street, AB1 2CD",
    "phone": "07700 900000",
    "email": "person@example.com",
}
PERSON_CATEGORIES = {
    "name": DataCategory.IDENTITY,
    "date_of_birth": DataCategory.IDENTITY,
    "address": DataCategory.CONTACT,
    "phone": DataCategory.CONTACT,
    "email": DataCategory.CONTACT,
}
MIN_JUSTIFICATION = get_settings().disclosure_justification_min_chars
REVIEW_DAYS = get_settings().emergency_review_working_days

# The main history test: at least 500 examples, whatever the profile.
HISTORY_SETTINGS = settings(
    max_examples=int(__import__("os").environ.get("HX", 500)),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
RULE_SETTINGS = settings(max_examples=500, deadline=None)


TALLY: Counter[str] = Counter()


def event(what: str) -> None:
    """Note what an example did (``--hypothesis-show-statistics``, and the tally printed at the end)."""
    with contextlib.suppress(InvalidArgument):  # outside a Hypothesis test
        hypothesis_event(what)
    TALLY[what] += 1


def subsets(values: list[Any], *, min_size: int = 0) -> st.SearchStrategy[frozenset[Any]]:
    """A subset of ``values``, often all of them, so that shares often succeed and the paths
    after them (approval, review, withdrawal, reads) get exercised."""
    return st.one_of(st.just(frozenset(values)), st.frozensets(st.sampled_from(values), min_size=min_size))


def mostly(value: bool) -> st.SearchStrategy[bool]:
    return st.sampled_from([value, value, value, not value])


# =============================================================================================
# The in-memory model
# =============================================================================================


@dataclass
class MAgreement:
    id: int
    parties: frozenset[int]  # organisation indexes
    purposes: frozenset[str]
    categories: frozenset[str]
    restrictions: dict[str, frozenset[int]]
    bases: frozenset[str]
    starts_on: date
    ends_on: date
    status: str = AgreementStatus.DRAFT

    def covers(self, discloser: int, recipient: int, purpose: str, categories: set[str], basis: str, on: date) -> bool:
        if self.status != AgreementStatus.ACTIVE or not self.starts_on <= on <= self.ends_on:
            return False
        if discloser not in self.parties or recipient not in self.parties or purpose not in self.purposes:
            return False
        for category in categories:
            if category not in self.categories:
                return False
            allowed = self.restrictions.get(category)
            if allowed is not None and not {discloser, recipient} <= allowed:
                return False
        return basis in self.bases


@dataclass
class MConsent:
    id: int
    person: int
    organisations: frozenset[int]
    types: frozenset[str]
    purposes: frozenset[str]
    categories: frozenset[str]
    given_on: date
    expires_on: date | None
    withdrawn_on: date | None = None

    def valid(self, on: date) -> bool:
        if self.given_on > on or (self.expires_on is not None and self.expires_on < on):
            return False
        return self.withdrawn_on is None or self.withdrawn_on > on

    def covers(self, recipient: int, recipient_type: str, purpose: str, categories: set[str], on: date) -> bool:
        return (
            self.valid(on)
            and (recipient in self.organisations or recipient_type in self.types)
            and purpose in self.purposes
            and categories <= self.categories
        )


@dataclass
class MItem:
    id: int
    owner: int
    person: int | None
    fields: list[tuple[str, str, str]]  # key, category, value

    @property
    def categories(self) -> set[str]:
        return {category for _, category, _ in self.fields}


@dataclass
class MPerson:
    id: int
    owner: int
    name: str
    confidential: bool


@dataclass
class MDisclosure:
    id: int
    status: str
    discloser: int
    recipient: int
    items: frozenset[int]  # item indexes
    categories: frozenset[str]
    basis: str
    requester: tuple[int, str]
    consent: int | None = None  # consent index
    emergency: bool = False


@dataclass
class World:
    """One example's partnership, and the model of what should be true of it."""

    engine: Engine
    today: date
    agencies: list[Agency]
    people: list[MPerson] = field(default_factory=list)
    items: list[MItem] = field(default_factory=list)
    agreements: list[MAgreement] = field(default_factory=list)
    consents: list[MConsent] = field(default_factory=list)
    disclosures: list[MDisclosure] = field(default_factory=list)
    refusals: int = 0

    def actor(self, org: int, role: str) -> Actor:
        return getattr(self.agencies[org], role)

    def org_type(self, org: int) -> str:
        return str(self.agencies[org].org.type)

    @property
    def org_ids(self) -> list[int]:
        return [a.org.id for a in self.agencies]

    @property
    def user_ids(self) -> list[int]:
        return [getattr(a, r).user_id for a in self.agencies for r in ROLES]

    def live_grants(self, org: int, item: int) -> list[MDisclosure]:
        grants = []
        for d in self.disclosures:
            if d.recipient != org or item not in d.items or d.status not in LIVE_STATUSES:
                continue
            if d.consent is not None and not self.consents[d.consent].valid(self.today):
                continue
            grants.append(d)
        return grants

    def expected_view(self, org: int, item_index: int) -> tuple[str, dict[str, str], tuple[int, ...]] | None:
        """(access, field values as shown, disclosure ids), or None when nothing is shared."""
        item = self.items[item_index]
        if item.owner == org:
            return "owner", {key: value for key, _, value in item.fields}, ()
        grants = self.live_grants(org, item_index)
        if not grants:
            return None
        covered = {c for d in grants for c in d.categories}
        consented = {c for d in grants if d.basis == LawfulBasis.CONSENT for c in d.categories}
        confidential = item.person is not None and self.people[item.person].confidential
        fields = {}
        for key, category, value in item.fields:
            allowed = category in covered
            if allowed and confidential and category in IDENTITY:
                allowed = category in consented
            fields[key] = value if allowed else WITHHELD
        access = "partial" if WITHHELD in fields.values() else "disclosed"
        return access, fields, tuple(sorted(d.id for d in grants))


# =============================================================================================
# Strategies
# =============================================================================================


@dataclass(frozen=True)
class AgreementSpec:
    parties: frozenset[int]
    purposes: frozenset[str]
    categories: frozenset[str]
    restricted: frozenset[str]  # categories only some parties share
    restricted_to: frozenset[int]
    bases: frozenset[str]
    starts: int  # days from today
    ends: int
    activate: bool


@dataclass(frozen=True)
class NewAgreement:
    spec: AgreementSpec


@dataclass(frozen=True)
class SetAgreementStatus:
    agreement: int
    status: AgreementStatus


@dataclass(frozen=True)
class GiveConsent:
    person: int
    organisations: frozenset[int]
    types: frozenset[str]
    purposes: frozenset[str]
    categories: frozenset[str]
    given: int  # days from today
    expires: int | None  # days from given


@dataclass(frozen=True)
class WithdrawConsent:
    consent: int
    role: str
    days_ago: int  # negative: a date in the future


@dataclass(frozen=True)
class RequestShare:
    org: int
    role: str
    items: tuple[int, ...]  # indexes into the organisation's own items
    one_person: bool  # keep only the items about the first item's person
    foreign: bool  # add someone else's item
    recipient: int  # added to ``org``, modulo 3
    purpose: str
    basis: LawfulBasis
    justified: bool
    emergency: bool
    categories: frozenset[str] | None
    then: Decide | None  # a decision on the new disclosure straight away


@dataclass(frozen=True)
class Decide:
    org: int
    role: str
    disclosure: int
    pick_any: bool  # any disclosure, not only those waiting
    approve: bool
    note: bool
    review: bool  # an emergency review rather than an approval


@dataclass(frozen=True)
class Read:
    org: int
    role: str
    items: tuple[int, ...]
    single: bool


orgs = st.integers(0, 2)
# Agreements and consent are either generous (everything, everyone, in date) or random:
# random ones alone almost never cover a share, and then nothing after a share gets tested.
random_agreements = st.builds(
    AgreementSpec,
    parties=st.one_of(st.just(frozenset({0, 1, 2})), st.frozensets(orgs, min_size=2, max_size=3)),
    purposes=subsets(PURPOSES, min_size=1),
    categories=subsets(CATEGORIES, min_size=1),
    restricted=st.one_of(st.just(frozenset()), st.frozensets(st.sampled_from(CATEGORIES), max_size=2)),
    restricted_to=st.frozensets(orgs, max_size=3),
    bases=subsets(sorted(LawfulBasis), min_size=1),
    starts=st.sampled_from([-30, -30, -30, 0, 1]),
    ends=st.sampled_from([30, 30, 30, 0, -1, -31]),
    activate=mostly(True),
)
generous_agreements = st.builds(
    AgreementSpec,
    parties=st.just(frozenset({0, 1, 2})),
    purposes=st.just(frozenset(PURPOSES)),
    categories=st.just(frozenset(CATEGORIES)),
    restricted=st.one_of(st.just(frozenset()), st.just(frozenset({DataCategory.HEALTH}))),
    restricted_to=st.frozensets(orgs, max_size=3),
    bases=st.just(frozenset(LawfulBasis)),
    starts=st.just(-30),
    ends=st.just(30),
    activate=st.just(True),
)
agreement_specs = st.one_of(generous_agreements, generous_agreements, random_agreements)
random_consents = st.builds(
    GiveConsent,
    person=st.integers(0, 2),
    organisations=st.frozensets(orgs, max_size=3),
    types=st.frozensets(st.sampled_from([str(t) for t in ORG_TYPES]), max_size=3),
    purposes=subsets(PURPOSES, min_size=1),
    categories=subsets(CATEGORIES, min_size=1),
    given=st.sampled_from([-20, -20, -20, 0, 1]),
    expires=st.one_of(st.none(), st.sampled_from([-1, 0, 10, 40])),
)
generous_consents = st.builds(
    GiveConsent,
    person=st.integers(0, 2),
    organisations=st.just(frozenset({0, 1, 2})),
    types=st.just(frozenset()),
    purposes=st.just(frozenset(PURPOSES)),
    categories=st.just(frozenset(CATEGORIES)),
    given=st.just(-20),
    expires=st.none(),
)
decisions = st.builds(
    Decide,
    org=orgs,
    role=st.sampled_from(["iso", "iso", "iso", "officer", "member"]),
    disclosure=st.integers(0, 9),
    pick_any=mostly(False),
    approve=mostly(True),
    note=mostly(True),
    review=st.booleans(),
)
requests = st.builds(
    RequestShare,
    org=orgs,
    role=st.sampled_from(["officer", "officer", "officer", "officer", "iso", "iso", "member"]),
    items=st.lists(st.integers(0, 5), min_size=1, max_size=3, unique=True).map(tuple),
    one_person=mostly(True),
    foreign=st.sampled_from([False] * 7 + [True]),
    recipient=st.sampled_from([1, 1, 1, 2, 2, 2, 0]),  # added to the discloser's index
    purpose=st.sampled_from(PURPOSES),
    basis=st.sampled_from([LawfulBasis.CONSENT, LawfulBasis.CONSENT, *GATEWAYS]),
    justified=mostly(True),
    emergency=mostly(False),
    categories=st.none() | st.frozensets(st.sampled_from(CATEGORIES), min_size=1, max_size=4),
    then=st.none() | decisions,
)
operations = st.one_of(
    requests,
    requests,
    requests,
    decisions,
    decisions,
    generous_consents,
    random_consents,
    st.builds(
        WithdrawConsent,
        consent=st.integers(0, 5),
        role=st.sampled_from(["officer", "officer", "iso", "member"]),
        days_ago=st.sampled_from([0, 0, 2, -1]),
    ),
    st.builds(
        Read,
        org=orgs,
        role=st.sampled_from(ROLES),
        items=st.lists(st.integers(0, 6), min_size=1, max_size=4, unique=True).map(tuple),
        single=st.booleans(),
    ),
    st.builds(
        SetAgreementStatus,
        st.integers(0, 3),
        st.sampled_from([AgreementStatus.ACTIVE, AgreementStatus.SUSPENDED, AgreementStatus.EXPIRED]),
    ),
    st.builds(NewAgreement, agreement_specs),
)


@dataclass(frozen=True)
class WorldSpec:
    types: tuple[OrganisationType, OrganisationType, OrganisationType]
    confidential: tuple[bool, bool, bool]
    note_categories: tuple[frozenset[str], frozenset[str], frozenset[str], frozenset[str]]
    agreements: tuple[AgreementSpec, ...]
    consents: tuple[GiveConsent, ...]
    final_reader: int


world_specs = st.builds(
    WorldSpec,
    types=st.tuples(*[st.sampled_from(ORG_TYPES)] * 3),
    confidential=st.tuples(st.booleans(), st.booleans(), st.booleans()),
    note_categories=st.tuples(*[st.frozensets(st.sampled_from(CATEGORIES), min_size=1, max_size=3)] * 4),
    agreements=st.lists(agreement_specs, min_size=1, max_size=2).map(tuple),
    consents=st.lists(st.one_of(generous_consents, generous_consents, random_consents), max_size=3).map(tuple),
    final_reader=orgs,
)


# =============================================================================================
# Building a world and running a history against it
# =============================================================================================

# People 0 and 1 are held by organisation 0, person 2 by organisation 1.  Items: each
# person's details (0-2), a case note about each (3-5), and an incident about nobody held
# by organisation 2 (6).
PERSON_OWNERS = (0, 0, 1)
NOTE_OWNERS = (0, 0, 1, 2)


def build_world(engine: Engine, spec: WorldSpec) -> World:
    day = today()
    with transaction(engine) as session:
        agencies = [make_agency_in(session, t, f"P{i}", quick=True) for i, t in enumerate(spec.types)]
        world = World(engine, day, agencies)
        details: list[MItem] = []
        notes: list[MItem] = []
        for index, (owner, confidential) in enumerate(zip(PERSON_OWNERS, spec.confidential, strict=True)):
            person = create_person(
                session=session,
                actor=agencies[owner].officer,
                data=PersonInput(
                    "Pat",
                    unique(f"Person{index}"),
                    date_of_birth=date(1990, 1, 2),
                    address="1 Test Street",
                    postcode="ab1 2cd",
                    phone="07700 900000",
                    email="person@example.com",
                    is_confidential_complainant=confidential,
                ),
            )
            assert person.id is not None
            world.people.append(MPerson(person.id, owner, person.display_name, confidential))
            item = person_details_item(session, person.id)
            assert item.id is not None
            values = {**PERSON_VALUES, "name": person.display_name}
            details.append(MItem(item.id, owner, index, [(k, str(PERSON_CATEGORIES[k]), v) for k, v in values.items()]))
        for index, (owner, categories) in enumerate(zip(NOTE_OWNERS, spec.note_categories, strict=True)):
            person_index = index if index < 3 else None
            fields = [(f"f_{c}", c, f"{c} fact {index}") for c in sorted(categories)]
            note = create_item(
                session=session,
                actor=agencies[owner].officer,
                kind=ItemKind.CASE_NOTE if person_index is not None else ItemKind.INCIDENT,
                title=f"Note {index}",
                category=DataCategory(fields[0][1]),
                fields=[ItemField(k, k, v, DataCategory(c)) for k, c, v in fields],
                person_id=world.people[person_index].id if person_index is not None else None,
            )
            assert note.id is not None
            notes.append(MItem(note.id, owner, person_index, fields))
        world.items = details + notes
    for agreement in spec.agreements:
        new_agreement(world, agreement)
    for consent in spec.consents:
        give_consent(world, consent)
    return world


def expect(outcome: type[DomainError] | None, action: Callable[[Session], Any], world: World) -> Any:
    """Run ``action`` in one transaction; it must succeed (``outcome`` None) or raise ``outcome``."""
    try:
        with transaction(world.engine) as session:
            result = action(session)
    except DomainError as error:
        assert outcome is not None and type(error) is outcome, f"unexpected {type(error).__name__}: {error.message}"
        return error
    assert outcome is None, f"expected {outcome.__name__}, but it succeeded"
    return result


def new_agreement(world: World, spec: AgreementSpec) -> None:
    starts, ends = world.today + timedelta(days=spec.starts), world.today + timedelta(days=spec.ends)
    restrictions = {c: spec.restricted_to for c in spec.restricted}
    iso = world.agencies[min(spec.parties)].iso

    def act(session: Session) -> SharingAgreement:
        agreement = create_agreement(
            session=session,
            actor=iso,
            data=AgreementInput(
                title="Agreement",
                reference=unique("ISA"),
                party_ids=[world.agencies[p].org.id for p in spec.parties],
                purposes=[Purpose(p) for p in spec.purposes],
                categories=[DataCategory(c) for c in spec.categories],
                lawful_bases=[LawfulBasis(b) for b in spec.bases],
                starts_on=starts,
                ends_on=ends,
                review_on=ends,
                category_restrictions={c: [world.agencies[o].org.id for o in orgs] for c, orgs in restrictions.items()},
                signatories={world.agencies[p].org.id: ("A Signatory", "Director") for p in spec.parties},
            ),
        )
        assert agreement.id is not None
        if spec.activate:
            set_agreement_status(session=session, actor=iso, agreement_id=agreement.id, status=AgreementStatus.ACTIVE)
        return agreement

    if ends < starts:
        error = expect(InvalidInput, act, world)
        assert "ends_on" in error.field_errors
        event("agreement: form error")
        return
    agreement = expect(None, act, world)
    event("agreement: made" + (" and active" if spec.activate else ""))
    world.agreements.append(
        MAgreement(
            agreement.id,
            spec.parties,
            frozenset(spec.purposes),
            frozenset(spec.categories),
            restrictions,
            frozenset(spec.bases),
            starts,
            ends,
            AgreementStatus.ACTIVE if spec.activate else AgreementStatus.DRAFT,
        )
    )


def set_status(world: World, op: SetAgreementStatus) -> None:
    if not world.agreements:
        return
    model = world.agreements[op.agreement % len(world.agreements)]
    iso = world.agencies[min(model.parties)].iso
    expect(
        None,
        lambda s: set_agreement_status(session=s, actor=iso, agreement_id=model.id, status=op.status),
        world,
    )
    model.status = op.status
    event(f"agreement {op.status}")


def give_consent(world: World, op: GiveConsent) -> None:
    person = world.people[op.person]
    officer = world.agencies[person.owner].officer
    given = world.today + timedelta(days=op.given)
    expires = None if op.expires is None else given + timedelta(days=op.expires)
    data = ConsentInput(
        person_id=person.id,
        method=ConsentMethod.VERBAL,
        purposes=[Purpose(p) for p in op.purposes],
        categories=[DataCategory(c) for c in op.categories],
        given_on=given,
        organisation_ids=[world.agencies[o].org.id for o in op.organisations],
        organisation_types=[OrganisationType(t) for t in op.types],
        expires_on=expires,
    )
    invalid = (not op.organisations and not op.types) or (expires is not None and expires < given)
    result = expect(
        InvalidInput if invalid else None, lambda s: record_consent(session=s, actor=officer, data=data), world
    )
    event("consent: form error" if invalid else "consent: given")
    if invalid:
        return
    world.consents.append(
        MConsent(
            result.id,
            op.person,
            op.organisations,
            op.types,
            frozenset(op.purposes),
            frozenset(op.categories),
            given,
            expires,
        )
    )


def withdraw(world: World, op: WithdrawConsent) -> None:
    if not world.consents:
        return
    consent_index = op.consent % len(world.consents)
    consent = world.consents[consent_index]
    actor = world.actor(world.people[consent.person].owner, op.role)
    on = world.today - timedelta(days=op.days_ago)
    since = max_id(world.engine, OrganisationNotice)

    def act(session: Session) -> list[int]:
        return withdraw_consent(session=session, actor=actor, consent_id=consent.id, withdrawn_on=on, how="Phoned")

    if op.role == "member":
        expect(PermissionDenied, act, world)
        event("withdrawal: not allowed")
        return
    if consent.withdrawn_on is not None or on > world.today:
        expect(InvalidInput, act, world)
        event("withdrawal: form error")
        return
    flagged = expect(None, act, world)
    consent.withdrawn_on = on
    resting = [d for d in world.disclosures if d.consent == consent_index and d.status in LIVE_STATUSES]
    for d in resting:
        d.status = DisclosureStatus.CONSENT_WITHDRAWN_REVIEW
    # (c) What rested on the consent is flagged, and each recipient is told about its disclosure.
    assert sorted(flagged) == sorted(d.id for d in resting)
    with Session(world.engine) as session:
        told = session.exec(select(OrganisationNotice).where(col(OrganisationNotice.id) > since)).all()
    assert sorted((n.organisation_id, n.disclosure_id) for n in told) == sorted(
        (world.agencies[d.recipient].org.id, d.id) for d in resting
    )
    event(f"withdrawal flagged {min(len(resting), 2)}+ disclosures")


def request(world: World, op: RequestShare) -> None:
    own = [i for i, item in enumerate(world.items) if item.owner == op.org]
    chosen = list(dict.fromkeys(own[i % len(own)] for i in op.items))
    if op.one_person:
        chosen = [i for i in chosen if world.items[i].person in (world.items[chosen[0]].person, None)]
    foreign = [i for i, item in enumerate(world.items) if item.owner != op.org]
    if op.foreign:
        chosen.append(foreign[sum(op.items) % len(foreign)])
    actor = world.actor(op.org, op.role)
    recipient = (op.org + op.recipient) % 3
    justification = JUSTIFICATION if op.justified else "Because the police asked."
    req = DisclosureRequest(
        item_ids=[world.items[i].id for i in chosen],
        recipient_organisation_id=world.agencies[recipient].org.id,
        purpose=Purpose(op.purpose),
        basis=op.basis,
        justification=justification,
        emergency=op.emergency,
        categories=[DataCategory(c) for c in sorted(op.categories)] if op.categories is not None else None,
    )

    def act(session: Session) -> Disclosure:
        return request_disclosure(session=session, actor=actor, request=req)

    held = {c for i in chosen for c in world.items[i].categories}
    categories = (set(op.categories) & held) if op.categories else held
    if op.role == "member":
        expect(PermissionDenied, act, world)
        event("request: not allowed to ask")
        return
    if op.foreign:
        error = expect(PermissionDenied, act, world)
        record_refusal(world, op, recipient, actor, chosen, error.message, held)
        event("request: someone else's item")
        return
    if recipient == op.org or not categories:
        expect(InvalidInput, act, world)
        event("request: form error")
        return
    if (op.basis.is_gateway and not op.justified) or (op.emergency and not op.basis.is_gateway):
        error = expect(InvalidInput, act, world)
        assert set(error.field_errors) <= {"justification", "emergency"}
        event("request: form error")
        return
    covered = any(a.covers(op.org, recipient, op.purpose, categories, op.basis, world.today) for a in world.agreements)
    consent_index: int | None = None
    allowed = covered
    people = {world.items[i].person for i in chosen} - {None}
    if covered and op.basis == LawfulBasis.CONSENT:
        allowed = False
        if len(people) == 1:
            (person,) = people
            recipient_type = world.org_type(recipient)
            matching = [
                index
                for index, c in enumerate(world.consents)
                if c.person == person and c.covers(recipient, recipient_type, op.purpose, categories, world.today)
            ]
            if matching:
                allowed = True
                consent_index = max(matching, key=lambda index: world.consents[index].id)
    if not allowed:
        error = expect(DisclosureRefused, act, world)
        record_refusal(world, op, recipient, actor, chosen, error.message, categories)
        event(f"request: refused ({'agreement' if not covered else 'consent'}): {error.message[:30]}")
        return
    disclosure = expect(None, act, world)
    if op.basis == LawfulBasis.CONSENT:
        status = DisclosureStatus.ACTIVE
    elif op.emergency:
        status = DisclosureStatus.EMERGENCY
    else:
        status = DisclosureStatus.AWAITING_APPROVAL
    assert disclosure.status == status
    assert set(disclosure.categories) == categories
    assert disclosure.consent_id == (world.consents[consent_index].id if consent_index is not None else None)
    if op.emergency:
        assert disclosure.review_due_at == add_working_days(disclosure.requested_at, REVIEW_DAYS)
    world.disclosures.append(
        MDisclosure(
            disclosure.id,
            status,
            op.org,
            recipient,
            frozenset(chosen),
            frozenset(categories),
            str(op.basis),
            (op.org, op.role),
            consent_index,
            op.emergency,
        )
    )
    event(f"request: {status}")
    if op.then is not None and status != DisclosureStatus.ACTIVE:
        decide_on(world, world.disclosures[-1], replace(op.then, review=status == DisclosureStatus.EMERGENCY))


def record_refusal(
    world: World, op: RequestShare, recipient: int, actor: Actor, chosen: list[int], message: str, categories: set[str]
) -> None:
    """(e) The refusal is on record: a refused disclosure with its reason, and an audit row."""
    with Session(world.engine) as session:
        row = session.exec(
            select(Disclosure)
            .where(Disclosure.requested_by_user_id == actor.user_id)
            .order_by(col(Disclosure.id).desc())
        ).first()
        assert row is not None and row.id not in {d.id for d in world.disclosures}
        assert row.status == DisclosureStatus.REFUSED
        assert row.refusal_reason == message and message.strip()
        assert row.recipient_organisation_id == world.agencies[recipient].org.id
        items = set(session.exec(select(DisclosureItem.item_id).where(DisclosureItem.disclosure_id == row.id)))
        assert items == {world.items[i].id for i in chosen}
        audit = session.exec(
            select(AuditEvent).where(AuditEvent.subject_type == "disclosure", AuditEvent.subject_id == str(row.id))
        ).all()
        assert [(e.action, e.outcome, e.actor_user_id) for e in audit] == [
            (AuditAction.DISCLOSURE_REFUSED, Outcome.DENIED, actor.user_id)
        ]
    world.refusals += 1
    world.disclosures.append(
        MDisclosure(
            row.id,
            DisclosureStatus.REFUSED,
            op.org,
            recipient,
            frozenset(chosen),
            frozenset(categories),
            str(op.basis),
            (op.org, op.role),
            emergency=op.emergency,
        )
    )


def decide(world: World, op: Decide) -> None:
    wanted = DisclosureStatus.EMERGENCY if op.review else DisclosureStatus.AWAITING_APPROVAL
    pool = world.disclosures if op.pick_any else [d for d in world.disclosures if d.status == wanted]
    if pool:
        decide_on(world, pool[op.disclosure % len(pool)], op)


def decide_on(world: World, target: MDisclosure, op: Decide) -> None:
    """An approval (or, for ``op.review``, an emergency review) of ``target``."""
    wanted = DisclosureStatus.EMERGENCY if op.review else DisclosureStatus.AWAITING_APPROVAL
    actor = world.actor(op.org, op.role)
    note = "Necessary and proportionate." if op.note else ""

    def act(session: Session) -> Disclosure:
        if op.review:
            return review_emergency_disclosure(
                session=session, actor=actor, disclosure_id=target.id, upheld=op.approve, note=note
            )
        return decide_disclosure(session=session, actor=actor, disclosure_id=target.id, approve=op.approve, note=note)

    if op.role != "iso" or target.requester == (op.org, op.role):
        expect(PermissionDenied, act, world)
        event("decision: not allowed")
        return
    if target.status != wanted or (not op.note and (op.review or not op.approve)):
        expect(InvalidInput, act, world)
        event("decision: form error")
        return
    expect(None, act, world)
    if op.review:
        target.status = DisclosureStatus.ACTIVE if op.approve else DisclosureStatus.REVOKED
    else:
        target.status = DisclosureStatus.ACTIVE if op.approve else DisclosureStatus.REJECTED
    event(f"decision: {'review' if op.review else 'approval'} -> {target.status}")


def read(world: World, op: Read) -> None:
    """(a) and (b): the reader sees exactly what the model says, and every read is logged."""
    actor = world.actor(op.org, op.role)
    indexes = list(dict.fromkeys(i % len(world.items) for i in op.items))
    items = [world.items[i] for i in indexes]
    expected = {world.items[i].id: world.expected_view(op.org, i) for i in indexes}
    since_log, since_audit = max_id(world.engine, AccessLog), max_id(world.engine, AuditEvent)
    if op.single:
        item = items[0]
        want = expected[item.id]

        def act_one(session: Session) -> ItemView:
            return read_item(session=session, actor=actor, item_id=item.id, via="property")

        result = expect(PermissionDenied if want is None else None, act_one, world)
        views = [] if want is None else [result]
        if want is None:
            assert result.message == NOT_SHARED
        items = [item]
    else:
        views = expect(
            None,
            lambda s: read_items(session=s, actor=actor, item_ids=[i.id for i in items], via="property"),
            world,
        )
    assert [v.id for v in views] == [i.id for i in items if expected[i.id] is not None]
    for view in views:
        access, fields, disclosure_ids = expected[view.id]  # type: ignore[misc]
        assert view.access == access
        assert {f.key: f.value for f in view.fields} == fields
        assert all(f.withheld == (f.value == WITHHELD) for f in view.fields)
        assert all(f.value for f in view.fields)  # withheld fields say so; none is blank
        assert view.disclosure_ids == disclosure_ids
    check_reads_are_covered(world, actor, views)
    # (b) One access-log row per item asked for, saying what happened.
    with Session(world.engine) as session:
        logged = session.exec(
            select(AccessLog).where(col(AccessLog.id) > since_log, AccessLog.user_id == actor.user_id)
        ).all()
        denials = session.exec(
            select(AuditEvent).where(
                col(AuditEvent.id) > since_audit,
                AuditEvent.actor_user_id == actor.user_id,
                AuditEvent.action == AuditAction.ITEM_READ_DENIED,
            )
        ).all()
    assert [(r.item_id, r.outcome) for r in logged] == [
        (i.id, "denied" if expected[i.id] is None else expected[i.id][0])  # type: ignore[index]
        for i in items
    ]
    assert all(r.organisation_id == actor.organisation_id and r.via == "property" for r in logged)
    for row in logged:
        want = expected[row.item_id]  # type: ignore[index]
        if want is not None and want[0] != "owner":
            assert row.disclosure_id == want[2][0]
            assert row.withheld_fields == [k for k, v in want[1].items() if v == WITHHELD]
    assert [e.subject_id for e in denials] == [str(i.id) for i in items if expected[i.id] is None]
    assert all(e.outcome == Outcome.DENIED for e in denials)
    # Listing agrees with reading: exactly the items the reader's organisation may see.
    listed = expect(None, lambda s: visible_item_ids(session=s, actor=actor), world)
    mine = {item.id for index, item in enumerate(world.items) if world.expected_view(op.org, index) is not None}
    assert {i for i in listed if i in {item.id for item in world.items}} == mine
    event(f"read: {sorted({'denied' if v is None else v[0] for v in expected.values()})}")


def check_reads_are_covered(world: World, actor: Actor, views: list[ItemView]) -> None:
    """(a) and (c), from the database alone: every field shown outside the owner is covered by
    a live disclosure to the reader's organisation, whose consent (if any) is still valid."""
    with Session(world.engine) as session:
        for view in views:
            if view.access == "owner":
                continue
            rows = session.exec(
                select(Disclosure, ConsentRecord)
                .join(DisclosureItem, col(DisclosureItem.disclosure_id) == col(Disclosure.id))
                .outerjoin(ConsentRecord, col(ConsentRecord.id) == col(Disclosure.consent_id))
                .where(DisclosureItem.item_id == view.id, Disclosure.recipient_organisation_id == actor.organisation_id)
            ).all()
            live = [
                d
                for d, consent in rows
                if d.status in LIVE_STATUSES
                and (consent is None or (consent.withdrawn_on is None and consent_is_valid(consent, world.today)))
            ]
            covered = {c for d in live for c in d.categories}
            item = next(i for i in world.items if i.id == view.id)
            category_of = {key: category for key, category, _ in item.fields}
            for f in view.fields:
                if not f.withheld:
                    assert category_of[f.key] in covered, f"{f.key} shown without a live disclosure"


def check_disclosures(world: World) -> None:
    """(c), (d) and (e) over every disclosure of this world, straight from the database."""
    with Session(world.engine) as session:
        rows = session.exec(
            select(Disclosure).where(col(Disclosure.discloser_organisation_id).in_(world.org_ids))
        ).all()
        consents = {c.id: c for c in session.exec(select(ConsentRecord).where(col(ConsentRecord.id).in_(
            [c.id for c in world.consents]
        )))}  # fmt: skip
        iso_users = set(
            session.exec(
                select(UserRole.user_id).where(
                    col(UserRole.user_id).in_(world.user_ids), UserRole.role == Role.INFORMATION_SHARING_OFFICER
                )
            )
        )
    assert {d.id: d.status for d in rows} == {d.id: str(d.status) for d in world.disclosures}
    assert sum(d.status == DisclosureStatus.REFUSED for d in rows) == world.refusals
    for d in rows:
        if d.status == DisclosureStatus.REFUSED:
            assert d.refusal_reason.strip()  # (e)
            continue
        assert d.agreement_id is not None
        if d.status not in LIVE_STATUSES:
            continue
        if d.basis == LawfulBasis.CONSENT:
            # (c) A live disclosure never rests on withdrawn consent.
            assert d.consent_id is not None and consents[d.consent_id].withdrawn_on is None
            assert not d.emergency
            continue
        # (d)
        assert LawfulBasis(d.basis).is_gateway and d.consent_id is None
        assert len(d.justification) >= MIN_JUSTIFICATION
        second_person = (
            d.decided_by_user_id is not None
            and d.decided_by_user_id != d.requested_by_user_id
            and d.decided_by_user_id in iso_users
        )
        emergency = d.emergency and d.review_due_at is not None
        assert second_person or emergency
        if d.emergency:
            assert d.review_due_at == add_working_days(d.requested_at, REVIEW_DAYS)
            if d.status == DisclosureStatus.ACTIVE:  # upheld on review, by someone else
                assert d.reviewed_by_user_id in iso_users and d.reviewed_by_user_id != d.requested_by_user_id


def max_id(engine: Engine, model: Any) -> int:
    with Session(engine) as session:
        return session.exec(select(col(model.id)).order_by(col(model.id).desc()).limit(1)).first() or 0


RUN = {
    NewAgreement: lambda w, op: new_agreement(w, op.spec),
    SetAgreementStatus: set_status,
    GiveConsent: give_consent,
    WithdrawConsent: withdraw,
    RequestShare: request,
    Decide: decide,
    Read: read,
}


def test_random_sharing_histories_keep_every_promise(engine: Engine) -> None:
    examples = 0

    @HISTORY_SETTINGS
    @given(spec=world_specs, history=st.lists(operations, min_size=6, max_size=16))
    def run(spec: WorldSpec, history: list[Any]) -> None:
        nonlocal examples
        examples += 1
        world = build_world(engine, spec)
        for op in history:
            RUN[type(op)](world, op)
        # A last read of everything by one organisation, then the invariants over every disclosure.
        read(world, Read(spec.final_reader, "member", tuple(range(len(world.items))), single=False))
        check_disclosures(world)

    started = time.perf_counter()
    run()
    elapsed = time.perf_counter() - started
    assert examples >= HISTORY_SETTINGS.max_examples >= 500 or "HX" in __import__("os").environ, examples
    print(f"\n{examples} sharing histories in {elapsed:.1f}s")
    for what, count in sorted(TALLY.items()):
        print(f"{count:6d}  {what}")


# =============================================================================================
# The pure rules (no database)
# =============================================================================================

DAY = date(2026, 6, 15)


def offsets(low: int = -5, high: int = 5) -> st.SearchStrategy[date]:
    return st.integers(low, high).map(lambda n: DAY + timedelta(days=n))


def plain_agreement(
    status: str, purposes: frozenset[str], categories: frozenset[str], restrictions: dict[str, list[int]],
    starts: date, ends: date,
) -> SharingAgreement:  # fmt: skip
    return SharingAgreement(
        title="t", reference="r", status=status, purposes=sorted(purposes), categories=sorted(categories),
        category_restrictions=restrictions, lawful_bases=[], starts_on=starts, ends_on=ends, review_on=ends,
    )  # fmt: skip


@RULE_SETTINGS
@given(
    status=st.sampled_from(sorted(AgreementStatus)),
    parties=st.frozensets(st.integers(1, 4), max_size=4),
    purposes=subsets(PURPOSES, min_size=1),
    categories=subsets(CATEGORIES, min_size=1),
    restrictions=st.dictionaries(st.sampled_from(CATEGORIES), st.lists(st.integers(1, 4), max_size=3), max_size=2),
    starts=offsets(),
    ends=offsets(),
    discloser=st.integers(1, 4),
    recipient=st.integers(1, 4),
    purpose=st.sampled_from(PURPOSES),
    asked=st.frozensets(st.sampled_from(CATEGORIES), min_size=1, max_size=4),
)
def test_agreement_gap_names_the_first_thing_missing(
    status: str, parties: frozenset[int], purposes: frozenset[str], categories: frozenset[str],
    restrictions: dict[str, list[int]], starts: date, ends: date, discloser: int, recipient: int, purpose: str,
    asked: frozenset[str],
) -> None:  # fmt: skip
    agreement = plain_agreement(status, purposes, categories, restrictions, starts, ends)
    gap = agreement_gap(
        agreement, party_ids=parties, discloser_id=discloser, recipient_id=recipient, purpose=Purpose(purpose),
        categories=[DataCategory(c) for c in asked], today=DAY,
    )  # fmt: skip
    in_force = status == AgreementStatus.ACTIVE and starts <= DAY <= ends
    uncovered = sorted(
        c
        for c in asked
        if c not in categories or (c in restrictions and not {discloser, recipient} <= set(restrictions[c]))
    )
    if not in_force:
        assert gap == "in_force"
    elif not {discloser, recipient} <= parties:
        assert gap == "parties"
    elif purpose not in purposes:
        assert gap == "purpose"
    elif uncovered:
        assert gap == DataCategory(uncovered[0])
    else:
        assert gap is None


@RULE_SETTINGS
@given(
    given_on=offsets(),
    expires_on=st.none() | offsets(),
    withdrawn_on=st.none() | offsets(),
    organisations=st.frozensets(st.integers(1, 3), max_size=3),
    types=st.frozensets(st.sampled_from([str(t) for t in ORG_TYPES]), max_size=2),
    purposes=subsets(PURPOSES, min_size=1),
    categories=subsets(CATEGORIES, min_size=1),
    recipient=st.integers(1, 3),
    recipient_type=st.sampled_from([str(t) for t in ORG_TYPES]),
    purpose=st.sampled_from(PURPOSES),
    asked=st.frozensets(st.sampled_from(CATEGORIES), min_size=1, max_size=4),
    on=offsets(-8, 8),
    status=st.sampled_from(sorted(DisclosureStatus)),
)
def test_consent_covers_only_what_it_says_and_only_while_it_lasts(
    given_on: date, expires_on: date | None, withdrawn_on: date | None, organisations: frozenset[int],
    types: frozenset[str], purposes: frozenset[str], categories: frozenset[str], recipient: int,
    recipient_type: str, purpose: str, asked: frozenset[str], on: date, status: str,
) -> None:  # fmt: skip
    consent = ConsentRecord(
        person_id=1, method="verbal", scope_organisation_ids=sorted(organisations),
        scope_organisation_types=sorted(types), scope_purposes=sorted(purposes),
        scope_categories=sorted(categories), given_on=given_on, expires_on=expires_on, withdrawn_on=withdrawn_on,
    )  # fmt: skip
    model = MConsent(0, 0, organisations, types, purposes, categories, given_on, expires_on, withdrawn_on)
    assert consent_is_valid(consent, on) == model.valid(on)
    # (c) From the day of withdrawal on, consent authorises nothing.
    if withdrawn_on is not None and on >= withdrawn_on:
        assert not consent_is_valid(consent, on)
        assert not disclosure_is_live(status, consent, on)
    gap = consent_gap(
        consent, recipient=OrgRef(recipient, "Recipient", recipient_type), purpose=Purpose(purpose),
        categories=[DataCategory(c) for c in asked], today=on,
    )  # fmt: skip
    assert (gap is None) == model.covers(recipient, recipient_type, purpose, set(asked), on)
    if gap is not None and model.valid(on):
        if recipient not in organisations and recipient_type not in types:
            assert gap == "recipient"
        elif purpose not in purposes:
            assert gap == "purpose"
        else:
            assert gap == DataCategory(min(set(asked) - categories))
    # Only the live statuses give access, and only while the consent (if any) is valid.
    assert disclosure_is_live(status, consent, on) == (status in LIVE_STATUSES and model.valid(on))
    assert disclosure_is_live(status, None, on) == (status in LIVE_STATUSES)


@RULE_SETTINGS
@given(
    start=st.datetimes(min_value=datetime(2024, 1, 1), max_value=datetime(2030, 12, 31)).map(
        lambda d: d.replace(tzinfo=UTC)
    ),
    days=st.integers(1, 10),
)
def test_working_days_skip_weekends_and_bank_holidays(start: datetime, days: int) -> None:
    import holidays

    bank = holidays.country_holidays("GB", subdiv="ENG", years=range(start.year, start.year + 3))
    due = add_working_days(start, days)
    assert due > start
    assert due.time() == start.time() and due.tzinfo == start.tzinfo
    assert due.weekday() < 5 and due.date() not in bank
    between = [start.date() + timedelta(days=n) for n in range(1, (due.date() - start.date()).days + 1)]
    assert sum(1 for d in between if d.weekday() < 5 and d not in bank) == days
    # Never more than a fortnight of weekends and holidays in the way.
    assert (due - start).days <= days + 14
