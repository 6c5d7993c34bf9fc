"""How fast is a partner's case list, against the best a hand-written query can do?

Builds a synthetic partnership in a fresh benchmark database (a SQLite file in a temporary
folder unless ``--database-url`` names another): ten organisations (one of them the police),
their users, one person per case, a person-details item plus two or three case items per case
(``case_reference`` ``ASB-<n>``), ``--disclosures`` disclosures over recipients, statuses,
lawful bases (consent ones with valid, withdrawn, expired and not-yet-given consent records)
and retention dates, their ``disclosure_item`` links and ``--access-log`` access-log rows.

Then, as a police panel member, it times three lists, each two ways:

* *portal*: ``visible_item_ids(limit=page size)`` then ``read_items`` in one session, which
  includes writing the access-log rows (flushed, then rolled back so the database does not
  grow);
* *lower bound*: one hand-written SQL query returning the same page (item ids, content,
  owner, person and the live disclosures that decide each field), honouring live statuses,
  consent validity and ``retain_until`` as ``read_items`` does.  *+log* adds the one
  multi-row ``INSERT`` of the access-log rows the portal must also write.

The lists are the first page, one case (``case_reference``) and one person; every run checks
that both ways give the same items in the same order, with the same disclosures.

    .venv/bin/python bench/partner_list.py                     # 10,000 then 100,000 cases on SQLite
    .venv/bin/python bench/partner_list.py --cases 10000       # one size
    .venv/bin/python bench/partner_list.py --reset \\
        --database-url postgresql+psycopg://postgres@127.0.0.1:5432/portal_bench

SQLite is timed with the planner statistics the portal keeps: ``portal-admin migrate`` ends
with ``sharing.migrations.refresh_statistics`` (``ANALYZE`` sampling 1,000 rows per index), and
the build runs that same helper after loading, as a migrate of the loaded database would.
``--no-statistics`` skips it, leaving only what migrating the empty database recorded (as on a
fresh install that has not been migrated since).  PostgreSQL is vacuumed and analysed after
loading, as autovacuum would have done.

A PostgreSQL database is created (from the server's ``postgres`` database) when missing.
One that already holds tables is used only with ``--reset``, which empties its ``public``
schema first (and again before each further size).  Never point this at a database whose
contents matter.
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

_TMP = Path(tempfile.mkdtemp(prefix="portal-bench-"))
# The portal's settings are read on import; keep them away from any real data folder.
os.environ.setdefault("PORTAL_DATA_DIR", str(_TMP / "data"))
os.environ.setdefault("PORTAL_SECRET_KEY", "benchmark-only-" + "x" * 40)

from _loading import BATCH, Loader, ms, prepare_database  # noqa: E402
from sqlalchemy import Date, bindparam, insert, text  # noqa: E402
from sqlalchemy.engine import Engine, make_url  # noqa: E402
from sqlmodel import Session  # noqa: E402

from sharing.db import make_engine, utcnow  # noqa: E402
from sharing.migrations import refresh_statistics, upgrade_to_head  # noqa: E402
from sharing.models import AccessLog, OrganisationType, Role  # noqa: E402
from sharing.permissions import Actor  # noqa: E402
from sharing.reads import read_items, visible_item_ids  # noqa: E402
from sharing.vocabulary import (  # noqa: E402
    LIVE_STATUSES,
    DataCategory,
    DisclosureStatus,
    ItemKind,
    LawfulBasis,
    Purpose,
)

VIA = "information list"
TARGET_MS = 50.0  # the targets at 100,000 cases
TARGET_RATIO = 2.0

# (name, slug, type, weight as a case owner, weight as a recipient).  The police come first.
ORGANISATIONS: tuple[tuple[str, str, OrganisationType, float, float], ...] = (
    ("Eastshire Police", "eastshire-police", OrganisationType.POLICE, 15, 1.5),
    ("Eastshire Council ASB Team", "eastshire-asb", OrganisationType.COUNCIL_ASB_TEAM, 30, 1.5),
    ("Eastshire Council Housing", "eastshire-housing", OrganisationType.COUNCIL_HOUSING, 15, 1),
    ("Riverside Homes", "riverside-homes", OrganisationType.HOUSING_ASSOCIATION, 20, 1),
    ("Eastshire Adult Social Care", "eastshire-asc", OrganisationType.ADULT_SOCIAL_CARE, 4, 1),
    ("Eastshire Children's Services", "eastshire-csc", OrganisationType.CHILDRENS_SOCIAL_CARE, 4, 1),
    ("Eastshire NHS Trust", "eastshire-nhs", OrganisationType.HEALTH, 3, 0.8),
    ("Eastshire Probation", "eastshire-probation", OrganisationType.PROBATION, 3, 0.8),
    ("Eastshire Youth Justice", "eastshire-yjs", OrganisationType.YOUTH_OFFENDING, 3, 0.7),
    ("Eastshire Fire and Rescue", "eastshire-fire", OrganisationType.FIRE_AND_RESCUE, 3, 0.5),
)
POLICE = 1
USERS_PER_ORGANISATION = 8

STATUSES: tuple[tuple[DisclosureStatus, float], ...] = (
    (DisclosureStatus.ACTIVE, 55),
    (DisclosureStatus.EMERGENCY, 3),
    (DisclosureStatus.AWAITING_APPROVAL, 7),
    (DisclosureStatus.REFUSED, 12),
    (DisclosureStatus.REJECTED, 5),
    (DisclosureStatus.REVOKED, 10),
    (DisclosureStatus.CONSENT_WITHDRAWN_REVIEW, 8),
)
GATEWAYS = [basis for basis in LawfulBasis if basis.is_gateway]
GIVEN = ("Aisha", "Ben", "Chloé", "Dariusz", "Eilidh", "Femi", "Grace", "Hamza", "Ioana", "Jack", "Kerry", "Liam")
FAMILY = ("Carter", "Nowak", "O'Neill", "Patel", "Quinn", "Rahman", "Smith", "Taylor", "Użyńska", "Vance", "Walsh")
STREETS = ("Mill Lane", "Station Road", "Church Street", "Victoria Court", "Hawthorn Way", "Riverside Walk")

# (kind, title, category, [(key, label, text, category)]); "{n}" becomes a number.
CASE_ITEMS: tuple[tuple[ItemKind, str, DataCategory, tuple[tuple[str, str, str, DataCategory], ...]], ...] = (
    (
        ItemKind.CASE_NOTE,
        "Noise nuisance reported by neighbours",
        DataCategory.ASB_HISTORY,
        (
            ("summary", "What happened", "Loud music and shouting most nights between 11pm and 3am; "
             "diary sheets returned for {n} weeks.", DataCategory.ASB_HISTORY),
            ("impact", "Effect on the victim", "Not sleeping; has asked her GP for help.", DataCategory.HEALTH),
        ),
    ),
    (
        ItemKind.INCIDENT,
        "Threats in the stairwell",
        DataCategory.ALLEGATIONS_OF_CRIME,
        (
            ("summary", "Summary", "Visitors at all hours and threats when challenged; {n} reports of "
             "suspected dealing from the stairwell.", DataCategory.ALLEGATIONS_OF_CRIME),
            ("tenancy", "Tenancy", "Secure tenant since 20{n}; warning letter sent in October.", DataCategory.HOUSING),
            ("crime_ref", "Crime reference", "EP/{n}/2026", DataCategory.ALLEGATIONS_OF_CRIME),
        ),
    ),
    (
        ItemKind.RISK_ASSESSMENT,
        "Vulnerability and risk assessment",
        DataCategory.SAFEGUARDING,
        (
            ("risk", "Risk level", "High: repeat victim, {n} incidents last quarter.", DataCategory.SAFEGUARDING),
            ("health", "Health", "Long-term condition; support worker visits weekly.", DataCategory.HEALTH),
            ("contact", "Safe contact", "Call the mobile between 10am and 2pm only.", DataCategory.CONTACT),
        ),
    ),
    (
        ItemKind.CASE_SUMMARY,
        "Panel case summary",
        DataCategory.ASB_HISTORY,
        (
            ("summary", "Summary", "Bonfires of household rubbish most weekends; smoke entering {n} "
             "neighbouring homes.", DataCategory.ASB_HISTORY),
            ("actions", "Agreed actions", "Acceptable behaviour contract offered; review in 6 weeks.",
             DataCategory.ASB_HISTORY),
        ),
    ),
)  # fmt: skip
PERSON_CATEGORIES = (DataCategory.IDENTITY, DataCategory.CONTACT)


# --- Building the partnership ---------------------------------------------------------------


@dataclass
class Partnership:
    """What the generator keeps in memory to link rows and pick samples."""

    cases: int
    today: date
    now: datetime
    rng: random.Random
    users: dict[int, list[int]] = field(default_factory=dict)  # organisation id -> user ids
    police_user_id: int = 0
    item_owner: list[int] = field(default_factory=lambda: [0])  # item id -> owner (index 0 unused)
    item_person: list[int] = field(default_factory=lambda: [0])
    item_categories: list[tuple[str, ...]] = field(default_factory=lambda: [()])
    case_items: list[list[int]] = field(default_factory=lambda: [[]])  # case n -> item ids (person details first)
    consent: dict[int, tuple[int, bool]] = field(default_factory=dict)  # person id -> (consent id, valid today)
    police_cases: set[int] = field(default_factory=set)  # cases with an item the police may see
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def items(self) -> int:
        return len(self.item_owner) - 1


def _weighted(rng: random.Random, choices: Sequence[Any], weights: Sequence[float], k: int) -> list[Any]:
    return rng.choices(choices, weights=weights, k=k)


def organisation_rows(p: Partnership) -> Iterator[tuple[Any, ...]]:
    for i, (name, slug, kind, _, _) in enumerate(ORGANISATIONS, start=1):
        yield (i, name, slug, str(kind), True, False, False, p.now - timedelta(days=1200))


def user_rows(p: Partnership) -> Iterator[tuple[Any, ...]]:
    user_id = 0
    for org in range(1, len(ORGANISATIONS) + 1):
        slug = ORGANISATIONS[org - 1][1]
        for n in range(USERS_PER_ORGANISATION):
            user_id += 1
            p.users.setdefault(org, []).append(user_id)
            name = f"{GIVEN[user_id % len(GIVEN)]} {FAMILY[user_id % len(FAMILY)]}"
            yield (user_id, org, f"user{n}@{slug}.example", name, False, True, False, 0, p.now - timedelta(days=900))
    p.police_user_id = p.users[POLICE][2]


def user_role_rows(p: Partnership) -> Iterator[tuple[Any, ...]]:
    for users in p.users.values():
        for n, user_id in enumerate(users):
            role = Role.INFORMATION_SHARING_OFFICER if n == 0 else Role.LEAD_OFFICER if n == 1 else Role.PANEL_MEMBER
            yield (user_id, str(role))


def person_rows(p: Partnership, owners: list[int]) -> Iterator[tuple[Any, ...]]:
    rng = p.rng
    start = p.now - timedelta(days=3 * 365)
    step = timedelta(days=3 * 365) / max(p.cases, 1)
    for n in range(1, p.cases + 1):
        given, family = GIVEN[n % len(GIVEN)], FAMILY[(n * 7) % len(FAMILY)]
        yield (
            n,
            owners[n],
            given,
            family,
            date(1950, 1, 1) + timedelta(days=rng.randrange(25_000)),
            f"{n % 200 + 1} {STREETS[n % len(STREETS)]}, Eastbridge",
            f"EB{n % 9 + 1} {n % 10}{'ABDEFGHJLN'[n % 10]}{'PQRSTUWXYZ'[(n // 10) % 10]}",
            f"07700 9{n % 100_000:05d}",
            f"{given.lower()}.{n}@example.org",
            rng.random() < 0.05,
            rng.random() < 0.05,
            rng.random() < 0.05,
            p.users[owners[n]][1],
            start + step * n,
        )


def consent_rows(p: Partnership) -> Iterator[tuple[Any, ...]]:
    """About 35% of people have a consent record: mostly valid, some withdrawn, expired or
    given with a future date (not yet valid)."""
    rng, today = p.rng, p.today
    consent_id = 0
    all_types = [str(t) for _, _, t, _, _ in ORGANISATIONS]
    for n in range(1, p.cases + 1):
        if rng.random() >= 0.35:
            continue
        consent_id += 1
        given_on = today - timedelta(days=rng.randrange(30, 900))
        expires_on: date | None = given_on + timedelta(days=730) if rng.random() < 0.5 else None
        withdrawn_on: date | None = None
        state = rng.random()
        if state < 0.12:
            withdrawn_on = today - timedelta(days=rng.randrange(0, 200))
        elif state < 0.20:
            expires_on = today - timedelta(days=rng.randrange(1, 300))
        elif state < 0.22:
            given_on = today + timedelta(days=rng.randrange(1, 30))
        elif state < 0.25:
            withdrawn_on = today + timedelta(days=rng.randrange(1, 60))  # takes effect later
        valid = (
            given_on <= today
            and (expires_on is None or expires_on >= today)
            and (withdrawn_on is None or withdrawn_on > today)
        )
        p.consent[n] = (consent_id, valid)
        yield (
            consent_id,
            n,
            False,
            "",
            "",
            "signed_form" if consent_id % 3 else "verbal",
            sorted(rng.sample(range(1, len(ORGANISATIONS) + 1), 6)),
            rng.sample(all_types, 3),
            [str(Purpose.ASB_CASE_MANAGEMENT), str(Purpose.SAFEGUARDING)],
            [str(c) for c in DataCategory if c != DataCategory.HEALTH],
            given_on,
            expires_on,
            withdrawn_on,
            "phoned the ASB team" if withdrawn_on else "",
            p.users[POLICE][1] if n % 2 else None,
            datetime.combine(given_on, datetime.min.time(), UTC) + timedelta(hours=10),
        )
    p.counts["consent_record"] = consent_id


def item_rows(p: Partnership, owners: list[int]) -> Iterator[tuple[Any, ...]]:
    """Per case: the person's details (no case reference, as ``create_person`` makes them), then
    two or three case items; the third is often another agency's."""
    rng = p.rng
    start = p.now - timedelta(days=3 * 365)
    step = timedelta(days=3 * 365) / max(p.cases, 1)
    orgs = range(1, len(ORGANISATIONS) + 1)
    item_id = 0
    for n in range(1, p.cases + 1):
        owner = owners[n]
        created = start + step * n
        closed = (created + timedelta(days=200)).date() if rng.random() < 0.3 else None
        ids: list[int] = []
        item_id += 1
        ids.append(item_id)
        p.item_owner.append(owner)
        p.item_person.append(n)
        p.item_categories.append(tuple(str(c) for c in PERSON_CATEGORIES))
        given, family = GIVEN[n % len(GIVEN)], FAMILY[(n * 7) % len(FAMILY)]
        yield (
            item_id, str(ItemKind.PERSON_DETAILS), owner, n, None, f"Personal details of {given} {family}",
            str(DataCategory.IDENTITY), "OFFICIAL-SENSITIVE", [], closed, p.users[owner][1], created,
        )  # fmt: skip
        for k in range(rng.choice((2, 3))):
            kind, title, category, fields = CASE_ITEMS[(n + k) % len(CASE_ITEMS)]
            item_owner = owner if k < 2 or rng.random() < 0.4 else rng.choice([o for o in orgs if o != owner])
            item_id += 1
            ids.append(item_id)
            p.item_owner.append(item_owner)
            p.item_person.append(n)
            p.item_categories.append(tuple(sorted({str(f[3]) for f in fields})))
            number = str(rng.randrange(2, 20))
            content = [
                {"key": key, "label": label, "value": value.replace("{n}", number), "category": str(cat)}
                for key, label, value, cat in fields
            ]
            marking = "OFFICIAL-SENSITIVE" if category == DataCategory.SAFEGUARDING else "OFFICIAL"
            yield (
                item_id, str(kind), item_owner, n, f"ASB-{n}", title, str(category), marking, content, closed,
                p.users[item_owner][1], created + timedelta(hours=k + 1),
            )  # fmt: skip
        p.case_items.append(ids)
        if owner == POLICE or any(p.item_owner[i] == POLICE for i in ids):
            p.police_cases.add(n)
    p.counts["information_item"] = item_id


def disclosure_batches(p: Partnership, total: int) -> Iterator[tuple[list[tuple[Any, ...]], list[tuple[int, int]]]]:
    """Disclosures of one case's items by their owner to another organisation, with their links."""
    rng, today, now = p.rng, p.today, p.now
    org_ids = list(range(1, len(ORGANISATIONS) + 1))
    recipient_weights = [o[4] for o in ORGANISATIONS]
    statuses = [s for s, _ in STATUSES]
    status_weights = [w for _, w in STATUSES]
    live = {str(s) for s in LIVE_STATUSES}
    purposes = list(Purpose)
    disclosures: list[tuple[Any, ...]] = []
    links: list[tuple[int, int]] = []
    link_count = 0
    for disclosure_id in range(1, total + 1):
        n = rng.randrange(1, p.cases + 1)
        ids = p.case_items[n]
        discloser = p.item_owner[rng.choice(ids)]
        own = [i for i in ids if p.item_owner[i] == discloser]
        shared = rng.sample(own, rng.randint(1, len(own))) if len(own) > 1 else own
        while True:
            recipient = rng.choices(org_ids, weights=recipient_weights)[0]
            if recipient != discloser:
                break
        status = str(rng.choices(statuses, weights=status_weights)[0])
        consent = p.consent.get(n)
        consent_id: int | None = None
        if consent is not None and rng.random() < 0.45:
            basis = str(LawfulBasis.CONSENT)
            consent_id = consent[0]
        else:
            basis = str(rng.choice(GATEWAYS))
        categories = sorted({c for i in shared for c in p.item_categories[i]})
        if len(categories) > 1 and rng.random() < 0.3:
            categories.remove(rng.choice(categories))  # a partial share: some fields withheld
        roll = rng.random()
        retain_until: date | None
        if roll < 0.8:
            retain_until = today + timedelta(days=rng.randrange(30, 1100))
        elif roll < 0.9:
            retain_until = today - timedelta(days=rng.randrange(1, 400))
        else:
            retain_until = None
        requested_at = now - timedelta(seconds=rng.randrange(1, 2 * 365 * 86400))
        decided = status != DisclosureStatus.AWAITING_APPROVAL
        refused = status in (DisclosureStatus.REFUSED, DisclosureStatus.REJECTED)
        emergency = status == DisclosureStatus.EMERGENCY
        disclosures.append(
            (
                disclosure_id,
                status,
                discloser,
                recipient,
                str(rng.choice(purposes)),
                basis,
                categories,
                f"{len(shared)} item(s) from case ASB-{n}",
                "Needed to agree joint actions at the ASB panel; the risk to neighbours outweighs the intrusion.",
                consent_id,
                emergency,
                retain_until,
                p.users[discloser][1],
                requested_at,
                p.users[discloser][0] if decided else None,
                requested_at + timedelta(hours=rng.randrange(1, 72)) if decided else None,
                "Not necessary for the stated purpose." if refused else "",
                requested_at + timedelta(days=3) if emergency else None,
                "",
            )
        )
        links.extend((disclosure_id, i) for i in shared)
        if (
            recipient == POLICE
            and status in live
            and (retain_until is None or retain_until >= today)
            and (consent_id is None or (consent is not None and consent[1]))
        ):
            p.police_cases.add(n)
        if len(disclosures) == BATCH:
            link_count += len(links)
            yield disclosures, links
            disclosures, links = [], []
    link_count += len(links)
    if disclosures:
        yield disclosures, links
    p.counts["disclosure"] = total
    p.counts["disclosure_item"] = link_count


def access_log_rows(p: Partnership, total: int, disclosures: int) -> Iterator[tuple[Any, ...]]:
    rng = p.rng
    start = p.now - timedelta(days=365)
    step = timedelta(days=365) / max(total, 1)
    vias = ("information list", "item page", "people list", "case pack", "share page")
    orgs = list(range(1, len(ORGANISATIONS) + 1))
    for log_id in range(1, total + 1):
        item = rng.randrange(1, p.items + 1)
        org = rng.choice(orgs)
        if org == p.item_owner[item]:
            outcome, disclosure_id, withheld = "owner", None, []
        else:
            roll = rng.random()
            if roll < 0.6:
                outcome, disclosure_id, withheld = "disclosed", rng.randrange(1, disclosures + 1), []
            elif roll < 0.9:
                outcome, disclosure_id, withheld = "partial", rng.randrange(1, disclosures + 1), ["phone", "email"]
            else:
                outcome, disclosure_id, withheld = "denied", None, ["summary", "impact"]
        yield (
            log_id,
            start + step * log_id,
            rng.choice(p.users[org]),
            org,
            item,
            p.item_person[item],
            disclosure_id,
            rng.choice(vias),
            outcome,
            withheld if disclosure_id is not None or outcome == "denied" else [],
        )


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
    "disclosure": (
        "id", "status", "discloser_organisation_id", "recipient_organisation_id", "purpose", "basis", "categories",
        "what_was_shared", "justification", "consent_id", "emergency", "retain_until", "requested_by_user_id",
        "requested_at", "decided_by_user_id", "decided_at", "refusal_reason", "review_due_at", "review_note",
    ),
    "disclosure_item": ("disclosure_id", "item_id"),
    "access_log": (
        "id", "occurred_at", "user_id", "organisation_id", "item_id", "person_id", "disclosure_id", "via",
        "outcome", "withheld_fields",
    ),
}  # fmt: skip
SERIAL_TABLES = (
    "organisation", "portal_user", "person", "consent_record", "information_item", "disclosure", "access_log",
)  # fmt: skip


def build(
    engine: Engine, cases: int, disclosures: int, access_log: int, seed: int, statistics: bool
) -> tuple[Partnership, float]:
    """The partnership, and how long refreshing SQLite's statistics took (seconds)."""
    now = utcnow()
    p = Partnership(cases=cases, today=now.date(), now=now, rng=random.Random(seed))
    org_ids = list(range(1, len(ORGANISATIONS) + 1))
    owners = [0, *_weighted(p.rng, org_ids, [o[3] for o in ORGANISATIONS], cases)]
    loader = Loader(engine, COLUMNS, SERIAL_TABLES)
    try:
        loader.load("organisation", organisation_rows(p))
        loader.load("portal_user", user_rows(p))
        loader.load("user_role", user_role_rows(p))
        p.counts["person"] = loader.load("person", person_rows(p, owners))
        loader.load("consent_record", consent_rows(p))
        loader.load("information_item", item_rows(p, owners))
        for batch, links in disclosure_batches(p, disclosures):
            loader.load("disclosure", batch)
            loader.load("disclosure_item", links)
        p.counts["access_log"] = loader.load("access_log", access_log_rows(p, access_log, disclosures))
        loader.finish()
    except BaseException:
        loader.raw.close()
        raise
    # Settle the tables as long-lived ones would be: PostgreSQL's autovacuum would have
    # analysed them; on SQLite, what `portal-admin migrate` runs after migrating.
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text("VACUUM ANALYZE"))
        else:
            conn.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))
    refreshed = 0.0
    if statistics and engine.dialect.name == "sqlite":
        started = time.perf_counter()
        refresh_statistics(engine.url.render_as_string(hide_password=False))
        refreshed = time.perf_counter() - started
    return p, refreshed


# --- The lower bound ------------------------------------------------------------------------

# A live disclosure to :org, as read_items judges it: a live status, retention not passed,
# consent (if any) given, not expired, not withdrawn.
_LIVE = """{recipient} = :org
        AND d.status IN ({statuses})
        AND (d.retain_until IS NULL OR d.retain_until >= :today)
        AND (d.consent_id IS NULL OR EXISTS (
            SELECT 1 FROM consent_record c
            WHERE c.id = d.consent_id AND c.given_on <= :today
              AND (c.expires_on IS NULL OR c.expires_on >= :today)
              AND (c.withdrawn_on IS NULL OR c.withdrawn_on > :today)))"""
_STATUSES = ", ".join(f"'{s}'" for s in sorted(str(s) for s in LIVE_STATUSES))

# The page of visible ids, newest first, the fastest way each database has: walk
# information_item backwards by primary key (or the case/person index) and probe each item:
# its owner column, else a live disclosure through ix_disclosure_item_item and disclosure's
# primary key.
#
# SQLite: without statistics, or with the rough ones ANALYZE keeps under analysis_limit, it
# would rather use ix_disclosure_recipient_status for the probe (two equalities) and so read
# every live disclosure to the recipient per item; the unary + keeps it on the item index.
#
# PostgreSQL: the probe inside an OR would become a hashed subplan of every live disclosure
# to the recipient; OFFSET 0 keeps it per item.  (Merging the newest owned ids with the newest
# disclosed ids, walking ix_disclosure_item_item backwards, gives the same page but measured
# 10-20% slower at 100,000 cases, mostly in planning.)
_PAGE = {
    "sqlite": """
    SELECT i.id FROM information_item i
    WHERE {filter_and} (i.owner_organisation_id = :org OR EXISTS (
        SELECT 1 FROM disclosure_item di JOIN disclosure d ON d.id = di.disclosure_id
        WHERE di.item_id = i.id AND {live}))
    ORDER BY i.id DESC
    LIMIT :limit""",
    "postgresql": """
    SELECT i.id FROM information_item i
    WHERE {filter_and} (i.owner_organisation_id = :org OR EXISTS (
        SELECT 1 FROM disclosure_item di JOIN disclosure d ON d.id = di.disclosure_id
        WHERE di.item_id = i.id AND {live}
        OFFSET 0))
    ORDER BY i.id DESC
    LIMIT :limit""",
}

# Then everything read_items needs to build the views: the item, its owner's name, the person
# (for person-details items) and, for others' items, each live disclosure with its categories
# and basis (one row per disclosure; the WHERE drops links that are not live).
_LOWER_BOUND = """
WITH page AS ({page}
)
SELECT i.id, i.kind, i.title, i.category, i.marking, i.person_id, i.case_reference, i.content,
       i.owner_organisation_id, o.name AS owner_name,
       p.given_name, p.family_name, p.date_of_birth, p.address, p.postcode, p.phone, p.email,
       p.is_confidential_complainant,
       d.id AS disclosure_id, d.categories, d.basis
FROM page
JOIN information_item i ON i.id = page.id
JOIN organisation o ON o.id = i.owner_organisation_id
LEFT JOIN person p ON p.id = i.person_id
LEFT JOIN disclosure_item di ON di.item_id = i.id AND i.owner_organisation_id <> :org
LEFT JOIN disclosure d ON d.id = di.disclosure_id
WHERE di.item_id IS NULL OR ({live})
ORDER BY i.id DESC, d.id
"""
_FILTERS = {"first page": "", "by case": "i.case_reference = :case", "by person": "i.person_id = :person"}


def _live(dialect: str) -> str:
    recipient = "+d.recipient_organisation_id" if dialect == "sqlite" else "d.recipient_organisation_id"
    return _LIVE.format(recipient=recipient, statuses=_STATUSES)


def lower_bound_query(variant: str, dialect: str) -> Any:
    condition = _FILTERS[variant]
    page = _PAGE["sqlite" if dialect == "sqlite" else "postgresql"].format(
        filter_and=f"{condition} AND" if condition else "", live=_live(dialect)
    )
    sql = _LOWER_BOUND.format(page=page, live=_live(dialect))
    return text(sql).bindparams(bindparam("today", type_=Date()))


def pages_from_rows(rows: Sequence[Any]) -> list[tuple[int, tuple[int, ...]]]:
    """(item id, live disclosure ids) per item, in order, from the lower bound's rows."""
    out: list[tuple[int, list[int]]] = []
    for row in rows:
        if not out or out[-1][0] != row.id:
            out.append((row.id, []))
        if row.disclosure_id is not None:
            out[-1][1].append(row.disclosure_id)
    return [(item_id, tuple(sorted(ids))) for item_id, ids in out]


# --- Timing ---------------------------------------------------------------------------------


@dataclass
class Timings:
    portal: list[float] = field(default_factory=list)
    ids: list[float] = field(default_factory=list)
    read: list[float] = field(default_factory=list)
    lower: list[float] = field(default_factory=list)
    lower_log: list[float] = field(default_factory=list)
    rows: list[int] = field(default_factory=list)


def _filter_args(variant: str, case: int) -> tuple[dict[str, Any], dict[str, Any]]:
    """(visible_item_ids keyword arguments, lower-bound parameters) for one run."""
    if variant == "by case":
        return {"case_reference": f"ASB-{case}"}, {"case": f"ASB-{case}"}
    if variant == "by person":
        return {"person_id": case}, {"person": case}  # one person per case, same number
    return {}, {}


def time_variant(
    engine: Engine, actor: Actor, variant: str, samples: Sequence[int], page_size: int, runs: int, warmup: int
) -> Timings:
    """Portal and lower bound alternately, each on its own fresh connection (as the portal's
    engine hands out), rolled back after every run; the connection is opened before the clock starts."""
    timings = Timings()
    query = lower_bound_query(variant, engine.dialect.name)
    assert actor.organisation_id is not None
    for run in range(warmup + runs):
        case = samples[run % len(samples)]
        kwargs, params = _filter_args(variant, case)

        with Session(engine) as session:
            session.connection()
            started = time.perf_counter()
            ids = visible_item_ids(session=session, actor=actor, limit=page_size, **kwargs)
            listed = time.perf_counter()
            views = read_items(session=session, actor=actor, item_ids=ids, via=VIA)
            finished = time.perf_counter()
            session.rollback()

        with engine.connect() as conn:
            started_lb = time.perf_counter()
            rows = conn.execute(
                query, {"org": actor.organisation_id, "today": utcnow().date(), "limit": page_size, **params}
            ).all()
            read_lb = time.perf_counter()
            page = pages_from_rows(rows)
            if page:
                # The one multi-row INSERT of the access-log rows the portal must also write.
                conn.execute(
                    insert(AccessLog),
                    [
                        {
                            "occurred_at": utcnow(), "user_id": actor.user_id, "organisation_id": actor.organisation_id,
                            "item_id": item_id, "person_id": None, "disclosure_id": grants[0] if grants else None,
                            "via": VIA, "outcome": "disclosed" if grants else "owner", "withheld_fields": [],
                        }
                        for item_id, grants in page
                    ],
                )  # fmt: skip
            logged_lb = time.perf_counter()
            conn.rollback()

        portal_page = [(v.id, v.disclosure_ids) for v in views]
        if portal_page != page:
            raise SystemExit(
                f"bench: {variant} (sample {case}): the portal and the lower bound disagree\n"
                f"  portal: {portal_page}\n  lower:  {page}"
            )
        if run >= warmup:
            timings.portal.append(finished - started)
            timings.ids.append(listed - started)
            timings.read.append(finished - listed)
            timings.lower.append(read_lb - started_lb)
            timings.lower_log.append(logged_lb - started_lb)
            timings.rows.append(len(views))
    return timings


def police_actor(engine: Engine, p: Partnership) -> Actor:
    with engine.connect() as conn:
        user = conn.execute(
            text("SELECT u.id, u.email, u.full_name, u.organisation_id FROM portal_user u WHERE u.id = :id"),
            {"id": p.police_user_id},
        ).one()
    return Actor(
        user_id=user.id,
        organisation_id=user.organisation_id,
        roles=frozenset({Role.PANEL_MEMBER}),
        email=user.email,
        full_name=user.full_name,
        organisation_name=ORGANISATIONS[POLICE - 1][0],
        organisation_type=OrganisationType.POLICE,
    )


def police_visible(engine: Engine, p: Partnership) -> int:
    """How many items the police may see (owned, or in a live disclosure), for context."""
    sql = text(
        f"""SELECT COUNT(*) FROM information_item i WHERE i.owner_organisation_id = :org OR i.id IN (
            SELECT di.item_id FROM disclosure_item di JOIN disclosure d ON d.id = di.disclosure_id
            WHERE {_live("postgresql")})"""
    ).bindparams(bindparam("today", type_=Date()))
    with engine.connect() as conn:
        return int(conn.execute(sql, {"org": POLICE, "today": p.today}).scalar_one())


# --- Running it -----------------------------------------------------------------------------


@dataclass
class Result:
    where: str
    cases: int
    variant: str
    timings: Timings


def run_size(url: str, args: argparse.Namespace, cases: int, first: bool) -> tuple[list[Result], str]:
    prepare_database(url, args.reset or not first)
    started = time.perf_counter()
    upgrade_to_head(url)
    migrated = time.perf_counter()
    engine = make_engine(url)
    try:
        p, refreshed = build(engine, cases, args.disclosures, args.access_log, args.seed, not args.no_statistics)
        built = time.perf_counter()
        visible = police_visible(engine, p)
        actor = police_actor(engine, p)
        rng = random.Random(args.seed + 1)
        samples = rng.sample(sorted(p.police_cases), min(len(p.police_cases), args.runs))
        summary = (
            f"{engine.dialect.name}, {cases:,} cases: built in {built - migrated:.1f} s "
            f"(+{migrated - started:.1f} s migrating): {p.counts['person']:,} people, "
            f"{p.counts['information_item']:,} items, {p.counts['consent_record']:,} consent records, "
            f"{p.counts['disclosure']:,} disclosures, {p.counts['disclosure_item']:,} links, "
            f"{p.counts['access_log']:,} access-log rows; the police may see {visible:,} items"
            + (f"; statistics refreshed in {refreshed * 1000:.0f} ms (included in building)" if refreshed else "")
        )
        print(summary, flush=True)
        target = make_url(url)
        where = target.get_backend_name() + ("" if target.get_backend_name() == "sqlite" else f" ({target.database})")
        if args.no_statistics and target.get_backend_name() == "sqlite":
            where += " no statistics"
        results = []
        for variant in ("first page", "by case", "by person"):
            timings = time_variant(engine, actor, variant, samples, args.page_size, args.runs, args.warmup)
            results.append(Result(where, cases, variant, timings))
            print(f"  timed {variant}", flush=True)
    finally:
        engine.dispose()
    return results, summary


def print_table(results: list[Result], page_size: int, runs: int, warmup: int) -> None:
    head = (
        f"  {'database':<26} {'cases':>8} {'list':<10} {'rows':>4} | {'portal ms':>9} {'p95':>7} "
        f"{'(ids':>7} {'read)':>7} | {'lower ms':>8} {'p95':>7} {'+log':>7} | {'ratio':>6} {'p95':>6} {'vs +log':>7} "
        f"| {'target':<6}"
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
            f"  {r.where:<26} {r.cases:>8,} {r.variant:<10} {rows:>4} | {portal:>9.2f} {portal95:>7.2f} "
            f"{ms(t.ids, 0.5):>7.2f} {ms(t.read, 0.5):>7.2f} | {lower:>8.2f} {lower95:>7.2f} {lower_log:>7.2f} | "
            f"{portal / lower:>5.1f}x {portal95 / lower95:>5.1f}x {portal / lower_log:>6.1f}x "
            f"| {'met' if portal <= TARGET_MS and portal <= TARGET_RATIO * lower else 'missed':<6}"
        )
    print(
        f"  (median and p95 of {runs} runs after {warmup} warm-up, page size {page_size}; ids/read: the portal's "
        "visible_item_ids and read_items medians; +log: lower bound plus the access-log INSERT; ratio: portal / lower)"
    )
    print(f"  (target: portal median under {TARGET_MS:.0f} ms and within {TARGET_RATIO:.0f}x of the lower bound)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--cases", type=int, action="append", help="cases to build; repeat for more sizes (default 10,000 then 100,000)"
    )
    parser.add_argument("--disclosures", type=int, default=1_000_000, help="disclosures (default 1,000,000)")
    parser.add_argument("--access-log", type=int, default=1_000_000, help="access-log rows (default 1,000,000)")
    parser.add_argument("--page-size", type=int, default=25, help="items on a page (default 25)")
    parser.add_argument("--runs", type=int, default=50, help="timed runs per list (default 50)")
    parser.add_argument("--warmup", type=int, default=5, help="untimed runs first (default 5)")
    parser.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    parser.add_argument("--database-url", help="benchmark database (default: a SQLite file in a temporary folder)")
    parser.add_argument("--reset", action="store_true", help="empty an existing PostgreSQL benchmark database first")
    parser.add_argument("--keep", action="store_true", help="keep the temporary SQLite file(s) and say where")
    parser.add_argument(
        "--no-statistics",
        action="store_true",
        help="SQLite: skip the statistics refresh portal-admin migrate would run on the loaded database",
    )
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
