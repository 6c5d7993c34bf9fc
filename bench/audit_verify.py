"""How long does ``verify_chain`` take on a long audit trail?

Creates a fresh benchmark database (a SQLite file in a temporary folder unless
``--database-url`` names another), migrates it with the committed migrations, bulk-loads N
valid, chained audit events (hashed with the same canonical form as ``compute_hash``), then
times ``verify_chain`` (best of ``--runs``) and prints a small table.

    .venv/bin/python bench/audit_verify.py                      # 1,000,000 events on SQLite
    .venv/bin/python bench/audit_verify.py --events 100000      # a quick run
    .venv/bin/python bench/audit_verify.py \\
        --database-url postgresql+psycopg://postgres@127.0.0.1:5432/portal_bench

A PostgreSQL database is created (from the server's ``postgres`` database) when missing.
One that already holds tables is used only with ``--reset``, which empties its ``public``
schema first.  Never point this at a database whose contents matter.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import shutil
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run as a script from anywhere

from _loading import prepare_database  # noqa: E402
from sqlalchemy import text  # noqa: E402
from sqlalchemy.engine import Engine, make_url  # noqa: E402
from sqlmodel import Session  # noqa: E402

from sharing.audit import GENESIS_HASH, AuditAction, ChainReport, canonical_form, verify_chain  # noqa: E402
from sharing.db import make_engine  # noqa: E402
from sharing.migrations import upgrade_to_head  # noqa: E402

COLUMNS = (
    "id",
    "occurred_at",
    "action",
    "outcome",
    "actor_user_id",
    "actor_organisation_id",
    "actor_label",
    "subject_type",
    "subject_id",
    "reason",
    "detail",
    "ip_address",
    "prev_hash",
    "hash",
)
BATCH = 20_000

_PEOPLE = (
    "jo.smith@eastshire.police.example",
    "zoë.brontë@riverside-homes.example",
    "siân.ó-briain@council.example",
    "björn.østergård@youth-justice.example",
    "system",
    None,
)
_REASONS = (None, None, None, "wrong password", "locked after 5 failures", "nicht erlaubt \u2013 kein Zugriff", "—")


def _detail(rng: random.Random, i: int) -> dict[str, Any]:
    """Two in five empty (as most events are), one in five repeated, two in five unique."""
    kind = i % 5
    if kind in (0, 1):
        return {}
    if kind == 2:
        return {"attempts": rng.randint(1, 5), "method": "password"}
    if kind == 3:
        return {"roles": ["panel_member", "lead_officer"], "panel": {"id": i, "name": "Ward 7 \u2013 H\u00f6he"}}
    return {
        "changes": {"full_name": [None, "Ana N\u00fa\u00f1ez"], "active": [True, False]},
        "note": None,
        "score": i / 7,
    }


def events(n: int, seed: int = 1) -> Iterator[tuple[Any, ...]]:
    """N chained events as ``(id, occurred_at, ..., detail dict, ..., prev_hash, hash)``, oldest first."""
    rng = random.Random(seed)
    actions = [str(action) for action in AuditAction]
    outcomes = ("success", "failure", "denied")
    start = datetime(2026, 1, 1, tzinfo=UTC)
    sha256 = hashlib.sha256
    prev = GENESIS_HASH
    for i in range(1, n + 1):
        # Steps of 37 ms: every thousandth time falls on a whole second (isoformat drops ".000000").
        occurred_at = start + timedelta(microseconds=37_000 * i)
        actor = _PEOPLE[i % len(_PEOPLE)]
        fields = (
            occurred_at,
            actions[i % len(actions)],
            outcomes[i % 3],
            None if actor is None else rng.randint(1, 5000),
            None if actor is None else rng.randint(1, 40),
            actor,
            "user" if i % 4 else None,
            str(rng.randint(1, 100_000)) if i % 4 else None,
            _REASONS[i % len(_REASONS)],
            _detail(rng, i),
            f"192.0.2.{i % 250}" if i % 3 else None,
            prev,
        )
        digest = sha256(canonical_form(*fields)).hexdigest()
        yield (i, *fields, digest)
        prev = digest


def _batches(n: int) -> Iterator[list[tuple[Any, ...]]]:
    batch: list[tuple[Any, ...]] = []
    for row in events(n):
        batch.append(row)
        if len(batch) == BATCH:
            yield batch
            batch = []
    if batch:
        yield batch


def load_sqlite(engine: Engine, n: int) -> None:
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        # This connection only: a benchmark, not real data.  A big page cache keeps the unique hash
        # indexes (random keys) from thrashing.
        cursor.execute("PRAGMA synchronous=OFF")
        cursor.execute("PRAGMA cache_size=-262144")
        sql = f"INSERT INTO audit_event ({', '.join(COLUMNS)}) VALUES ({', '.join('?' * len(COLUMNS))})"
        dumps = json.dumps
        for batch in _batches(n):
            # As the portal stores them: naive UTC text with microseconds, JSON text.
            cursor.executemany(
                sql,
                [(r[0], r[1].strftime("%Y-%m-%d %H:%M:%S.%f"), *r[2:10], dumps(r[10]), *r[11:]) for r in batch],
            )
        raw.commit()
    finally:
        raw.close()


def load_postgresql(engine: Engine, n: int) -> None:
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        dumps = json.dumps
        with cursor.copy(f"COPY audit_event ({', '.join(COLUMNS)}) FROM STDIN") as copy:  # type: ignore[attr-defined]
            for batch in _batches(n):
                for r in batch:
                    copy.write_row((*r[:10], dumps(r[10]), *r[11:]))
        cursor.execute("SELECT setval(pg_get_serial_sequence('audit_event', 'id'), %s)", (n,))
        raw.commit()
    finally:
        raw.close()
    # Settle the table as a long-lived one would be (hint bits, visibility map, statistics).
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE audit_event"))


def load(engine: Engine, n: int) -> float:
    started = time.perf_counter()
    if engine.dialect.name == "postgresql":
        load_postgresql(engine, n)
    else:
        load_sqlite(engine, n)
    last_hash = GENESIS_HASH
    if n:
        with engine.connect() as conn:
            last_hash = conn.execute(text("SELECT hash FROM audit_event WHERE id = :id"), {"id": n}).scalar_one()
    with engine.begin() as conn:
        conn.execute(
            text("UPDATE audit_chain_head SET last_event_id = :id, last_hash = :hash WHERE id = 1"),
            {"id": n or None, "hash": last_hash},
        )
    return time.perf_counter() - started


def time_verify(engine: Engine, runs: int) -> tuple[float, ChainReport]:
    best = float("inf")
    report = ChainReport(False, 0)
    for _ in range(runs):
        with Session(engine) as session:
            started = time.perf_counter()
            report = verify_chain(session)
            best = min(best, time.perf_counter() - started)
        if not report.ok:
            break
    return best, report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=1_000_000, help="how many events to load (default 1,000,000)")
    parser.add_argument("--database-url", help="benchmark database (default: a SQLite file in a temporary folder)")
    parser.add_argument("--reset", action="store_true", help="empty an existing PostgreSQL benchmark database first")
    parser.add_argument("--runs", type=int, default=3, help="verification runs; the best is reported (default 3)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary SQLite file and say where it is")
    args = parser.parse_args(argv)

    tmp = Path(tempfile.mkdtemp(prefix="portal-bench-audit-"))
    # Should anything read the portal's settings, keep it away from any real data folder.
    os.environ.setdefault("PORTAL_DATA_DIR", str(tmp / "data"))
    os.environ.setdefault("PORTAL_SECRET_KEY", "benchmark-only-" + "x" * 40)
    url = args.database_url or f"sqlite:///{(tmp / 'bench.db').as_posix()}"
    try:
        prepare_database(url, args.reset)
        upgrade_to_head(url)
        engine = make_engine(url)
        insert_s = load(engine, args.events)
        verify_s, report = time_verify(engine, args.runs)
        engine.dispose()
    finally:
        if not args.keep:
            shutil.rmtree(tmp, ignore_errors=True)

    if not report.ok or report.checked != args.events:
        print(f"bench: verification failed: {report}", file=sys.stderr)
        return 1
    rate = args.events / verify_s if verify_s else float("inf")
    target = make_url(url)
    where = target.get_backend_name() + ("" if target.get_backend_name() == "sqlite" else f" ({target.database})")
    width = max(len("database"), len(where))
    print()
    print(f"  {'database':<{width}} {'events':>10} {'insert s':>9} {'verify s':>9} {'events/s':>11}")
    print(f"  {where:<{width}} {args.events:>10,} {insert_s:>9.2f} {verify_s:>9.2f} {rate:>11,.0f}")
    print(f"  (verify: best of {args.runs}; insert includes hashing, migrating excluded)")
    if args.keep and url.startswith("sqlite"):
        print(f"  database kept at {url}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
