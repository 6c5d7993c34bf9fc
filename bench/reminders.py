"""How long does the reminders sweep take when every case falls due at once, and does it tell
anyone anything twice?

Builds a synthetic partnership in a fresh benchmark database (a SQLite file in a temporary
folder unless ``--database-url`` names another), migrated with the committed migrations:
five organisations (the police, a council ASB team, council housing and two housing
associations), eight users each with their roles (an information sharing officer, a
manager, four lead officers, two panel members; one user in four prefers the daily digest
email), and ``--cases`` open cases led by the four landlord and council organisations, each
with its summary item, its report (with its item), its action plan (with its item; not yet
due for agreement) and one open action owned by a user of any organisation.  Every case falls
due on the same day, ``now``:

* its first-contact deadline passed two hours ago and no contact is recorded
  (``first_contact_overdue``);
* its stage review (``next_review_on``) is today (``stage_review_due``);
* its action is due today (``action_due``).

Then it times the scheduled jobs over them:

* ``panels.reminders.sweep_reminders(engine=..., now=...)``: every rule, raising each
  reminder with its notifications, the immediate emails in the outbox and an audit event;
* ``panels.notifications.queue_daily_digests(session=..., now=...)``: one email per person
  preferring the daily digest (the outbox sender itself needs an SMTP server and is not timed).

Both run a second time with the same ``now`` and must create nothing.  The script prints the
wall time, the peak resident memory (``resource.getrusage``), how many reminders,
notifications, emails and audit events each run wrote, and the duplicate checks (reminders
per dedupe key and per case and kind, notifications per reminder and recipient, emails per
dedupe key: each must be 0).

    .venv/bin/python bench/reminders.py                   # 10,000 cases on SQLite
    .venv/bin/python bench/reminders.py --cases 1000      # a quick run
    .venv/bin/python bench/reminders.py --reset \\
        --database-url postgresql+psycopg://postgres@127.0.0.1:5432/portal_bench_reminders

A PostgreSQL database is created (from the server's ``postgres`` database) when missing.
One that already holds tables is used only with ``--reset``, which empties its ``public``
schema first.  Never point this at a database whose contents matter, nor at the test suite's
``test`` database.
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import shutil
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

_TMP = Path(tempfile.mkdtemp(prefix="portal-bench-reminders-"))
# The portal's settings are read on import; keep them away from any real data folder.
os.environ.setdefault("PORTAL_DATA_DIR", str(_TMP / "data"))
os.environ.setdefault("PORTAL_SECRET_KEY", "benchmark-only-" + "x" * 40)

from _loading import prepare_database  # noqa: E402
from sqlalchemy import insert, text  # noqa: E402
from sqlalchemy.engine import Engine  # noqa: E402
from sqlmodel import SQLModel  # noqa: E402

from panels.notifications import local_date, queue_daily_digests  # noqa: E402
from panels.reminders import sweep_reminders  # noqa: E402
from panels.vocabulary import CaseCategory, CaseStage, CaseStatus, CaseType  # noqa: E402
from sharing.db import make_engine, transaction  # noqa: E402
from sharing.migrations import upgrade_to_head  # noqa: E402
from sharing.models import OrganisationType, Role  # noqa: E402
from sharing.vocabulary import DataCategory, ItemKind  # noqa: E402

BATCH = 5_000
TARGET_S = 30.0
NOW = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)  # a Tuesday morning

# (name, slug, type, leads cases).  The police own actions but lead no cases here.
ORGANISATIONS: tuple[tuple[str, str, OrganisationType, bool], ...] = (
    ("Eastshire Police", "eastshire-police", OrganisationType.POLICE, False),
    ("Eastshire Council ASB Team", "eastshire-asb", OrganisationType.COUNCIL_ASB_TEAM, True),
    ("Eastshire Council Housing", "eastshire-housing", OrganisationType.COUNCIL_HOUSING, True),
    ("Riverside Homes", "riverside-homes", OrganisationType.HOUSING_ASSOCIATION, True),
    ("Hillcrest Housing Association", "hillcrest-ha", OrganisationType.HOUSING_ASSOCIATION, True),
)
LEADS = [i for i, o in enumerate(ORGANISATIONS, start=1) if o[3]]
USERS_PER_ORGANISATION = 8
ROLES = (
    Role.INFORMATION_SHARING_OFFICER, Role.MANAGER, Role.LEAD_OFFICER, Role.LEAD_OFFICER,
    Role.LEAD_OFFICER, Role.LEAD_OFFICER, Role.PANEL_MEMBER, Role.PANEL_MEMBER,
)  # fmt: skip
GIVEN = ("Aisha", "Ben", "Chloé", "Dariusz", "Eilidh", "Femi", "Grace", "Hamza", "Ioana", "Jack", "Kerry", "Liam")
FAMILY = ("Carter", "Nowak", "O'Neill", "Patel", "Quinn", "Rahman", "Smith", "Taylor", "Użyńska", "Vance", "Walsh")
STREETS = ("Mill Lane", "Station Road", "Church Street", "Victoria Court", "Hawthorn Way", "Riverside Walk")
ACTIONS = (
    "Visit the complainant and take a statement",
    "Send a warning letter to the tenant",
    "Check the police log for calls to the address",
    "Install noise monitoring equipment",
    "Refer the victim to the support service",
)


# --- Building the partnership ---------------------------------------------------------------


@dataclass
class Partnership:
    cases: int
    now: datetime
    rng: random.Random
    users: dict[int, list[int]] = field(default_factory=dict)  # organisation id -> user ids
    counts: dict[str, int] = field(default_factory=dict)


def _rows(table: str) -> Any:
    return SQLModel.metadata.tables[table]


def partnership_rows(p: Partnership) -> dict[str, list[dict[str, Any]]]:
    """Organisations, their users, roles and email preferences."""
    created = p.now - timedelta(days=1500)
    tables: dict[str, list[dict[str, Any]]] = {"organisation": [], "portal_user": [], "user_role": []}
    tables["notification_preference"] = []
    user_id = 0
    for org, (name, slug, kind, _) in enumerate(ORGANISATIONS, start=1):
        tables["organisation"].append({
            "id": org, "name": name, "slug": slug, "type": str(kind), "active": True, "sso_enabled": False,
            "sso_allow_provisioning": False, "created_at": created,
        })  # fmt: skip
        for n, role in enumerate(ROLES):
            user_id += 1
            p.users.setdefault(org, []).append(user_id)
            tables["portal_user"].append({
                "id": user_id, "organisation_id": org, "email": f"user{n}@{slug}.example",
                "full_name": f"{GIVEN[user_id % len(GIVEN)]} {FAMILY[user_id % len(FAMILY)]}",
                "totp_enabled": False, "is_active": True, "is_demo": False, "failed_attempts": 0,
                "created_at": created,
            })  # fmt: skip
            tables["user_role"].append({"user_id": user_id, "role": str(role)})
            if user_id % 4 == 0:
                tables["notification_preference"].append(
                    {"user_id": user_id, "email_mode": "daily_digest", "updated_at": created}
                )
    return tables


def _item(item_id: int, kind: ItemKind, owner: int, reference: str, title: str, officer: int, at: datetime) -> dict:
    return {
        "id": item_id, "kind": str(kind), "owner_organisation_id": owner, "person_id": None,
        "case_reference": reference, "title": title, "category": str(DataCategory.ASB_HISTORY),
        "marking": "OFFICIAL-SENSITIVE",
        "content": [{"key": "summary", "label": "Summary", "value": title, "category": str(DataCategory.ASB_HISTORY)}],
        "case_closed_on": None, "created_by_user_id": officer, "created_at": at,
    }  # fmt: skip


def case_batches(p: Partnership) -> Iterator[dict[str, list[dict[str, Any]]]]:
    """Per case: its items, report, case row, plan and action, all falling due on ``now``."""
    rng, now = p.rng, p.now
    today = local_date(now)
    every_user = [u for users in p.users.values() for u in users]
    item_id = 0
    tables: dict[str, list[dict[str, Any]]] = {}

    def add(table: str, row: dict[str, Any]) -> None:
        tables.setdefault(table, []).append(row)

    for n in range(1, p.cases + 1):
        lead = LEADS[n % len(LEADS)]
        officer = rng.choice(p.users[lead][2:6])
        opened = now - timedelta(days=3, minutes=rng.randrange(0, 600))
        reference = f"ASB-{opened.year}-{n:06d}"
        location = f"{n % 200 + 1} {STREETS[n % len(STREETS)]}, Eastbridge"

        summary, report_item, plan_item = item_id + 1, item_id + 2, item_id + 3
        item_id += 3
        add("information_item", _item(summary, ItemKind.CASE_SUMMARY, lead, reference, f"Case {reference}",
                                      officer, opened))  # fmt: skip
        add("information_item", _item(report_item, ItemKind.CASE_NOTE, lead, reference,
                                      f"Report ({reference})", officer, opened))  # fmt: skip
        add("information_item", _item(plan_item, ItemKind.CASE_NOTE, lead, reference,
                                      f"Action plan ({reference})", officer, opened))  # fmt: skip
        add("asb_case", {
            "id": n, "reference": reference, "summary_item_id": summary, "lead_organisation_id": lead,
            "lead_officer_user_id": officer, "category": str(CaseCategory.NUISANCE), "types": [str(CaseType.NOISE)],
            "location": location, "area": "Central", "status": str(CaseStatus.OPEN),
            "stage": str(CaseStage.INVESTIGATION), "stage_changed_at": opened, "risk_scheme": "cambridge",
            "risk_level": "high", "risk_label": "High", "risk_rank": 3, "risk_score": 27,
            # Due two hours ago; no contact recorded.
            "first_contact_due_at": now - timedelta(hours=2), "first_contact_made_at": None,
            "last_incident_at": opened, "next_review_on": today, "domestic_abuse": False,
            "case_review_eligible": False, "case_review_reasons": [], "closure_reason": "", "closure_note": "",
            "opened_at": opened, "opened_by_user_id": officer, "updated_at": opened,
        })  # fmt: skip
        add("case_report", {
            "id": n, "organisation_id": lead, "channel": "phone", "received_at": opened, "reporter_name": "",
            "what_happened": "Loud music and shouting most nights.", "location": location,
            "triage_outcome": "asb", "not_asb_reason": "", "advice_given": "", "triaged_by_user_id": officer,
            "triaged_at": opened, "case_id": n, "item_id": report_item, "recorded_by_user_id": officer,
        })  # fmt: skip
        add("action_plan", {
            "id": n, "case_id": n, "item_id": plan_item, "due_to_agree_by": today + timedelta(days=7),
            "created_by_user_id": officer, "created_at": opened,
        })  # fmt: skip
        owner = rng.choice(every_user)
        add("case_action", {
            "id": n, "plan_id": n, "case_id": n, "number": 1, "description": ACTIONS[n % len(ACTIONS)],
            "party": "agency", "owner_organisation_id": (owner - 1) // USERS_PER_ORGANISATION + 1,
            "owner_user_id": owner, "due_on": today, "source": "case_officer", "status": "open",
            "created_by_user_id": officer, "created_at": opened, "updated_at": opened,
        })  # fmt: skip
        if n % BATCH == 0:
            yield tables
            tables = {}
    if tables:
        yield tables
    p.counts.update(information_item=item_id)


def build(engine: Engine, cases: int, seed: int) -> Partnership:
    """Bulk load with SQLAlchemy core inserts (``executemany``), parents first."""
    p = Partnership(cases=cases, now=NOW, rng=random.Random(seed))
    with engine.begin() as conn:
        if engine.dialect.name == "sqlite":
            conn.execute(text("PRAGMA foreign_keys=OFF"))
        for table, rows in partnership_rows(p).items():
            conn.execute(insert(_rows(table)), rows)
        for tables in case_batches(p):
            for table in ("information_item", "asb_case", "case_report", "action_plan", "case_action"):
                conn.execute(insert(_rows(table)), tables[table])
        if engine.dialect.name == "postgresql":
            for table in ("organisation", "portal_user", "information_item", "asb_case", "case_report",
                          "action_plan", "case_action"):  # fmt: skip
                conn.execute(
                    text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), COALESCE(MAX(id), 1)) FROM {table}")
                )
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE" if engine.dialect.name == "postgresql" else "ANALYZE"))
    return p


# --- Timing the jobs ----------------------------------------------------------------------------

COUNTED = ("reminder", "notification", "email_outbox", "audit_event")
DUPLICATES = {
    "reminders per dedupe key": "SELECT dedupe_key FROM reminder GROUP BY dedupe_key HAVING COUNT(*) > 1",
    "reminders per case and kind": (
        "SELECT case_id, kind FROM reminder WHERE case_id IS NOT NULL GROUP BY case_id, kind HAVING COUNT(*) > 1"
    ),
    "notifications per reminder and recipient": (
        "SELECT reminder_id, recipient_user_id FROM notification WHERE reminder_id IS NOT NULL "
        "GROUP BY reminder_id, recipient_user_id HAVING COUNT(*) > 1"
    ),
    "notifications per recipient, kind and case": (
        "SELECT recipient_user_id, kind, case_reference FROM notification "
        "GROUP BY recipient_user_id, kind, case_reference HAVING COUNT(*) > 1"
    ),
    "emails per dedupe key": (
        "SELECT dedupe_key FROM email_outbox WHERE dedupe_key IS NOT NULL GROUP BY dedupe_key HAVING COUNT(*) > 1"
    ),
}


def row_counts(engine: Engine) -> dict[str, int]:
    with engine.connect() as conn:
        return {t: int(conn.execute(text(f"SELECT COUNT(*) FROM {t}")).scalar_one()) for t in COUNTED}


def duplicates(engine: Engine) -> dict[str, int]:
    with engine.connect() as conn:
        return {name: len(conn.execute(text(sql)).all()) for name, sql in DUPLICATES.items()}


def peak_rss_mb() -> float:
    # ru_maxrss is in kilobytes on Linux (bytes on macOS).
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


@dataclass
class Run:
    job: str
    seconds: float
    peak_mb: float
    made: dict[str, int]
    result: dict[str, int]


def timed(engine: Engine, job: str, call: Any) -> Run:
    before = row_counts(engine)
    started = time.perf_counter()
    result = call()
    seconds = time.perf_counter() - started
    after = row_counts(engine)
    return Run(job, seconds, peak_rss_mb(), {t: after[t] - before[t] for t in COUNTED}, result)


def digest(engine: Engine) -> dict[str, int]:
    with transaction(engine) as session:
        return queue_daily_digests(session=session, now=NOW)


def print_table(runs: list[Run]) -> None:
    head = (
        f"  {'job':<22} {'wall s':>7} {'peak RSS MB':>11} | {'reminders':>9} {'notifications':>13} "
        f"{'emails':>7} {'audit':>7}"
    )
    print()
    print(head)
    print("  " + "-" * (len(head) - 2))
    for r in runs:
        m = r.made
        print(
            f"  {r.job:<22} {r.seconds:>7.2f} {r.peak_mb:>11.0f} | {m['reminder']:>9,} {m['notification']:>13,} "
            f"{m['email_outbox']:>7,} {m['audit_event']:>7,}"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cases", type=int, default=10_000, help="cases falling due (default 10,000)")
    parser.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    parser.add_argument("--database-url", help="benchmark database (default: a SQLite file in a temporary folder)")
    parser.add_argument("--reset", action="store_true", help="empty an existing PostgreSQL benchmark database first")
    parser.add_argument("--keep", action="store_true", help="keep the temporary SQLite file and say where")
    args = parser.parse_args(argv)
    url = args.database_url or f"sqlite:///{(_TMP / 'bench-reminders.db').as_posix()}"

    try:
        prepare_database(url, args.reset)
        started = time.perf_counter()
        upgrade_to_head(url)
        migrated = time.perf_counter()
        engine = make_engine(url)
        try:
            p = build(engine, args.cases, args.seed)
            built = time.perf_counter()
            users = sum(len(u) for u in p.users.values())
            print(
                f"{engine.dialect.name}, {args.cases:,} cases: built in {built - migrated:.1f} s "
                f"(+{migrated - started:.1f} s migrating): {len(ORGANISATIONS)} organisations, {users} users, "
                f"{p.counts['information_item']:,} items, {args.cases:,} reports, plans and open actions; "
                f"peak RSS after building {peak_rss_mb():.0f} MB",
                flush=True,
            )
            runs = [
                timed(engine, "sweep", lambda: sweep_reminders(engine=engine, now=NOW)),
                timed(engine, "daily digests", lambda: digest(engine)),
                timed(engine, "sweep again", lambda: sweep_reminders(engine=engine, now=NOW)),
                timed(engine, "daily digests again", lambda: digest(engine)),
            ]
            dupes = duplicates(engine)
        finally:
            engine.dispose()
    finally:
        if not args.keep:
            shutil.rmtree(_TMP, ignore_errors=True)

    print_table(runs)
    print(f"\n  first sweep raised: {dict(sorted(runs[0].result.items()))}")
    print(f"  digests: {runs[1].result}")
    print(f"  second sweep raised: {runs[2].result or 'nothing'}; digests again: {runs[3].result}")
    print("\n  duplicates (each must be 0):")
    for name, count in dupes.items():
        print(f"    {name:<44} {count}")
    expected = 3 * args.cases
    again = sum(runs[2].made.values()) + sum(runs[3].made.values())
    checks = {
        f"first sweep under {TARGET_S:.0f} s": runs[0].seconds < TARGET_S,
        f"{expected:,} reminders (3 per case)": runs[0].made["reminder"] == expected,
        "no duplicates": not any(dupes.values()),
        "second runs wrote nothing": again == 0,
    }
    print()
    for name, ok in checks.items():
        print(f"  {'met   ' if ok else 'MISSED'} {name}")
    if args.keep and not args.database_url:
        print(f"  database kept in {_TMP}")
    return 0 if all(checks.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
