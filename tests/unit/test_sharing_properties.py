"""Property tests of information sharing.

Random histories: agreements made, activated, suspended and expired; consent given, withdrawn
and running out; disclosures asked for on every basis including emergencies; approvals,
rejections and emergency reviews; reads by people of every organisation.  Every step is
checked against a small in-memory model written independently of the code, and these
properties are checked throughout:

(a) nobody sees a field of an item (gets anything but the withheld notice) unless their
    organisation owns the item or a live disclosure to it covers the field's category;
(b) every read and every refusal is in the access log, and refusals in the audit trail;
(c) withdrawn consent never authorises a read after the withdrawal: what rested on it is
    flagged for review and its recipients are told;
(d) every live disclosure without consent rests on a legal gateway, has a justification of
    the configured length, and was approved by a second person who is an information-sharing
    officer, or is an emergency share with a review date;
(e) every refused share is on record as a refused disclosure with its reason.

The same histories run against two systems:

* ``Ledger``: the sharing procedure held in memory, deciding with the pure rules of
  ``sharing.rules`` on unsaved model objects; fast, so it runs 500 long histories;
* ``Database``: the real services on the test database, a fresh partnership per example,
  with the services' clock moved on when days pass; fewer examples, as each is a few dozen
  real transactions.

The pure rules also get direct tests at the end.
"""

from __future__ import annotations

import contextlib
import itertools
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock_time
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import event as hypothesis_event
from hypothesis import strategies as st
from hypothesis.errors import InvalidArgument
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from sharing.audit import AuditAction, Outcome
from sharing.config import get_settings
from sharing.db import transaction, utcnow
from sharing.disclosures import (
    DisclosureRefused,
    DisclosureRequest,
    decide_disclosure,
    item_categories,
    request_disclosure,
    review_emergency_disclosure,
)
from sharing.errors import DomainError, InvalidInput, NotFound, PermissionDenied
from sharing.models import (
    AccessLog,
    AuditEvent,
    ConsentRecord,
    Disclosure,
    DisclosureItem,
    InformationItem,
    OrganisationNotice,
    OrganisationType,
    Person,
    Role,
    SharingAgreement,
    UserRole,
)
from sharing.permissions import Actor, Permission
from sharing.reads import NOT_SHARED, FieldView, ItemView, read_item, read_items, visible_item_ids
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
    agreement_is_in_force,
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
from tests.unit.sharing_helpers import JUSTIFICATION, Agency, Org, make_agency_in

CATEGORIES = sorted(DataCategory)
PURPOSES = sorted(Purpose)
GATEWAYS = [b for b in LawfulBasis if b.is_gateway]
IDENTITY = {DataCategory.IDENTITY, DataCategory.CONTACT}
ROLES = ("officer", "iso", "member")
ROLE_OF = {
    "officer": Role.LEAD_OFFICER,
    "iso": Role.INFORMATION_SHARING_OFFICER,
    "member": Role.PANEL_MEMBER,
}
ORG_TYPES = [
    OrganisationType.COUNCIL_ASB_TEAM,
    OrganisationType.POLICE,
    OrganisationType.ADULT_SOCIAL_CARE,
    OrganisationType.HOUSING_ASSOCIATION,
]
PERSON_VALUES = {
    "name": "",  # the person's display name
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

# The main history test (in memory) runs at least 500 examples; the database one fewer, as
# each of its examples is a few dozen real transactions.
HISTORY_SETTINGS = settings(
    max_examples=500,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
DATABASE_HISTORY_SETTINGS = settings(
    max_examples=80,
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
    agreement: int | None = None  # the agreement it rests on (approval re-checks it)


@dataclass
class World:
    """One example's partnership, and the model of what should be true of it."""

    system: System
    agencies: list[Agency]
    people: list[MPerson] = field(default_factory=list)
    items: list[MItem] = field(default_factory=list)
    agreements: list[MAgreement] = field(default_factory=list)
    consents: list[MConsent] = field(default_factory=list)
    disclosures: list[MDisclosure] = field(default_factory=list)
    refusals: int = 0

    @property
    def today(self) -> date:
        return self.system.today

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
    withdraw_after: bool  # then the consent it rests on is withdrawn
    wait_after: int  # then this many days pass
    read_after: bool  # then the recipient reads what was shared (before and after each of those)


@dataclass(frozen=True)
class Decide:
    org: int
    role: str
    disclosure: int
    pick_any: bool  # any disclosure, not only those waiting
    approve: bool
    note: bool
    review: bool  # an emergency review rather than an approval
    by_requester: bool  # the person who asked for it tries to decide it


@dataclass(frozen=True)
class PassDays:
    """Time passes: consent and agreements run out on their dates."""

    days: int


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
    ends=st.sampled_from([30, 90]),
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
    expires=st.sampled_from([None, 25, 35]),  # days after it was given: still valid, for now
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
    by_requester=st.sampled_from([False, False, True]),
)
requests = st.builds(
    RequestShare,
    org=st.sampled_from([0, 0, 1, 1, 2]),  # organisation 2 holds nothing about a person
    role=st.sampled_from(["officer", "officer", "officer", "iso", "iso", "member"]),
    items=st.lists(st.integers(0, 5), min_size=1, max_size=3, unique=True).map(tuple),
    one_person=mostly(True),
    foreign=st.sampled_from([False] * 7 + [True]),
    recipient=st.sampled_from([1, 1, 1, 2, 2, 2, 0]),  # added to the discloser's index
    purpose=st.sampled_from(PURPOSES),
    basis=st.sampled_from([LawfulBasis.CONSENT, LawfulBasis.CONSENT, *GATEWAYS]),
    justified=st.sampled_from([True] * 7 + [False]),
    emergency=mostly(False),
    categories=st.none() | st.none() | st.frozensets(st.sampled_from(CATEGORIES), min_size=1, max_size=4),
    then=st.none() | decisions,
    withdraw_after=mostly(False),
    wait_after=st.sampled_from([0, 0, 1, 20, 40]),
    read_after=mostly(True),
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
    st.builds(PassDays, st.sampled_from([1, 1, 2, 7, 20])),
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
    # Most people start with consent on record, so consent-based shares often go through.
    consents=st.tuples(
        *[
            st.one_of(
                st.none(),
                generous_consents.map(lambda c, i=i: replace(c, person=i)),  # type: ignore[misc]
                generous_consents.map(lambda c, i=i: replace(c, person=i)),  # type: ignore[misc]
                random_consents.map(lambda c, i=i: replace(c, person=i)),  # type: ignore[misc]
            )
            for i in range(3)
        ]
    ).map(lambda consents: tuple(c for c in consents if c is not None)),
    final_reader=orgs,
)


# =============================================================================================
# The systems a history runs against
# =============================================================================================

# People 0 and 1 are held by organisation 0, person 2 by organisation 1.  Items: each
# person's details (0-2), a case note about each (3-5), and an incident about nobody held
# by organisation 2 (6).
PERSON_OWNERS = (0, 0, 1)
NOTE_OWNERS = (0, 0, 1, 2)


def person_input(index: int, confidential: bool) -> PersonInput:
    return PersonInput(
        "Pat",
        unique(f"Person{index}"),
        date_of_birth=date(1990, 1, 2),
        address="1 Test Street",
        postcode="ab1 2cd",
        phone="07700 900000",
        email="person@example.com",
        is_confidential_complainant=confidential,
    )


def note_fields(index: int, categories: frozenset[str]) -> list[tuple[str, str, str]]:
    return [(f"f_{c}", c, f"{c} fact {index}") for c in sorted(categories)]


class System:
    """The services a history calls (same signatures as ``sharing``'s) and the records it
    checks afterwards."""

    @property
    def today(self) -> date:
        raise NotImplementedError

    def transaction(self) -> contextlib.AbstractContextManager[Any]:
        raise NotImplementedError

    def build(self, spec: WorldSpec) -> tuple[list[Agency], list[MPerson], list[MItem]]:
        raise NotImplementedError

    def pass_days(self, days: int) -> None:
        """Move the calendar on."""
        raise NotImplementedError

    # Services: create_agreement, set_agreement_status, record_consent, withdraw_consent,
    # request_disclosure, decide_disclosure, review_emergency_disclosure, read_items,
    # read_item, visible_item_ids, all called with ``session=`` from ``transaction()``.
    create_agreement: Callable[..., SharingAgreement]
    set_agreement_status: Callable[..., SharingAgreement]
    record_consent: Callable[..., ConsentRecord]
    withdraw_consent: Callable[..., list[int]]
    request_disclosure: Callable[..., Disclosure]
    decide_disclosure: Callable[..., Disclosure]
    review_emergency_disclosure: Callable[..., Disclosure]
    read_items: Callable[..., list[ItemView]]
    read_item: Callable[..., ItemView]
    visible_item_ids: Callable[..., list[int]]

    # Records
    def last_ids(self) -> tuple[int, int, int]:
        """The newest access-log, audit and notice ids."""
        raise NotImplementedError

    def access_log(self, since: int, user_id: int) -> list[AccessLog]:
        raise NotImplementedError

    def audit(self, since: int, user_id: int | None = None, subject: tuple[str, int] | None = None) -> list[AuditEvent]:
        raise NotImplementedError

    def notices(self, since: int) -> list[OrganisationNotice]:
        raise NotImplementedError

    def last_disclosure_by(self, user_id: int) -> tuple[Disclosure, set[int]]:
        """The newest disclosure ``user_id`` asked for, and its item ids."""
        raise NotImplementedError

    def disclosures(self, org_ids: list[int]) -> list[Disclosure]:
        raise NotImplementedError

    def covering(self, item_id: int, org_id: int) -> list[tuple[Disclosure, ConsentRecord | None]]:
        """Every disclosure of ``item_id`` to ``org_id``, with the consent it rests on."""
        raise NotImplementedError

    def consents(self, ids: list[int]) -> dict[int, ConsentRecord]:
        raise NotImplementedError

    def iso_users(self, user_ids: list[int]) -> set[int]:
        raise NotImplementedError


class ServiceClock:
    """The services' clock (``utcnow`` as ``sharing.register``, ``sharing.disclosures`` and
    ``sharing.reads`` see it), which a history can move on by whole days."""

    MODULES = ("sharing.register", "sharing.disclosures", "sharing.reads")

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.offset = timedelta(0)
        for module in self.MODULES:
            monkeypatch.setattr(f"{module}.utcnow", self)

    def __call__(self) -> datetime:
        return utcnow() + self.offset


class Database(System):
    """The real services, on the test database; days pass on the services' clock."""

    create_agreement = staticmethod(create_agreement)
    set_agreement_status = staticmethod(set_agreement_status)
    record_consent = staticmethod(record_consent)
    withdraw_consent = staticmethod(withdraw_consent)
    request_disclosure = staticmethod(request_disclosure)
    decide_disclosure = staticmethod(decide_disclosure)
    review_emergency_disclosure = staticmethod(review_emergency_disclosure)
    read_items = staticmethod(read_items)
    read_item = staticmethod(read_item)
    visible_item_ids = staticmethod(visible_item_ids)

    def __init__(self, engine: Engine, clock: ServiceClock) -> None:
        self.engine = engine
        self.clock = clock
        clock.offset = timedelta(0)

    @property
    def today(self) -> date:
        return self.clock().date()

    def pass_days(self, days: int) -> None:
        self.clock.offset += timedelta(days=days)

    def transaction(self) -> contextlib.AbstractContextManager[Any]:
        return transaction(self.engine)

    def build(self, spec: WorldSpec) -> tuple[list[Agency], list[MPerson], list[MItem]]:
        people: list[MPerson] = []
        details: list[MItem] = []
        notes: list[MItem] = []
        with transaction(self.engine) as session:
            agencies = [make_agency_in(session, t, f"P{i}", quick=True) for i, t in enumerate(spec.types)]
            for index, (owner, confidential) in enumerate(zip(PERSON_OWNERS, spec.confidential, strict=True)):
                person = create_person(
                    session=session, actor=agencies[owner].officer, data=person_input(index, confidential)
                )
                assert person.id is not None
                people.append(MPerson(person.id, owner, person.display_name, confidential))
                item = person_details_item(session, person.id)
                assert item.id is not None
                values = {**PERSON_VALUES, "name": person.display_name}
                fields = [(k, str(PERSON_CATEGORIES[k]), v) for k, v in values.items()]
                details.append(MItem(item.id, owner, index, fields))
            for index, (owner, categories) in enumerate(zip(NOTE_OWNERS, spec.note_categories, strict=True)):
                person_index = index if index < 3 else None
                fields = note_fields(index, categories)
                note = create_item(
                    session=session,
                    actor=agencies[owner].officer,
                    kind=ItemKind.CASE_NOTE if person_index is not None else ItemKind.INCIDENT,
                    title=f"Note {index}",
                    category=DataCategory(fields[0][1]),
                    fields=[ItemField(k, k, v, DataCategory(c)) for k, c, v in fields],
                    person_id=people[person_index].id if person_index is not None else None,
                )
                assert note.id is not None
                notes.append(MItem(note.id, owner, person_index, fields))
        return agencies, people, details + notes

    def last_ids(self) -> tuple[int, int, int]:
        with Session(self.engine) as session:
            return tuple(  # type: ignore[return-value]
                session.exec(select(col(model.id)).order_by(col(model.id).desc()).limit(1)).first() or 0
                for model in (AccessLog, AuditEvent, OrganisationNotice)
            )

    def access_log(self, since: int, user_id: int) -> list[AccessLog]:
        with Session(self.engine) as session:
            query = select(AccessLog).where(col(AccessLog.id) > since, AccessLog.user_id == user_id)
            return list(session.exec(query.order_by(col(AccessLog.id))))

    def audit(self, since: int, user_id: int | None = None, subject: tuple[str, int] | None = None) -> list[AuditEvent]:
        query = select(AuditEvent).where(col(AuditEvent.id) > since)
        if user_id is not None:
            query = query.where(AuditEvent.actor_user_id == user_id)
        if subject is not None:
            query = query.where(AuditEvent.subject_type == subject[0], AuditEvent.subject_id == str(subject[1]))
        with Session(self.engine) as session:
            return list(session.exec(query.order_by(col(AuditEvent.id))))

    def notices(self, since: int) -> list[OrganisationNotice]:
        with Session(self.engine) as session:
            return list(session.exec(select(OrganisationNotice).where(col(OrganisationNotice.id) > since)))

    def last_disclosure_by(self, user_id: int) -> tuple[Disclosure, set[int]]:
        with Session(self.engine) as session:
            row = session.exec(
                select(Disclosure).where(Disclosure.requested_by_user_id == user_id).order_by(col(Disclosure.id).desc())
            ).first()
            assert row is not None
            items = set(session.exec(select(DisclosureItem.item_id).where(DisclosureItem.disclosure_id == row.id)))
            return row, items

    def disclosures(self, org_ids: list[int]) -> list[Disclosure]:
        with Session(self.engine) as session:
            query = select(Disclosure).where(col(Disclosure.discloser_organisation_id).in_(org_ids))
            return list(session.exec(query))

    def covering(self, item_id: int, org_id: int) -> list[tuple[Disclosure, ConsentRecord | None]]:
        with Session(self.engine) as session:
            rows = session.exec(
                select(Disclosure, ConsentRecord)
                .join(DisclosureItem, col(DisclosureItem.disclosure_id) == col(Disclosure.id))
                .outerjoin(ConsentRecord, col(ConsentRecord.id) == col(Disclosure.consent_id))
                .where(DisclosureItem.item_id == item_id, Disclosure.recipient_organisation_id == org_id)
            )
            return [(d, c) for d, c in rows]

    def consents(self, ids: list[int]) -> dict[int, ConsentRecord]:
        with Session(self.engine) as session:
            rows = session.exec(select(ConsentRecord).where(col(ConsentRecord.id).in_(ids)))
            return {c.id: c for c in rows if c.id is not None}

    def iso_users(self, user_ids: list[int]) -> set[int]:
        with Session(self.engine) as session:
            return set(
                session.exec(
                    select(UserRole.user_id).where(
                        col(UserRole.user_id).in_(user_ids), UserRole.role == Role.INFORMATION_SHARING_OFFICER
                    )
                )
            )


class Ledger(System):
    """The sharing procedure held in memory.  Every decision is made by the pure rules of
    ``sharing.rules`` (agreement_gap, consent_gap, consent_is_valid, disclosure_is_live,
    add_working_days) on unsaved model objects; the ledger only keeps the records.  Checks
    come before changes, so a refused action changes nothing but what a refusal must leave
    on record (as ``transaction()`` does with ``durable_effects``)."""

    def __init__(self, start: date) -> None:
        self.day = start
        self._ids = itertools.count(1)
        self.orgs: dict[int, Org] = {}
        self.people: dict[int, Person] = {}
        self.items: dict[int, InformationItem] = {}
        self.agreements: dict[int, tuple[SharingAgreement, frozenset[int]]] = {}
        self.consent_rows: dict[int, ConsentRecord] = {}
        self.disclosure_rows: dict[int, Disclosure] = {}
        self.disclosure_items: dict[int, list[int]] = {}
        self.roles: dict[int, frozenset[Role]] = {}
        self.log: list[AccessLog] = []
        self.events: list[AuditEvent] = []
        self.notice_rows: list[OrganisationNotice] = []

    # -- plumbing ---------------------------------------------------------------------------

    def transaction(self) -> contextlib.AbstractContextManager[Any]:
        return contextlib.nullcontext(self)

    @property
    def today(self) -> date:
        return self.day

    def pass_days(self, days: int) -> None:
        self.day += timedelta(days=days)

    def now(self) -> datetime:
        return datetime.combine(self.day, clock_time(10, 30), UTC)

    def next_id(self) -> int:
        return next(self._ids)

    def audit_row(self, action: AuditAction, outcome: Outcome, actor: Actor, subject: tuple[str, int]) -> None:
        self.events.append(
            AuditEvent(
                id=self.next_id(),
                action=str(action),
                outcome=str(outcome),
                actor_user_id=actor.user_id,
                actor_organisation_id=actor.organisation_id,
                subject_type=subject[0],
                subject_id=str(subject[1]),
                prev_hash="",
                hash="",
            )
        )

    def require(self, actor: Actor, permission: Permission, subject: tuple[str, int]) -> None:
        if not actor.can(permission):
            self.audit_row(AuditAction.PERMISSION_DENIED, Outcome.DENIED, actor, subject)
            raise PermissionDenied("You do not have permission to do that.")

    def build(self, spec: WorldSpec) -> tuple[list[Agency], list[MPerson], list[MItem]]:
        agencies = []
        for index, org_type in enumerate(spec.types):
            org = Org(self.next_id(), f"Org {index}", org_type)
            self.orgs[org.id] = org
            actors = {
                name: Actor(
                    user_id=self.next_id(),
                    organisation_id=org.id,
                    roles=frozenset({role}),
                    organisation_name=org.name,
                    organisation_type=org_type,
                )
                for name, role in ROLE_OF.items()
            }
            self.roles.update({a.user_id: a.roles for a in actors.values() if a.user_id is not None})
            agencies.append(Agency(org=org, **actors))
        people: list[MPerson] = []
        details: list[MItem] = []
        notes: list[MItem] = []
        for index, (owner, confidential) in enumerate(zip(PERSON_OWNERS, spec.confidential, strict=True)):
            data = person_input(index, confidential)
            person = Person(
                id=self.next_id(),
                controller_organisation_id=agencies[owner].org.id,
                given_name=data.given_name,
                family_name=data.family_name,
                is_confidential_complainant=confidential,
            )
            self.people[person.id] = person  # type: ignore[index]
            item = InformationItem(
                id=self.next_id(),
                kind=ItemKind.PERSON_DETAILS,
                owner_organisation_id=agencies[owner].org.id,
                person_id=person.id,
                title="Personal details",
                category=DataCategory.IDENTITY,
            )
            self.items[item.id] = item  # type: ignore[index]
            values = {**PERSON_VALUES, "name": person.display_name}
            people.append(MPerson(person.id, owner, person.display_name, confidential))  # type: ignore[arg-type]
            fields = [(k, str(PERSON_CATEGORIES[k]), v) for k, v in values.items()]
            details.append(MItem(item.id, owner, index, fields))  # type: ignore[arg-type]
        for index, (owner, categories) in enumerate(zip(NOTE_OWNERS, spec.note_categories, strict=True)):
            person_index = index if index < 3 else None
            fields = note_fields(index, categories)
            item = InformationItem(
                id=self.next_id(),
                kind=ItemKind.CASE_NOTE,
                owner_organisation_id=agencies[owner].org.id,
                person_id=people[person_index].id if person_index is not None else None,
                title=f"Note {index}",
                category=fields[0][1],
                content=[{"key": k, "label": k, "value": v, "category": c} for k, c, v in fields],
            )
            self.items[item.id] = item  # type: ignore[index]
            notes.append(MItem(item.id, owner, person_index, fields))  # type: ignore[arg-type]
        return agencies, people, details + notes

    # -- services ---------------------------------------------------------------------------

    def create_agreement(self, *, session: Any, actor: Actor, data: AgreementInput) -> SharingAgreement:
        self.require(actor, Permission.SHARING_AGREEMENTS_MANAGE, ("sharing_agreement", 0))
        if data.ends_on < data.starts_on:
            raise InvalidInput({"ends_on": "The end date must be after the start date."})
        agreement = SharingAgreement(
            id=self.next_id(),
            title=data.title,
            reference=data.reference,
            status=AgreementStatus.DRAFT,
            purposes=sorted(str(p) for p in data.purposes),
            categories=sorted(str(c) for c in data.categories),
            category_restrictions=data.category_restrictions,
            lawful_bases=sorted(str(b) for b in data.lawful_bases),
            starts_on=data.starts_on,
            ends_on=data.ends_on,
            review_on=data.review_on,
        )
        self.agreements[agreement.id] = (agreement, frozenset(data.party_ids))  # type: ignore[index]
        return agreement

    def set_agreement_status(
        self, *, session: Any, actor: Actor, agreement_id: int, status: AgreementStatus
    ) -> SharingAgreement:
        self.require(actor, Permission.SHARING_AGREEMENTS_MANAGE, ("sharing_agreement", agreement_id))
        agreement = self.agreements[agreement_id][0]
        agreement.status = status
        return agreement

    def record_consent(self, *, session: Any, actor: Actor, data: ConsentInput) -> ConsentRecord:
        self.require(actor, Permission.SHARING_CONSENT_RECORD, ("person", data.person_id))
        if not data.organisation_ids and not data.organisation_types:
            raise InvalidInput({"organisations": "Say which organisations the consent covers."})
        if data.expires_on is not None and data.expires_on < data.given_on:
            raise InvalidInput({"expires_on": "Consent cannot end before it was given."})
        consent = ConsentRecord(
            id=self.next_id(),
            person_id=data.person_id,
            method=data.method,
            scope_organisation_ids=sorted(data.organisation_ids),
            scope_organisation_types=sorted(str(t) for t in data.organisation_types),
            scope_purposes=sorted(str(p) for p in data.purposes),
            scope_categories=sorted(str(c) for c in data.categories),
            given_on=data.given_on,
            expires_on=data.expires_on,
        )
        self.consent_rows[consent.id] = consent  # type: ignore[index]
        return consent

    def withdraw_consent(
        self, *, session: Any, actor: Actor, consent_id: int, withdrawn_on: date, how: str
    ) -> list[int]:
        consent = self.consent_rows[consent_id]
        self.require(actor, Permission.SHARING_CONSENT_RECORD, ("person", consent.person_id))
        if consent.withdrawn_on is not None:
            raise InvalidInput({"consent": "This consent has already been withdrawn."})
        if withdrawn_on > self.today:
            raise InvalidInput({"withdrawn_on": "The withdrawal date cannot be in the future."})
        consent.withdrawn_on = withdrawn_on
        flagged = []
        for disclosure in self.disclosure_rows.values():
            if disclosure.consent_id == consent_id and disclosure.status in LIVE_STATUSES:
                disclosure.status = DisclosureStatus.CONSENT_WITHDRAWN_REVIEW
                self.notice_rows.append(
                    OrganisationNotice(
                        id=self.next_id(),
                        organisation_id=disclosure.recipient_organisation_id,
                        disclosure_id=disclosure.id,
                        message="Consent withdrawn.",
                    )
                )
                assert disclosure.id is not None
                flagged.append(disclosure.id)
        return flagged

    def refuse(self, actor: Actor, disclosure: Disclosure, item_ids: list[int], reason: str) -> None:
        """Keep the refused disclosure and its audit row, as the services' durable effect does."""
        disclosure.id = self.next_id()
        disclosure.status = DisclosureStatus.REFUSED
        disclosure.refusal_reason = reason
        self.disclosure_rows[disclosure.id] = disclosure
        self.disclosure_items[disclosure.id] = sorted(set(item_ids))
        self.audit_row(AuditAction.DISCLOSURE_REFUSED, Outcome.DENIED, actor, ("disclosure", disclosure.id))

    def request_disclosure(self, *, session: Any, actor: Actor, request: DisclosureRequest) -> Disclosure:
        self.require(actor, Permission.SHARING_DISCLOSURES_REQUEST, ("disclosure", 0))
        items = [self.items[i] for i in dict.fromkeys(request.item_ids)]
        held = {c for item in items for c in item_categories(item)}
        wanted = set(request.categories) & held if request.categories else held
        now = self.now()
        assert actor.organisation_id is not None
        draft = Disclosure(
            status=DisclosureStatus.REFUSED,
            discloser_organisation_id=actor.organisation_id,
            recipient_organisation_id=request.recipient_organisation_id,
            purpose=request.purpose,
            basis=request.basis,
            categories=sorted(str(c) for c in wanted),
            justification=request.justification,
            emergency=request.emergency,
            requested_by_user_id=actor.user_id,
            requested_at=now,
            decided_at=now,
        )
        if any(item.owner_organisation_id != actor.organisation_id for item in items):
            draft.categories = sorted(str(c) for c in held)
            self.refuse(actor, draft, request.item_ids, "Not yours to share.")
            raise PermissionDenied("Not yours to share.")
        if request.recipient_organisation_id == actor.organisation_id:
            raise InvalidInput({"recipient": "Choose another organisation."})
        if not wanted:
            raise InvalidInput({"categories": "Choose something to share."})
        if request.basis.is_gateway and len(request.justification.strip()) < MIN_JUSTIFICATION:
            raise InvalidInput({"justification": "Too short."})
        if request.emergency and not request.basis.is_gateway:
            raise InvalidInput({"emergency": "Not on consent."})
        assert actor.organisation_id is not None
        agreement = next(
            (
                a
                for a, parties in self.agreements.values()
                if agreement_gap(
                    a,
                    party_ids=parties,
                    discloser_id=actor.organisation_id,
                    recipient_id=request.recipient_organisation_id,
                    purpose=request.purpose,
                    categories=wanted,
                    today=self.today,
                )
                is None
                and str(request.basis) in a.lawful_bases
            ),
            None,
        )
        if agreement is None:
            self.refuse(actor, draft, request.item_ids, "No agreement covers it.")
            raise DisclosureRefused("No agreement covers it.")
        consent: ConsentRecord | None = None
        if request.basis == LawfulBasis.CONSENT:
            people = {item.person_id for item in items} - {None}
            recipient = self.orgs[request.recipient_organisation_id]
            ref = OrgRef(recipient.id, recipient.name, str(recipient.type))
            covering = [
                c
                for c in self.consent_rows.values()
                if len(people) == 1
                and c.person_id in people
                and consent_gap(c, recipient=ref, purpose=request.purpose, categories=wanted, today=self.today) is None
            ]
            if not covering:
                self.refuse(actor, draft, request.item_ids, "No consent covers it.")
                raise DisclosureRefused("No consent covers it.")
            consent = max(covering, key=lambda c: c.id or 0)
        disclosure = draft
        disclosure.id = self.next_id()
        disclosure.agreement_id = agreement.id
        disclosure.decided_at = None
        if consent is not None:
            disclosure.consent_id = consent.id
            disclosure.status = DisclosureStatus.ACTIVE
            disclosure.decided_by_user_id = actor.user_id
        elif request.emergency:
            disclosure.status = DisclosureStatus.EMERGENCY
            disclosure.decided_by_user_id = actor.user_id
            disclosure.review_due_at = add_working_days(now, REVIEW_DAYS)
        else:
            disclosure.status = DisclosureStatus.AWAITING_APPROVAL
        self.disclosure_rows[disclosure.id] = disclosure
        self.disclosure_items[disclosure.id] = [item.id for item in items]  # type: ignore[misc]
        return disclosure

    def _for_decision(self, actor: Actor, disclosure_id: int) -> Disclosure:
        self.require(actor, Permission.SHARING_DISCLOSURES_APPROVE, ("disclosure", disclosure_id))
        disclosure = self.disclosure_rows[disclosure_id]
        if disclosure.requested_by_user_id == actor.user_id:
            self.audit_row(AuditAction.PERMISSION_DENIED, Outcome.DENIED, actor, ("disclosure", disclosure_id))
            raise PermissionDenied("A second person must approve this.")
        return disclosure

    def decide_disclosure(
        self, *, session: Any, actor: Actor, disclosure_id: int, approve: bool, note: str = ""
    ) -> Disclosure:
        disclosure = self._for_decision(actor, disclosure_id)
        if disclosure.status != DisclosureStatus.AWAITING_APPROVAL:
            raise InvalidInput({"disclosure": "Not waiting for approval."})
        if not approve and not note.strip():
            raise InvalidInput({"note": "Say why."})
        if approve:
            agreement = self.agreements[disclosure.agreement_id][0] if disclosure.agreement_id else None
            if agreement is None or not agreement_is_in_force(agreement, self.today):
                raise InvalidInput({"disclosure": "The agreement is no longer active."})
        disclosure.status = DisclosureStatus.ACTIVE if approve else DisclosureStatus.REJECTED
        disclosure.decided_by_user_id = actor.user_id
        disclosure.decided_at = self.now()
        return disclosure

    def review_emergency_disclosure(
        self, *, session: Any, actor: Actor, disclosure_id: int, upheld: bool, note: str
    ) -> Disclosure:
        disclosure = self._for_decision(actor, disclosure_id)
        if disclosure.status != DisclosureStatus.EMERGENCY:
            raise InvalidInput({"disclosure": "Not an emergency share."})
        if not note.strip():
            raise InvalidInput({"note": "Record the outcome."})
        disclosure.status = DisclosureStatus.ACTIVE if upheld else DisclosureStatus.REVOKED
        disclosure.reviewed_by_user_id = actor.user_id
        disclosure.reviewed_at = self.now()
        return disclosure

    def grants(self, org_id: int | None, item_id: int) -> list[Disclosure]:
        """The disclosures that let ``org_id`` see ``item_id`` today."""
        found = []
        for disclosure_id, item_ids in self.disclosure_items.items():
            disclosure = self.disclosure_rows[disclosure_id]
            if item_id not in item_ids or disclosure.recipient_organisation_id != org_id:
                continue
            consent = self.consent_rows.get(disclosure.consent_id) if disclosure.consent_id else None
            if disclosure_is_live(disclosure.status, consent, self.today):
                found.append(disclosure)
        return found

    def fields(self, item: InformationItem) -> list[tuple[str, str, DataCategory]]:
        if item.kind == ItemKind.PERSON_DETAILS:
            person = self.people[item.person_id]  # type: ignore[index]
            values = {**PERSON_VALUES, "name": person.display_name}
            return [(k, v, PERSON_CATEGORIES[k]) for k, v in values.items()]
        return [(f["key"], f["value"], DataCategory(f["category"])) for f in item.content]

    def log_read(
        self, actor: Actor, item: InformationItem, outcome: str, via: str, disclosure: int | None, withheld: list[str]
    ) -> None:
        self.log.append(
            AccessLog(
                id=self.next_id(),
                user_id=actor.user_id,
                organisation_id=actor.organisation_id,
                item_id=item.id,
                person_id=item.person_id,
                disclosure_id=disclosure,
                via=via,
                outcome=outcome,
                withheld_fields=withheld,
            )
        )

    def read_items(self, *, session: Any, actor: Actor, item_ids: list[int], via: str) -> list[ItemView]:
        self.require(actor, Permission.SHARING_ITEMS_READ, ("information_item", 0))
        views = []
        for item_id in item_ids:
            item = self.items[item_id]
            fields = self.fields(item)
            if item.owner_organisation_id == actor.organisation_id:
                shown = [FieldView(k, k, v, False) for k, v, _ in fields]
                access, ids = "owner", tuple[int, ...]()
                self.log_read(actor, item, access, via, None, [])
            else:
                grants = self.grants(actor.organisation_id, item_id)
                if not grants:
                    self.log_read(actor, item, "denied", via, None, [k for k, _, _ in fields])
                    self.audit_row(AuditAction.ITEM_READ_DENIED, Outcome.DENIED, actor, ("information_item", item_id))
                    continue
                covered = {c for d in grants for c in d.categories}
                consented = {c for d in grants if d.basis == LawfulBasis.CONSENT for c in d.categories}
                person = self.people.get(item.person_id) if item.person_id else None  # type: ignore[arg-type]
                confidential = person is not None and person.is_confidential_complainant
                shown = []
                for key, value, category in fields:
                    allowed = category in covered and not (
                        confidential and category in IDENTITY and category not in consented
                    )
                    shown.append(FieldView(key, key, value if allowed else WITHHELD, not allowed))
                withheld = [f.key for f in shown if f.withheld]
                access = "partial" if withheld else "disclosed"
                ids = tuple(sorted(d.id for d in grants if d.id is not None))
                self.log_read(actor, item, access, via, ids[0], withheld)
            views.append(
                ItemView(
                    id=item_id,
                    kind=item.kind,
                    title=item.title,
                    owner_organisation="",
                    category=item.category,
                    marking=item.marking,
                    person_id=item.person_id,
                    case_reference=None,
                    access=access,
                    disclosure_ids=ids,
                    fields=tuple(shown),
                )
            )
        return views

    def read_item(self, *, session: Any, actor: Actor, item_id: int, via: str) -> ItemView:
        item = self.items.get(item_id)
        if item is None:
            raise NotFound("That information no longer exists.")
        if item.owner_organisation_id != actor.organisation_id and not self.grants(actor.organisation_id, item_id):
            # What survives the rollback: one denied row and one audit row.
            self.log_read(actor, item, "denied", via, None, [])
            self.audit_row(AuditAction.ITEM_READ_DENIED, Outcome.DENIED, actor, ("information_item", item_id))
            raise PermissionDenied(NOT_SHARED)
        return self.read_items(session=session, actor=actor, item_ids=[item_id], via=via)[0]

    def visible_item_ids(self, *, session: Any, actor: Actor) -> list[int]:
        return sorted(
            (
                i
                for i, item in self.items.items()
                if item.owner_organisation_id == actor.organisation_id or self.grants(actor.organisation_id, i)
            ),
            reverse=True,
        )

    # -- records ----------------------------------------------------------------------------

    def last_ids(self) -> tuple[int, int, int]:
        return (
            max((r.id or 0 for r in self.log), default=0),
            max((e.id or 0 for e in self.events), default=0),
            max((n.id or 0 for n in self.notice_rows), default=0),
        )

    def access_log(self, since: int, user_id: int) -> list[AccessLog]:
        return [r for r in self.log if (r.id or 0) > since and r.user_id == user_id]

    def audit(self, since: int, user_id: int | None = None, subject: tuple[str, int] | None = None) -> list[AuditEvent]:
        return [
            e
            for e in self.events
            if (e.id or 0) > since
            and (user_id is None or e.actor_user_id == user_id)
            and (subject is None or (e.subject_type, e.subject_id) == (subject[0], str(subject[1])))
        ]

    def notices(self, since: int) -> list[OrganisationNotice]:
        return [n for n in self.notice_rows if (n.id or 0) > since]

    def last_disclosure_by(self, user_id: int) -> tuple[Disclosure, set[int]]:
        row = max(
            (d for d in self.disclosure_rows.values() if d.requested_by_user_id == user_id), key=lambda d: d.id or 0
        )
        return row, set(self.disclosure_items[row.id])  # type: ignore[index]

    def disclosures(self, org_ids: list[int]) -> list[Disclosure]:
        return [d for d in self.disclosure_rows.values() if d.discloser_organisation_id in org_ids]

    def covering(self, item_id: int, org_id: int) -> list[tuple[Disclosure, ConsentRecord | None]]:
        return [
            (d, self.consent_rows.get(d.consent_id) if d.consent_id else None)
            for i, d in self.disclosure_rows.items()
            if item_id in self.disclosure_items[i] and d.recipient_organisation_id == org_id
        ]

    def consents(self, ids: list[int]) -> dict[int, ConsentRecord]:
        return {i: self.consent_rows[i] for i in ids}

    def iso_users(self, user_ids: list[int]) -> set[int]:
        return {u for u in user_ids if Role.INFORMATION_SHARING_OFFICER in self.roles.get(u, frozenset())}


# =============================================================================================
# Running a history, step by step against the model
# =============================================================================================


def build_world(system: System, spec: WorldSpec) -> World:
    agencies, people, items = system.build(spec)
    world = World(system, agencies, people=people, items=items)
    for agreement in spec.agreements:
        new_agreement(world, agreement)
    for consent in spec.consents:
        give_consent(world, consent)
    return world


def expect(world: World, outcome: type[DomainError] | None, action: Callable[[Any], Any]) -> Any:
    """Run ``action`` as one unit of work; it must succeed (``outcome`` None) or raise exactly
    ``outcome``, whose error is returned."""
    try:
        with world.system.transaction() as session:
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
    data = AgreementInput(
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
    )

    def act(session: Any) -> SharingAgreement:
        agreement = world.system.create_agreement(session=session, actor=iso, data=data)
        assert agreement.id is not None
        if spec.activate:
            world.system.set_agreement_status(
                session=session, actor=iso, agreement_id=agreement.id, status=AgreementStatus.ACTIVE
            )
        return agreement

    if ends < starts:
        error = expect(world, InvalidInput, act)
        assert "ends_on" in error.field_errors
        event("agreement: form error")
        return
    agreement = expect(world, None, act)
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
        world,
        None,
        lambda s: world.system.set_agreement_status(session=s, actor=iso, agreement_id=model.id, status=op.status),
    )
    model.status = op.status
    event(f"agreement: {op.status}")


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
        world,
        InvalidInput if invalid else None,
        lambda s: world.system.record_consent(session=s, actor=officer, data=data),
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
    *_, since = world.system.last_ids()

    def act(session: Any) -> list[int]:
        return world.system.withdraw_consent(
            session=session, actor=actor, consent_id=consent.id, withdrawn_on=on, how="Phoned"
        )

    if op.role == "member":
        expect(world, PermissionDenied, act)
        event("withdrawal: not allowed")
        return
    if consent.withdrawn_on is not None or on > world.today:
        expect(world, InvalidInput, act)
        event("withdrawal: form error")
        return
    flagged = expect(world, None, act)
    consent.withdrawn_on = on
    resting = [d for d in world.disclosures if d.consent == consent_index and d.status in LIVE_STATUSES]
    for d in resting:
        d.status = DisclosureStatus.CONSENT_WITHDRAWN_REVIEW
    # (c) What rested on the consent is flagged, and each recipient is told about its disclosure.
    assert sorted(flagged) == sorted(d.id for d in resting)
    told = world.system.notices(since)
    assert sorted((n.organisation_id, n.disclosure_id) for n in told) == sorted(
        (world.agencies[d.recipient].org.id, d.id) for d in resting
    )
    event(f"withdrawal: flagged {min(len(resting), 2)}{'+' if len(resting) >= 2 else ''} disclosures")


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

    def act(session: Any) -> Disclosure:
        return world.system.request_disclosure(session=session, actor=actor, request=req)

    held = {c for i in chosen for c in world.items[i].categories}
    categories = (set(op.categories) & held) if op.categories else held
    if op.role == "member":
        expect(world, PermissionDenied, act)
        event("request: not allowed to ask")
        return
    if op.foreign:
        error = expect(world, PermissionDenied, act)
        record_refusal(world, op, recipient, actor, chosen, error.message, held)
        event("request: someone else's item")
        return
    if recipient == op.org or not categories:
        expect(world, InvalidInput, act)
        event("request: form error")
        return
    if (op.basis.is_gateway and not op.justified) or (op.emergency and not op.basis.is_gateway):
        error = expect(world, InvalidInput, act)
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
        error = expect(world, DisclosureRefused, act)
        record_refusal(world, op, recipient, actor, chosen, error.message, categories)
        event(f"request: refused ({'consent' if covered else 'agreement'})")
        return
    disclosure = expect(world, None, act)
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
            disclosure.agreement_id,
        )
    )
    event(f"request: {status}")
    if op.then is not None and status != DisclosureStatus.ACTIVE:
        decide_on(world, world.disclosures[-1], replace(op.then, review=status == DisclosureStatus.EMERGENCY))
    if op.read_after:
        read(world, Read(recipient, "member", tuple(chosen), single=False))
    if op.withdraw_after and consent_index is not None:
        withdraw(world, WithdrawConsent(consent_index, "officer", 0))
        if op.read_after:
            read(world, Read(recipient, "member", tuple(chosen), single=False))
    if op.wait_after:
        pass_days(world, PassDays(op.wait_after))
        if op.read_after:
            read(world, Read(recipient, "member", tuple(chosen), single=op.wait_after == 1))


def record_refusal(
    world: World, op: RequestShare, recipient: int, actor: Actor, chosen: list[int], message: str, categories: set[str]
) -> None:
    """(e) The refusal is on record: a refused disclosure with its reason, and an audit row."""
    assert actor.user_id is not None
    row, items = world.system.last_disclosure_by(actor.user_id)
    assert row.id not in {d.id for d in world.disclosures}
    assert row.status == DisclosureStatus.REFUSED
    assert row.refusal_reason == message and message.strip()
    assert row.recipient_organisation_id == world.agencies[recipient].org.id
    assert items == {world.items[i].id for i in chosen}
    assert row.id is not None
    audit = world.system.audit(0, subject=("disclosure", row.id))
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
    if op.by_requester:
        op = replace(op, org=target.requester[0], role=target.requester[1])
    actor = world.actor(op.org, op.role)
    note = "Necessary and proportionate." if op.note else ""
    since = world.system.last_ids()[1]

    def act(session: Any) -> Disclosure:
        if op.review:
            return world.system.review_emergency_disclosure(
                session=session, actor=actor, disclosure_id=target.id, upheld=op.approve, note=note
            )
        return world.system.decide_disclosure(
            session=session, actor=actor, disclosure_id=target.id, approve=op.approve, note=note
        )

    if op.role != "iso" or target.requester == (op.org, op.role):
        expect(world, PermissionDenied, act)
        # A refused decision is audited too.
        denied = world.system.audit(since, user_id=actor.user_id)
        assert [(e.action, e.subject_id) for e in denied] == [(AuditAction.PERMISSION_DENIED, str(target.id))]
        event("decision: not allowed" + (" (own request)" if op.role == "iso" else ""))
        return
    rests_on = next((a for a in world.agreements if a.id == target.agreement), None)
    lapsed = (
        not op.review
        and op.approve
        and (rests_on is None or rests_on.status != AgreementStatus.ACTIVE
             or not rests_on.starts_on <= world.today <= rests_on.ends_on)
    )  # fmt: skip
    if target.status != wanted or (not op.note and (op.review or not op.approve)) or lapsed:
        expect(world, InvalidInput, act)
        event("decision: form error")
        return
    expect(world, None, act)
    if op.review:
        target.status = DisclosureStatus.ACTIVE if op.approve else DisclosureStatus.REVOKED
    else:
        target.status = DisclosureStatus.ACTIVE if op.approve else DisclosureStatus.REJECTED
    event(f"decision: {'review' if op.review else 'approval'} -> {target.status}")


def pass_days(world: World, op: PassDays) -> None:
    world.system.pass_days(op.days)
    event("time: days passed")


def read(world: World, op: Read) -> None:
    """(a) and (b): the reader sees exactly what the model says, and every read is logged."""
    actor = world.actor(op.org, op.role)
    assert actor.user_id is not None
    indexes = list(dict.fromkeys(i % len(world.items) for i in op.items))
    if op.single:
        indexes = indexes[:1]
    items = [world.items[i] for i in indexes]
    expected = {world.items[i].id: world.expected_view(op.org, i) for i in indexes}
    since_log, since_audit, _ = world.system.last_ids()
    if op.single:
        item, want = items[0], expected[items[0].id]
        result = expect(
            world,
            PermissionDenied if want is None else None,
            lambda s: world.system.read_item(session=s, actor=actor, item_id=item.id, via="property"),
        )
        if want is None:
            assert result.message == NOT_SHARED
        views = [] if want is None else [result]
    else:
        views = expect(
            world,
            None,
            lambda s: world.system.read_items(session=s, actor=actor, item_ids=[i.id for i in items], via="property"),
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
    # (b) One access-log row per item asked for, saying what happened; each refusal audited.
    logged = world.system.access_log(since_log, actor.user_id)
    denials = [
        e for e in world.system.audit(since_audit, user_id=actor.user_id) if e.action == AuditAction.ITEM_READ_DENIED
    ]
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
    listed = expect(world, None, lambda s: world.system.visible_item_ids(session=s, actor=actor))
    mine = {item.id for index, item in enumerate(world.items) if world.expected_view(op.org, index) is not None}
    assert set(listed) == mine
    event(f"read: {'/'.join(sorted({'denied' if v is None else v[0] for v in expected.values()}))}")
    lapsed = [
        d
        for d in world.disclosures
        if d.recipient == op.org
        and d.items & set(indexes)
        and d.status in LIVE_STATUSES
        and d.consent is not None
        and not world.consents[d.consent].valid(world.today)
    ]
    if lapsed:
        event("read: after the consent behind a share ran out")


def check_reads_are_covered(world: World, actor: Actor, views: list[ItemView]) -> None:
    """(a) and (c), from the records alone: every field shown outside the owner is covered by
    a live disclosure to the reader's organisation, resting on no withdrawn consent."""
    assert actor.organisation_id is not None
    for view in views:
        if view.access == "owner":
            continue
        live = [
            d
            for d, consent in world.system.covering(view.id, actor.organisation_id)
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
    """(c), (d) and (e) over every disclosure of this world, from the records."""
    rows = world.system.disclosures(world.org_ids)
    consents = world.system.consents([c.id for c in world.consents])
    iso_users = world.system.iso_users(world.user_ids)
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


RUN: dict[type, Callable[[World, Any], None]] = {
    NewAgreement: lambda w, op: new_agreement(w, op.spec),
    SetAgreementStatus: set_status,
    GiveConsent: give_consent,
    WithdrawConsent: withdraw,
    RequestShare: request,
    Decide: decide,
    Read: read,
    PassDays: pass_days,
}


def run_history(system: System, spec: WorldSpec, history: list[Any]) -> None:
    world = build_world(system, spec)
    for op in history:
        RUN[type(op)](world, op)
        check_disclosures(world)
    # A last read of everything by one organisation.
    read(world, Read(spec.final_reader, "member", tuple(range(len(world.items))), single=False))


@contextlib.contextmanager
def reporting(name: str, settings_: settings) -> Iterator[Callable[[], None]]:
    """Count the examples, insist on the configured number, and print the time and the tally."""
    counter = itertools.count(1)
    examples = 0

    def count() -> None:
        nonlocal examples
        examples = next(counter)

    TALLY.clear()
    started = time.perf_counter()
    yield count
    elapsed = time.perf_counter() - started
    assert settings_.max_examples is not None and examples >= settings_.max_examples, examples
    print(f"\n{name}: {examples} histories in {elapsed:.1f}s")
    for what, n in sorted(TALLY.items()):
        print(f"{n:7d}  {what}")


histories = st.lists(operations, min_size=10, max_size=30)


def test_random_sharing_histories_keep_every_promise() -> None:
    """The main history test: 500 long histories against the in-memory ledger, where days pass."""
    with reporting("in memory", HISTORY_SETTINGS) as count:

        @HISTORY_SETTINGS
        @given(spec=world_specs, history=histories, start=st.dates(date(2026, 1, 1), date(2027, 12, 31)))
        def run(spec: WorldSpec, history: list[Any], start: date) -> None:
            count()
            run_history(Ledger(start), spec, history)

        run()


def test_random_sharing_histories_keep_every_promise_in_the_database(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same histories against the real services and the test database."""
    clock = ServiceClock(monkeypatch)
    with reporting("database", DATABASE_HISTORY_SETTINGS) as count:

        @DATABASE_HISTORY_SETTINGS
        @given(spec=world_specs, history=st.lists(operations, min_size=8, max_size=20))
        def run(spec: WorldSpec, history: list[Any]) -> None:
            count()
            run_history(Database(engine, clock), spec, history)

        run()


# =============================================================================================
# The pure rules (no database)
# =============================================================================================

DAY = date(2026, 6, 15)


def offsets(low: int = -5, high: int = 5) -> st.SearchStrategy[date]:
    return st.integers(low, high).map(lambda n: DAY + timedelta(days=n))


def plain_agreement(
    status: str,
    purposes: frozenset[str],
    categories: frozenset[str],
    restrictions: dict[str, list[int]],
    starts: date,
    ends: date,
) -> SharingAgreement:
    return SharingAgreement(
        title="t",
        reference="r",
        status=status,
        purposes=sorted(purposes),
        categories=sorted(categories),
        category_restrictions=restrictions,
        lawful_bases=[],
        starts_on=starts,
        ends_on=ends,
        review_on=ends,
    )


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
    status: str,
    parties: frozenset[int],
    purposes: frozenset[str],
    categories: frozenset[str],
    restrictions: dict[str, list[int]],
    starts: date,
    ends: date,
    discloser: int,
    recipient: int,
    purpose: str,
    asked: frozenset[str],
) -> None:
    agreement = plain_agreement(status, purposes, categories, restrictions, starts, ends)
    gap = agreement_gap(
        agreement,
        party_ids=parties,
        discloser_id=discloser,
        recipient_id=recipient,
        purpose=Purpose(purpose),
        categories=[DataCategory(c) for c in asked],
        today=DAY,
    )
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
    given_on: date,
    expires_on: date | None,
    withdrawn_on: date | None,
    organisations: frozenset[int],
    types: frozenset[str],
    purposes: frozenset[str],
    categories: frozenset[str],
    recipient: int,
    recipient_type: str,
    purpose: str,
    asked: frozenset[str],
    on: date,
    status: str,
) -> None:
    consent = ConsentRecord(
        person_id=1,
        method="verbal",
        scope_organisation_ids=sorted(organisations),
        scope_organisation_types=sorted(types),
        scope_purposes=sorted(purposes),
        scope_categories=sorted(categories),
        given_on=given_on,
        expires_on=expires_on,
        withdrawn_on=withdrawn_on,
    )
    model = MConsent(0, 0, organisations, types, purposes, categories, given_on, expires_on, withdrawn_on)
    assert consent_is_valid(consent, on) == model.valid(on)
    # (c) From the day of withdrawal on, consent authorises nothing.
    if withdrawn_on is not None and on >= withdrawn_on:
        assert not consent_is_valid(consent, on)
        assert not disclosure_is_live(status, consent, on)
    gap = consent_gap(
        consent,
        recipient=OrgRef(recipient, "Recipient", recipient_type),
        purpose=Purpose(purpose),
        categories=[DataCategory(c) for c in asked],
        today=on,
    )
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
    london = ZoneInfo("Europe/London")
    due = add_working_days(start, days, zone=london)
    assert due > start and due.tzinfo == start.tzinfo
    # Counted on the local calendar: the local due day is a working day, `days` of them on.
    here, there = start.astimezone(london), due.astimezone(london)
    assert there.weekday() < 5 and there.date() not in bank
    between = [here.date() + timedelta(days=n) for n in range(1, (there.date() - here.date()).days + 1)]
    assert sum(1 for d in between if d.weekday() < 5 and d not in bank) == days
    # At the same local time of day, but for the hour the clocks skip in spring.
    kept = datetime.combine(there.date(), here.time())
    assert abs((there.replace(tzinfo=None) - kept).total_seconds()) <= 3600
    # Never more than a fortnight of weekends and holidays in the way.
    assert (due - start).days <= days + 14
