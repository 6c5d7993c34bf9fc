"""How fast is the case list, for the lead organisation and for a partner, against the best a
hand-written query can do?

Builds a synthetic partnership in a fresh benchmark database (a SQLite file in a temporary
folder unless ``--database-url`` names another): eight organisations (the police, a council
ASB team, council housing, two housing associations and three care and health agencies),
their users, ``--cases`` cases (``asb_case`` rows spread over five years, most of the old ones
closed) each with its summary item (the fields ``refresh_case_summary`` writes), one to three
parties (people with their person-details items) and zero to four incidents with their items;
disclosures of about a quarter of the summaries to the police (live and not: awaiting
approval, refused, revoked, past ``retain_until``, consent-based with valid and withdrawn
consent) and of others' summaries, incidents and people to the other agencies.

Then, as a lead officer of the council's ASB team and as a police panel member, it times
five lists each (the first page of open cases, newest first; high risk; one stage; one type
of behaviour; first contact overdue), two ways:

* *portal*: ``panels.case_list.list_cases`` in one session, which counts the matches, picks
  the page and reads every row through ``sharing.reads.read_items`` (writing the access-log
  rows; flushed, then rolled back so the database does not grow);
* *lower bound*: hand-written SQL returning the same page: the count, then the page's cases
  with their summary item's content, the lead organisation's name and (for a partner) the
  live disclosures that cover each summary.  *+log* adds the one multi-row ``INSERT`` of the
  access-log rows the portal must also write.

Every run checks that both give the same total and the same cases in the same order.

    .venv/bin/python bench/case_list.py                       # 10,000 then 100,000 cases on SQLite
    .venv/bin/python bench/case_list.py --cases 10000         # one size
    .venv/bin/python bench/case_list.py --reset \\
        --database-url postgresql+psycopg://postgres@127.0.0.1:5432/portal_bench_cases

SQLite's planner statistics are refreshed after loading (``ANALYZE``, as after migrating);
``--no-analyze`` times it without them.  PostgreSQL is vacuumed and analysed after loading,
as autovacuum would have done.  ``--explain`` prints the query plans of the portal's queries.

A PostgreSQL database is created (from the server's ``postgres`` database) when missing.
One that already holds tables is used only with ``--reset``, which empties its ``public``
schema first (and again before each further size).  Never point this at a database whose
contents matter, nor at the test suite's ``test`` database.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

_TMP = Path(tempfile.mkdtemp(prefix="portal-bench-cases-"))
# The portal's settings are read on import; keep them away from any real data folder.
os.environ.setdefault("PORTAL_DATA_DIR", str(_TMP / "data"))
os.environ.setdefault("PORTAL_SECRET_KEY", "benchmark-only-" + "x" * 40)

from _loading import BATCH, Loader, ms, prepare_database  # noqa: E402
from sqlalchemy import Date, bindparam, insert, text  # noqa: E402
from sqlalchemy.engine import Engine, make_url  # noqa: E402
from sqlmodel import Session  # noqa: E402

from panels.case_list import CaseFilters, CasePage, list_cases  # noqa: E402
from panels.vocabulary import CaseCategory, CaseStage, CaseStatus, CaseType, PartyRole, Tenure  # noqa: E402
from sharing.db import make_engine, utcnow  # noqa: E402
from sharing.migrations import upgrade_to_head  # noqa: E402
from sharing.models import AccessLog, OrganisationType, Role  # noqa: E402
from sharing.permissions import Actor  # noqa: E402
from sharing.types import UTCDateTime  # noqa: E402
from sharing.vocabulary import LIVE_STATUSES, DataCategory, DisclosureStatus, ItemKind, LawfulBasis, Purpose  # noqa: E402

VIA = "case list"
TARGET_RATIO = 2.0
YEARS = 5

# (name, slug, type, weight as a case's lead).  The police first, the council's ASB team second.
ORGANISATIONS: tuple[tuple[str, str, OrganisationType, float], ...] = (
    ("Eastshire Police", "eastshire-police", OrganisationType.POLICE, 0),
    ("Eastshire Council ASB Team", "eastshire-asb", OrganisationType.COUNCIL_ASB_TEAM, 35),
    ("Eastshire Council Housing", "eastshire-housing", OrganisationType.COUNCIL_HOUSING, 30),
    ("Riverside Homes", "riverside-homes", OrganisationType.HOUSING_ASSOCIATION, 20),
    ("Hillcrest Housing Association", "hillcrest-ha", OrganisationType.HOUSING_ASSOCIATION, 15),
    ("Eastshire Adult Social Care", "eastshire-asc", OrganisationType.ADULT_SOCIAL_CARE, 0),
    ("Eastshire Children's Services", "eastshire-csc", OrganisationType.CHILDRENS_SOCIAL_CARE, 0),
    ("Eastshire NHS Trust", "eastshire-nhs", OrganisationType.HEALTH, 0),
)
POLICE, ASB_TEAM = 1, 2
LEADS = [i for i, o in enumerate(ORGANISATIONS, start=1) if o[3] > 0]
USERS_PER_ORGANISATION = 8

GIVEN = ("Aisha", "Ben", "Chloé", "Dariusz", "Eilidh", "Femi", "Grace", "Hamza", "Ioana", "Jack", "Kerry", "Liam")
FAMILY = ("Carter", "Nowak", "O'Neill", "Patel", "Quinn", "Rahman", "Smith", "Taylor", "Użyńska", "Vance", "Walsh")
STREETS = ("Mill Lane", "Station Road", "Church Street", "Victoria Court", "Hawthorn Way", "Riverside Walk")
AREAS = ("North", "Central", "South", "Riverside", "Hillcrest", "Old Town", "Marsh End", "Elm Park")
OPEN_STAGES = (
    (CaseStage.ENQUIRY, 30), (CaseStage.INVESTIGATION, 30), (CaseStage.REVIEW, 15),
    (CaseStage.INTERVENTIONS, 15), (CaseStage.LEGAL_REMEDIES, 10),
)  # fmt: skip
# (rank, key, label, weight) per scheme: the council's and the housing associations' schemes.
CAMBRIDGE = ((0, "", "Not assessed", 4), (1, "standard", "Standard", 54), (2, "medium", "Medium", 28),
             (3, "high", "High", 14))  # fmt: skip
WELWYN = ((0, "", "Not assessed", 4), (1, "p4", "Priority 4", 25), (2, "p3", "Priority 3", 35),
          (3, "p2", "Priority 2", 24), (4, "p1", "Priority 1", 12))  # fmt: skip
CASE_TYPES = [t for t in CaseType if t != CaseType.DOMESTIC_ABUSE]
PERSONAL_TYPES = {CaseType.HARASSMENT, CaseType.HATE_INCIDENT, CaseType.VIOLENCE_OR_THREATS, CaseType.SEXUAL_HARASSMENT}
TYPE_WEIGHTS = {CaseType.NOISE: 30, CaseType.HARASSMENT: 14, CaseType.VIOLENCE_OR_THREATS: 8, CaseType.DRUGS: 10,
                CaseType.HATE_INCIDENT: 4, CaseType.CRIMINAL_DAMAGE: 8, CaseType.VEHICLE_NUISANCE: 7,
                CaseType.FLY_TIPPING: 8, CaseType.ANIMALS: 6, CaseType.EXPLOITATION: 2,
                CaseType.SEXUAL_HARASSMENT: 2}  # fmt: skip

# The summary disclosures to the police: (status, weight).  About 70% end up live.
POLICE_STATUSES: tuple[tuple[DisclosureStatus, float], ...] = (
    (DisclosureStatus.ACTIVE, 72), (DisclosureStatus.EMERGENCY, 3), (DisclosureStatus.AWAITING_APPROVAL, 8),
    (DisclosureStatus.REFUSED, 5), (DisclosureStatus.REJECTED, 3), (DisclosureStatus.REVOKED, 6),
    (DisclosureStatus.CONSENT_WITHDRAWN_REVIEW, 3),
)  # fmt: skip
GATEWAYS = [basis for basis in LawfulBasis if basis.is_gateway]


# --- Building the partnership ---------------------------------------------------------------


@dataclass
class Partnership:
    """What the generator keeps in memory to link rows and check figures."""

    cases: int
    now: datetime
    rng: random.Random
    users: dict[int, list[int]] = field(default_factory=dict)  # organisation id -> user ids
    lead: list[int] = field(default_factory=lambda: [0])  # case n -> lead organisation
    summary: list[int] = field(default_factory=lambda: [0])  # case n -> summary item id
    case_people: list[list[int]] = field(default_factory=lambda: [[]])  # case n -> person ids
    person_item: dict[int, int] = field(default_factory=dict)  # person id -> details item id
    incident_items: list[list[int]] = field(default_factory=lambda: [[]])  # case n -> incident item ids
    consent: dict[int, tuple[int, bool]] = field(default_factory=dict)  # person id -> (consent id, valid)
    counts: dict[str, int] = field(default_factory=dict)
    next_item: int = 0

    @property
    def today(self) -> date:
        return self.now.date()

    def item_id(self) -> int:
        self.next_item += 1
        return self.next_item


def organisation_rows(p: Partnership) -> Iterator[tuple[Any, ...]]:
    for i, (name, slug, kind, _) in enumerate(ORGANISATIONS, start=1):
        yield (i, name, slug, str(kind), True, False, False, p.now - timedelta(days=2000))


def user_rows(p: Partnership) -> Iterator[tuple[Any, ...]]:
    user_id = 0
    for org in range(1, len(ORGANISATIONS) + 1):
        slug = ORGANISATIONS[org - 1][1]
        for n in range(USERS_PER_ORGANISATION):
            user_id += 1
            p.users.setdefault(org, []).append(user_id)
            name = f"{GIVEN[user_id % len(GIVEN)]} {FAMILY[user_id % len(FAMILY)]}"
            yield (user_id, org, f"user{n}@{slug}.example", name, False, True, False, 0, p.now - timedelta(days=1900))


def user_role_rows(p: Partnership) -> Iterator[tuple[Any, ...]]:
    for org, users in p.users.items():
        for n, user_id in enumerate(users):
            if n == 0:
                role = Role.INFORMATION_SHARING_OFFICER
            elif n == 1:
                role = Role.MANAGER
            elif org in LEADS and n < 6:
                role = Role.LEAD_OFFICER
            else:
                role = Role.PANEL_MEMBER
            yield (user_id, str(role))


def _opened(p: Partnership, n: int) -> datetime:
    """Case ``n`` of ``p.cases``, spread evenly over the years, the newest last."""
    span = timedelta(days=YEARS * 365)
    return p.now - span + span * n / (p.cases + 1)


def _summary_content(values: dict[str, str]) -> list[dict[str, str]]:
    labels = {"reference": "Reference", "status": "Status", "stage": "Stage", "category": "Category",
              "types": "Types", "risk": "Risk", "first_contact_due": "First contact due", "location": "Location",
              "area": "Area", "lead_organisation": "Lead organisation", "lead_officer": "Lead officer"}  # fmt: skip
    asb = str(DataCategory.ASB_HISTORY)
    return [{"key": k, "label": labels[k], "value": values[k], "category": asb} for k in labels]


def case_batches(p: Partnership) -> Iterator[dict[str, list[tuple[Any, ...]]]]:
    """Per case: its people (with their details items), its summary item, the case, its
    parties, and its incidents (with their items), in batches of tables."""
    rng, now = p.rng, p.now
    lead_weights = [ORGANISATIONS[o - 1][3] for o in LEADS]
    person_id = 0
    party_id = 0
    incident_id = 0
    tables: dict[str, list[tuple[Any, ...]]] = {}

    def add(table: str, row: tuple[Any, ...]) -> None:
        tables.setdefault(table, []).append(row)

    for n in range(1, p.cases + 1):
        lead = rng.choices(LEADS, weights=lead_weights)[0]
        officers = p.users[lead][2:6]
        officer = rng.choice(officers)
        opened = _opened(p, n) + timedelta(minutes=rng.randrange(0, 600))
        age = (now - opened).days
        # Recent cases are mostly open; old ones mostly closed.
        open_chance = 0.85 if age < 180 else 0.45 if age < 365 else 0.08
        roll = rng.random()
        if roll < open_chance:
            status = CaseStatus.OPEN
        elif roll < open_chance + 0.02:
            status = CaseStatus.CLOSURE_REQUESTED
        else:
            status = CaseStatus.CLOSED
        if status == CaseStatus.CLOSED:
            stage = CaseStage.CLOSURE
            closed_at: datetime | None = min(now - timedelta(days=1), opened + timedelta(days=rng.randrange(20, 400)))
        else:
            stage = rng.choices([s for s, _ in OPEN_STAGES], weights=[w for _, w in OPEN_STAGES])[0]
            closed_at = None
        scheme = WELWYN if ORGANISATIONS[lead - 1][2] == OrganisationType.HOUSING_ASSOCIATION else CAMBRIDGE
        rank, level, label, _ = rng.choices(scheme, weights=[s[3] for s in scheme])[0]
        types = sorted(
            set(rng.choices(CASE_TYPES, weights=[TYPE_WEIGHTS[t] for t in CASE_TYPES], k=rng.choice((1, 1, 2))))
        )
        category = (
            CaseCategory.PERSONAL if set(types) & PERSONAL_TYPES
            else CaseCategory.ENVIRONMENTAL if set(types) & {CaseType.FLY_TIPPING, CaseType.CRIMINAL_DAMAGE}
            else CaseCategory.NUISANCE
        )  # fmt: skip
        due: datetime | None = None
        made: datetime | None = None
        if rank:
            due = opened + timedelta(days=(1, 3, 5, 7, 10)[min(4, len(scheme) - rank - 1)])
            # Nearly all first contacts are made, most on time; a few recent ones are not yet.
            if not (status != CaseStatus.CLOSED and age < 60 and rng.random() < 0.25):
                made = opened + (due - opened) * rng.uniform(0.1, 1.4)
        street = STREETS[n % len(STREETS)]
        location = f"{n % 200 + 1} {street}, Eastbridge"
        area = AREAS[n % len(AREAS)]
        reference = f"ASB-{opened.year}-{n:06d}"

        people: list[int] = []
        for k in range(rng.choice((1, 1, 2, 2, 3))):
            person_id += 1
            people.append(person_id)
            given, family = GIVEN[(n + k) % len(GIVEN)], FAMILY[(n * 7 + k) % len(FAMILY)]
            add("person", (
                person_id, lead, given, family, date(1940, 1, 1) + timedelta(days=rng.randrange(25_000)),
                location, f"EB{n % 9 + 1} {n % 10}AB", f"07700 9{person_id % 100_000:05d}", "", False, False,
                False, officer, opened,
            ))  # fmt: skip
            details = p.item_id()
            p.person_item[person_id] = details
            add("information_item", (
                details, str(ItemKind.PERSON_DETAILS), lead, person_id, None, f"Personal details of {given} {family}",
                str(DataCategory.IDENTITY), "OFFICIAL-SENSITIVE", [], closed_at.date() if closed_at else None,
                officer, opened,
            ))  # fmt: skip
        p.case_people.append(people)

        summary = p.item_id()
        officer_name = f"{GIVEN[officer % len(GIVEN)]} {FAMILY[officer % len(FAMILY)]}"
        content = _summary_content({
            "reference": reference, "status": CaseStatus(status).label, "stage": CaseStage(stage).label,
            "category": CaseCategory(category).label, "types": ", ".join(CaseType(t).label for t in types),
            "risk": label + (f" (score {rank * 9})" if rank else ""),
            "first_contact_due": due.isoformat() if due else "",
            "location": location, "area": area, "lead_organisation": ORGANISATIONS[lead - 1][0],
            "lead_officer": officer_name,
        })  # fmt: skip
        add("information_item", (
            summary, str(ItemKind.CASE_SUMMARY), lead, None, reference, f"Case {reference}",
            str(DataCategory.ASB_HISTORY), "OFFICIAL-SENSITIVE", content, closed_at.date() if closed_at else None,
            officer, opened,
        ))  # fmt: skip
        p.lead.append(lead)
        p.summary.append(summary)

        incidents: list[int] = []
        last_incident: datetime | None = None
        for _ in range(rng.choice((0, 1, 1, 2, 2, 3, 4))):
            incident_id += 1
            occurred = opened + timedelta(hours=rng.randrange(0, 24 * max(1, min(age, 200))))
            occurred = min(occurred, now - timedelta(hours=1))
            last_incident = max(last_incident or occurred, occurred)
            item = p.item_id()
            incidents.append(item)
            police = rng.random() < 0.3
            category_name = str(DataCategory.ALLEGATIONS_OF_CRIME if police else DataCategory.ASB_HISTORY)
            fields = [{"key": "what_happened", "label": "What happened", "value": "Music and shouting until 3am; "
                       "door kicked on the way out.", "category": category_name},
                      {"key": "reported_by", "label": "Reported by", "value": f"{GIVEN[n % len(GIVEN)]} Resident",
                       "category": str(DataCategory.IDENTITY)}]  # fmt: skip
            add("information_item", (
                item, str(ItemKind.INCIDENT), lead, people[0], reference, f"Incident ({reference})", category_name,
                "OFFICIAL-SENSITIVE", fields, closed_at.date() if closed_at else None, officer, occurred,
            ))  # fmt: skip
            add("incident", (
                incident_id, n, occurred, occurred + timedelta(hours=rng.randrange(1, 72)),
                "Music and shouting until 3am.", people[0], "", people[-1] if len(people) > 1 else None,
                CaseType.HATE_INCIDENT in types and rng.random() < 0.5, police, "", "", item, officer, lead,
            ))  # fmt: skip
        p.incident_items.append(incidents)

        add("asb_case", (
            n, reference, summary, lead, officer, str(category), [str(t) for t in types], location, area,
            str(status), str(stage), opened + timedelta(days=min(age, 20)),
            "welwyn" if scheme is WELWYN else "cambridge",
            level, label, rank, rank * 9 if rank else None, due, made, last_incident, None,
            False, rng.random() < 0.01 and status != CaseStatus.CLOSED, [], "", "", None, closed_at,
            p.users[lead][1] if closed_at else None, opened, p.users[lead][2], closed_at or opened,
        ))  # fmt: skip
        roles = [PartyRole.VICTIM, PartyRole.ALLEGED_PERPETRATOR, PartyRole.WITNESS]
        for k, person in enumerate(people):
            party_id += 1
            add("case_party", (
                party_id, n, person, str(roles[k % 3]), str(rng.choice(list(Tenure))), "", "", [], officer, opened,
            ))  # fmt: skip
        if n % 2000 == 0:
            yield tables
            tables = {}
    if tables:
        yield tables
    p.counts.update(person=person_id, case_party=party_id, incident=incident_id)


def consent_rows(p: Partnership) -> Iterator[tuple[Any, ...]]:
    """A quarter of the victims consented to the police knowing: mostly still valid."""
    rng, today = p.rng, p.today
    consent_id = 0
    for n in range(1, p.cases + 1):
        if rng.random() >= 0.25:
            continue
        person = p.case_people[n][0]
        consent_id += 1
        given_on = today - timedelta(days=rng.randrange(10, 900))
        withdrawn_on = today - timedelta(days=rng.randrange(0, 100)) if rng.random() < 0.12 else None
        p.consent[person] = (consent_id, withdrawn_on is None)
        yield (
            consent_id, person, False, "", "", "verbal", [], [str(OrganisationType.POLICE)],
            [str(Purpose.ASB_CASE_MANAGEMENT)], [str(DataCategory.IDENTITY), str(DataCategory.CONTACT),
                                                 str(DataCategory.ASB_HISTORY)],
            given_on, None, withdrawn_on, "told the officer" if withdrawn_on else "", p.users[p.lead[n]][2],
            datetime.combine(given_on, datetime.min.time(), UTC) + timedelta(hours=10),
        )  # fmt: skip
    p.counts["consent_record"] = consent_id


def disclosure_batches(p: Partnership) -> Iterator[tuple[list[tuple[Any, ...]], list[tuple[int, int]]]]:
    """About a quarter of the summaries to the police (70% live), with incidents and consented
    people's details; a tenth of summaries and some incidents to the other agencies (including
    other lead organisations)."""
    rng, today, now = p.rng, p.today, p.now
    disclosures: list[tuple[Any, ...]] = []
    links: list[tuple[int, int]] = []
    statuses = [s for s, _ in POLICE_STATUSES]
    weights = [w for _, w in POLICE_STATUSES]
    disclosure_id = 0
    link_count = 0

    def disclose(n: int, recipient: int, items: list[int], basis: str, consent_id: int | None,
                 categories: list[str], status: str) -> None:  # fmt: skip
        nonlocal disclosure_id
        disclosure_id += 1
        discloser = p.lead[n]
        requested = _opened(p, n) + timedelta(days=rng.randrange(1, 30))
        requested = min(requested, now - timedelta(hours=2))
        decided = status != DisclosureStatus.AWAITING_APPROVAL
        roll = rng.random()
        retain_until = today - timedelta(days=rng.randrange(1, 300)) if roll < 0.06 else (
            None if roll < 0.1 else today + timedelta(days=rng.randrange(30, 2000)))  # fmt: skip
        disclosures.append((
            disclosure_id, status, discloser, recipient, str(Purpose.ASB_CASE_MANAGEMENT), basis, categories,
            f"{len(items)} item(s) of case {n}", "Needed to plan joint patrols and visits; consent would prejudice it.",
            consent_id, status == DisclosureStatus.EMERGENCY, retain_until, p.users[discloser][2], requested,
            p.users[discloser][0] if decided else None, requested + timedelta(hours=4) if decided else None,
            "Not necessary." if status in (DisclosureStatus.REFUSED, DisclosureStatus.REJECTED) else "",
            requested + timedelta(days=1) if status == DisclosureStatus.EMERGENCY else None, "",
        ))  # fmt: skip
        links.extend((disclosure_id, item) for item in items)

    asb = [str(DataCategory.ASB_HISTORY)]
    for n in range(1, p.cases + 1):
        if rng.random() < 0.25:
            status = str(rng.choices(statuses, weights=weights)[0])
            items = [p.summary[n], *p.incident_items[n][: rng.randrange(0, 3)]]
            categories = sorted({*asb, str(DataCategory.ALLEGATIONS_OF_CRIME), str(DataCategory.IDENTITY)})
            disclose(n, POLICE, items, str(rng.choice(GATEWAYS)), None, categories, status)
            victim = p.case_people[n][0]
            if victim in p.consent and rng.random() < 0.6:
                consent_id, _ = p.consent[victim]
                contact = [str(DataCategory.IDENTITY), str(DataCategory.CONTACT)]
                disclose(n, POLICE, [p.person_item[victim]], str(LawfulBasis.CONSENT), consent_id, contact,
                         str(DisclosureStatus.ACTIVE))  # fmt: skip
        if rng.random() < 0.1:
            recipient = rng.choice([o for o in range(2, len(ORGANISATIONS) + 1) if o != p.lead[n]])
            status = str(rng.choices(statuses, weights=weights)[0])
            disclose(n, recipient, [p.summary[n]], str(rng.choice(GATEWAYS)), None, asb, status)
        if p.incident_items[n] and rng.random() < 0.1:
            recipient = rng.choice([o for o in range(1, len(ORGANISATIONS) + 1) if o != p.lead[n]])
            disclose(n, recipient, p.incident_items[n][:1], str(rng.choice(GATEWAYS)), None, asb,
                     str(DisclosureStatus.ACTIVE))  # fmt: skip
        if len(disclosures) >= BATCH:
            link_count += len(links)
            yield disclosures, links
            disclosures, links = [], []
    link_count += len(links)
    if disclosures:
        yield disclosures, links
    p.counts.update(disclosure=disclosure_id, disclosure_item=link_count)


COLUMNS: dict[str, tuple[str, ...]] = {
    "organisation": ("id", "name", "slug", "type", "active", "sso_enabled", "sso_allow_provisioning", "created_at"),
    "portal_user": (
        "id", "organisation_id", "email", "full_name", "totp_enabled", "is_active", "is_demo", "failed_attempts",
        "created_at",
    ),
    "user_role": ("user_id", "role"),
    "person": (
        "id", "controller_organisation_id", "given_name", "family_name", "date_of_birth", "address", "postcode",
        "phone", "email", "is_vulnerable_adult", "is_child", "is_confidential_complainant", "created_by_user_id",
        "created_at",
    ),
    "consent_record": (
        "id", "person_id", "given_by_representative", "representative_name", "representative_relationship",
        "method", "scope_organisation_ids", "scope_organisation_types", "scope_purposes", "scope_categories",
        "given_on", "expires_on", "withdrawn_on", "withdrawal_method", "recorded_by_user_id", "created_at",
    ),
    "information_item": (
        "id", "kind", "owner_organisation_id", "person_id", "case_reference", "title", "category", "marking",
        "content", "case_closed_on", "created_by_user_id", "created_at",
    ),
    "asb_case": (
        "id", "reference", "summary_item_id", "lead_organisation_id", "lead_officer_user_id", "category", "types",
        "location", "area", "status", "stage", "stage_changed_at", "risk_scheme", "risk_level", "risk_label",
        "risk_rank", "risk_score", "first_contact_due_at", "first_contact_made_at", "last_incident_at",
        "next_review_on", "domestic_abuse", "case_review_eligible", "case_review_reasons", "closure_reason",
        "closure_note", "closure_requested_at", "closed_at", "closure_approved_by_user_id", "opened_at",
        "opened_by_user_id", "updated_at",
    ),
    "case_party": (
        "id", "case_id", "person_id", "role", "tenure", "landlord", "vulnerability", "support_services",
        "added_by_user_id", "added_at",
    ),
    "incident": (
        "id", "case_id", "occurred_at", "reported_at", "what_happened", "reported_by_person_id", "reported_by_name",
        "perpetrator_person_id", "is_hate", "police_called", "crime_reference", "effect_on_victim", "item_id",
        "entered_by_user_id", "entered_by_organisation_id",
    ),
    "disclosure": (
        "id", "status", "discloser_organisation_id", "recipient_organisation_id", "purpose", "basis", "categories",
        "what_was_shared", "justification", "consent_id", "emergency", "retain_until", "requested_by_user_id",
        "requested_at", "decided_by_user_id", "decided_at", "refusal_reason", "review_due_at", "review_note",
    ),
    "disclosure_item": ("disclosure_id", "item_id"),
}  # fmt: skip
SERIAL_TABLES = (
    "organisation", "portal_user", "person", "consent_record", "information_item", "asb_case", "case_party",
    "incident", "disclosure",
)  # fmt: skip


def build(engine: Engine, cases: int, seed: int, analyze: bool) -> Partnership:
    p = Partnership(cases=cases, now=utcnow(), rng=random.Random(seed))
    loader = Loader(engine, COLUMNS, SERIAL_TABLES)
    try:
        loader.load("organisation", organisation_rows(p))
        loader.load("portal_user", user_rows(p))
        loader.load("user_role", user_role_rows(p))
        for tables in case_batches(p):
            # Parents first: people and items before the cases, parties and incidents.
            for table in ("person", "information_item", "asb_case", "case_party", "incident"):
                loader.load(table, tables.get(table, []))
        loader.load("consent_record", consent_rows(p))
        for batch, links in disclosure_batches(p):
            loader.load("disclosure", batch)
            loader.load("disclosure_item", links)
        loader.finish()
    except BaseException:
        loader.raw.close()
        raise
    p.counts["information_item"] = p.next_item
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text("VACUUM ANALYZE"))
        else:
            if analyze:
                conn.execute(text("PRAGMA analysis_limit=1000"))
                conn.execute(text("ANALYZE"))
            conn.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))
    return p


# --- The lists and their lower bound ---------------------------------------------------------

# (name, filters, the lower bound's extra condition on c).  All of them: open cases, newest first.
VARIANTS: tuple[tuple[str, CaseFilters, str], ...] = (
    ("first page", CaseFilters(), ""),
    ("risk high", CaseFilters(risk_rank=3), "c.risk_rank = 3"),
    ("stage", CaseFilters(stage=CaseStage.INVESTIGATION), "c.stage = 'investigation'"),
    ("type", CaseFilters(case_type=CaseType.HATE_INCIDENT), "CAST(c.types AS TEXT) LIKE '%\"hate_incident\"%'"),
    ("overdue", CaseFilters(overdue_first_contact=True),
     "c.first_contact_due_at < :now AND c.first_contact_made_at IS NULL"),
)  # fmt: skip
_STATUSES = ", ".join(f"'{s}'" for s in sorted(str(s) for s in LIVE_STATUSES))

# A live disclosure to :org of the summary item :item, as read_items judges it: a live status,
# retention not passed, consent (if any) given, not expired, not withdrawn.
_LIVE = f"""d.recipient_organisation_id = :org
        AND d.status IN ({_STATUSES})
        AND (d.retain_until IS NULL OR d.retain_until >= :today)
        AND (d.consent_id IS NULL OR EXISTS (
            SELECT 1 FROM consent_record cr
            WHERE cr.id = d.consent_id AND cr.given_on <= :today
              AND (cr.expires_on IS NULL OR cr.expires_on >= :today)
              AND (cr.withdrawn_on IS NULL OR cr.withdrawn_on > :today)))"""

# The page in one statement, the fastest way found for both databases: the organisation's own
# cases (it leads them; the summary's owner is the lead organisation: opening a case and
# passing its lead keep them together) walked newest first through ix_asb_case_lead_opened and
# counted through ix_asb_case_lead_status; the cases others lead whose summary a live
# disclosure to :org covers, picked and counted in one pass from the disclosures (a window
# count); the two merged.  Then everything the rows show: the summary's fields, the lead
# organisation's name and, for a partner, each live disclosure covering the summary.
_PAGE = f"""
WITH owned AS MATERIALIZED (
    SELECT c.id, c.summary_item_id, c.opened_at, NULL AS shared_total FROM asb_case c
    WHERE c.lead_organisation_id = :org AND {{where}}
    ORDER BY c.opened_at DESC, c.id DESC LIMIT :limit
), shared AS MATERIALIZED (
    SELECT c.id, c.summary_item_id, c.opened_at, COUNT(*) OVER () AS shared_total FROM asb_case c
    WHERE c.lead_organisation_id <> :org AND {{where}} AND c.summary_item_id IN (
        SELECT di.item_id FROM disclosure d JOIN disclosure_item di ON di.disclosure_id = d.id WHERE {_LIVE})
    ORDER BY c.opened_at DESC, c.id DESC LIMIT :limit
), page AS (
    SELECT id, summary_item_id, opened_at FROM (
        SELECT id, summary_item_id, opened_at FROM owned UNION ALL SELECT id, summary_item_id, opened_at FROM shared
    ) AS merged
    ORDER BY opened_at DESC, id DESC LIMIT :limit
)
SELECT page.id, i.id AS item_id, i.content, i.case_reference, i.owner_organisation_id, o.name AS owner_name,
       d.id AS disclosure_id, d.categories,
       (SELECT COUNT(*) FROM asb_case c WHERE c.lead_organisation_id = :org AND {{where}})
       + COALESCE((SELECT MAX(shared_total) FROM shared), 0) AS total
FROM page
JOIN information_item i ON i.id = page.summary_item_id
JOIN organisation o ON o.id = i.owner_organisation_id
LEFT JOIN disclosure_item di ON di.item_id = i.id AND i.owner_organisation_id <> :org
LEFT JOIN disclosure d ON d.id = di.disclosure_id
WHERE di.item_id IS NULL OR ({_LIVE})
ORDER BY page.opened_at DESC, page.id DESC, d.id
"""


def lower_bound_query(extra: str) -> Any:
    where = "c.status IN ('open', 'closure_requested')" + (f" AND {extra}" if extra else "")
    query = text(_PAGE.format(where=where)).bindparams(bindparam("today", type_=Date()))
    if ":now" in extra:
        query = query.bindparams(bindparam("now", type_=UTCDateTime()))
    return query


def page_from_rows(rows: Sequence[Any]) -> list[tuple[int, int, tuple[int, ...]]]:
    """(case id, summary item id, live disclosure ids) per case, in order."""
    out: list[tuple[int, int, list[int]]] = []
    for row in rows:
        if not out or out[-1][0] != row.id:
            out.append((row.id, row.item_id, []))
        if row.disclosure_id is not None:
            out[-1][2].append(row.disclosure_id)
    return [(case_id, item_id, tuple(sorted(ids))) for case_id, item_id, ids in out]


# --- Timing ---------------------------------------------------------------------------------


@dataclass
class Timings:
    portal: list[float] = field(default_factory=list)
    lower: list[float] = field(default_factory=list)
    lower_log: list[float] = field(default_factory=list)
    rows: list[int] = field(default_factory=list)
    total: int = 0


def time_variant(
    engine: Engine, actor: Actor, filters: CaseFilters, extra: str, page_size: int, runs: int, warmup: int
) -> Timings:
    """Portal and lower bound alternately, each on its own fresh connection (as the portal's
    engine hands out), rolled back after every run; the connection is opened before the clock
    starts."""
    timings = Timings()
    query = lower_bound_query(extra)
    assert actor.organisation_id is not None
    for run in range(warmup + runs):
        now = utcnow()
        with Session(engine) as session:
            session.connection()
            started = time.perf_counter()
            page: CasePage = list_cases(session=session, actor=actor, filters=filters, page_size=page_size, now=now)
            finished = time.perf_counter()
            session.rollback()

        params = {"org": actor.organisation_id, "today": now.date(), "now": now, "limit": page_size}
        with engine.connect() as conn:
            started_lb = time.perf_counter()
            rows = conn.execute(query, params).all()
            read_lb = time.perf_counter()
            lower = page_from_rows(rows)
            total = rows[0].total if rows else 0
            if lower:
                # The one multi-row INSERT of the access-log rows the portal must also write.
                conn.execute(
                    insert(AccessLog),
                    [
                        {
                            "occurred_at": utcnow(), "user_id": actor.user_id, "organisation_id": actor.organisation_id,
                            "item_id": item_id, "person_id": None, "disclosure_id": grants[0] if grants else None,
                            "via": VIA, "outcome": "disclosed" if grants else "owner", "withheld_fields": [],
                        }
                        for _, item_id, grants in lower
                    ],
                )  # fmt: skip
            logged_lb = time.perf_counter()
            conn.rollback()

        portal_page = [r.case_id for r in page.rows]
        if portal_page != [case_id for case_id, _, _ in lower] or page.total != total:
            raise SystemExit(
                f"bench: the portal and the lower bound disagree\n  portal: {page.total} {portal_page}\n"
                f"  lower:  {total} {[case_id for case_id, _, _ in lower]}"
            )
        if run >= warmup:
            timings.portal.append(finished - started)
            timings.lower.append(read_lb - started_lb)
            timings.lower_log.append(logged_lb - started_lb)
            timings.rows.append(len(page.rows))
            timings.total = total
    return timings


def make_actor(engine: Engine, organisation: int, role: Role) -> Actor:
    with engine.connect() as conn:
        user = conn.execute(
            text(
                "SELECT u.id, u.email, u.full_name, u.organisation_id FROM portal_user u "
                "JOIN user_role r ON r.user_id = u.id WHERE u.organisation_id = :org AND r.role = :role "
                "ORDER BY u.id LIMIT 1"
            ),
            {"org": organisation, "role": str(role)},
        ).one()
    return Actor(
        user_id=user.id,
        organisation_id=user.organisation_id,
        roles=frozenset({role}),
        email=user.email,
        full_name=user.full_name,
        organisation_name=ORGANISATIONS[organisation - 1][0],
        organisation_type=ORGANISATIONS[organisation - 1][2],
    )


def explain(engine: Engine, actor: Actor, filters: CaseFilters) -> None:
    """Print the plans of the portal's queries for one list (echoing the SQL list_cases runs)."""
    statements: list[tuple[str, Any]] = []

    def capture(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            statements.append((statement, parameters))

    from sqlalchemy import event

    event.listen(engine, "before_cursor_execute", capture)
    try:
        with Session(engine) as session:
            list_cases(session=session, actor=actor, filters=filters, now=utcnow())
            session.rollback()
    finally:
        event.remove(engine, "before_cursor_execute", capture)
    prefix = "EXPLAIN QUERY PLAN " if engine.dialect.name == "sqlite" else "EXPLAIN ANALYZE "
    with engine.connect() as conn:
        for statement, parameters in statements[:2]:
            print("   ", " ".join(statement.split())[:300])
            for row in conn.exec_driver_sql(prefix + statement, parameters).all():
                print("      ", " | ".join(str(v) for v in row))
        conn.rollback()


# --- Running it -----------------------------------------------------------------------------


@dataclass
class Result:
    where: str
    cases: int
    who: str
    variant: str
    timings: Timings


def run_size(url: str, args: argparse.Namespace, cases: int, first: bool) -> tuple[list[Result], str]:
    prepare_database(url, args.reset or not first)
    started = time.perf_counter()
    upgrade_to_head(url)
    migrated = time.perf_counter()
    engine = make_engine(url)
    try:
        p = build(engine, cases, args.seed, not args.no_analyze)
        built = time.perf_counter()
        c = p.counts
        summary = (
            f"{engine.dialect.name}, {cases:,} cases: built in {built - migrated:.1f} s "
            f"(+{migrated - started:.1f} s migrating): {c['person']:,} people, {c['information_item']:,} items, "
            f"{c['case_party']:,} parties, {c['incident']:,} incidents, {c['consent_record']:,} consent records, "
            f"{c['disclosure']:,} disclosures, {c['disclosure_item']:,} links"
        )
        print(summary, flush=True)
        target = make_url(url)
        where = target.get_backend_name() + ("" if target.get_backend_name() == "sqlite" else f" ({target.database})")
        if args.no_analyze and target.get_backend_name() == "sqlite":
            where += " no stats"
        actors = {
            "lead officer": make_actor(engine, ASB_TEAM, Role.LEAD_OFFICER),
            "police": make_actor(engine, POLICE, Role.PANEL_MEMBER),
        }
        results = []
        for who, actor in actors.items():
            for variant, filters, extra in VARIANTS:
                if args.explain:
                    print(f"  {who}, {variant}:")
                    explain(engine, actor, filters)
                timings = time_variant(engine, actor, filters, extra, args.page_size, args.runs, args.warmup)
                results.append(Result(where, cases, who, variant, timings))
                print(f"  timed {who}: {variant}", flush=True)
    finally:
        engine.dispose()
    return results, summary


def print_table(results: list[Result], page_size: int, runs: int, warmup: int) -> None:
    head = (
        f"  {'database':<32} {'cases':>8} {'who':<12} {'list':<10} {'total':>6} {'rows':>4} | {'portal ms':>9} "
        f"{'p95':>7} | {'lower ms':>8} {'p95':>7} {'+log':>7} | {'ratio':>6} {'p95':>6} {'vs +log':>7} | {'target':<6}"
    )
    print()
    print(head)
    print("  " + "-" * (len(head) - 2))
    for r in results:
        t = r.timings
        portal, portal95 = ms(t.portal, 0.5), ms(t.portal, 0.95)
        lower, lower95, lower_log = ms(t.lower, 0.5), ms(t.lower, 0.95), ms(t.lower_log, 0.5)
        rows = round(statistics.mean(t.rows))
        print(
            f"  {r.where:<32} {r.cases:>8,} {r.who:<12} {r.variant:<10} {t.total:>6} {rows:>4} | {portal:>9.2f} "
            f"{portal95:>7.2f} | {lower:>8.2f} {lower95:>7.2f} {lower_log:>7.2f} | {portal / lower:>5.1f}x "
            f"{portal95 / lower95:>5.1f}x {portal / lower_log:>6.1f}x | "
            f"{'met' if portal <= TARGET_RATIO * lower_log else 'missed':<6}"
        )
    print(
        f"  (median and p95 of {runs} runs after {warmup} warm-up, page size {page_size}; total: matching cases; "
        "lower: the hand-written query; +log: and the access-log INSERT; ratio: portal / lower)"
    )
    print(f"  (target: the portal's median within {TARGET_RATIO:.0f}x of the lower bound with its access-log INSERT)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--cases", type=int, action="append", help="cases to build; repeat for more sizes (default 10,000 then 100,000)"
    )
    parser.add_argument("--page-size", type=int, default=25, help="cases on a page (default 25)")
    parser.add_argument("--runs", type=int, default=30, help="timed runs per list (default 30)")
    parser.add_argument("--warmup", type=int, default=3, help="untimed runs first (default 3)")
    parser.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    parser.add_argument("--database-url", help="benchmark database (default: a SQLite file in a temporary folder)")
    parser.add_argument("--reset", action="store_true", help="empty an existing PostgreSQL benchmark database first")
    parser.add_argument("--keep", action="store_true", help="keep the temporary SQLite file(s) and say where")
    parser.add_argument("--no-analyze", action="store_true", help="SQLite: do not refresh planner statistics")
    parser.add_argument("--explain", action="store_true", help="print the plans of the portal's queries")
    args = parser.parse_args(argv)
    sizes = args.cases or [10_000, 100_000]

    results: list[Result] = []
    summaries: list[str] = []
    try:
        for n, cases in enumerate(sizes):
            url = args.database_url or f"sqlite:///{(_TMP / f'bench-{cases}.db').as_posix()}"
            size_results, summary = run_size(url, args, cases, first=n == 0)
            results.extend(size_results)
            summaries.append(summary)
    finally:
        if not args.keep:
            shutil.rmtree(_TMP, ignore_errors=True)

    print()
    for summary in summaries:
        print(f"  {summary}")
    print_table(results, args.page_size, args.runs, args.warmup)
    if args.keep and not args.database_url:
        print(f"  databases kept in {_TMP}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
