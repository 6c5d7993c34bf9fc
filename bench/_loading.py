"""What the benchmarks that build a large synthetic partnership share: bulk loading rows into
a fresh database (``executemany`` on SQLite, ``COPY`` on PostgreSQL), preparing a PostgreSQL
benchmark database, and reading a percentile of timings in milliseconds.  Not a benchmark."""

from __future__ import annotations

import json
import statistics
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Date, inspect, text
from sqlalchemy.engine import Engine, make_url
from sqlmodel import SQLModel

from sharing.db import make_engine
from sharing.types import UTCDateTime

BATCH = 20_000  # rows per executemany on SQLite


def _identity(value: Any) -> Any:
    return value


def _sqlite_datetime(value: datetime | None) -> str | None:
    # As the portal stores them: naive UTC text with microseconds.
    return None if value is None else value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


def _converters(table: str, columns: Sequence[str], dialect: str) -> tuple[Callable[[Any], Any], ...]:
    """Per column, Python value -> what the driver loads (JSON text; SQLite dates and times as text)."""
    types = SQLModel.metadata.tables[table].columns
    out: list[Callable[[Any], Any]] = []
    for name in columns:
        kind = types[name].type
        if isinstance(kind, JSON):
            out.append(json.dumps)
        elif dialect != "sqlite":
            out.append(_identity)
        elif isinstance(kind, UTCDateTime):
            out.append(_sqlite_datetime)
        elif isinstance(kind, Date):
            out.append(lambda v: None if v is None else v.isoformat())
        elif isinstance(kind, Boolean):
            out.append(lambda v: None if v is None else int(v))
        else:
            out.append(_identity)
    return tuple(out)


class Loader:
    """Bulk loads rows over one raw connection: ``executemany`` on SQLite, ``COPY`` on PostgreSQL.

    ``columns`` names the columns each table's rows give, in order; ``serial_tables`` are the
    tables whose id sequences PostgreSQL must be moved past the loaded ids."""

    def __init__(
        self,
        engine: Engine,
        columns: Mapping[str, tuple[str, ...]],
        serial_tables: Sequence[str],
        batch: int = BATCH,
    ) -> None:
        self.columns = columns
        self.serial_tables = serial_tables
        self.batch = batch
        self.dialect = engine.dialect.name
        self.replica = False
        self.raw = engine.raw_connection()
        self.cursor = self.raw.cursor()
        if self.dialect == "sqlite":
            # This connection only: a benchmark, not real data.
            self.cursor.execute("PRAGMA synchronous=OFF")
            self.cursor.execute("PRAGMA cache_size=-262144")
            self.cursor.execute("PRAGMA foreign_keys=OFF")
        else:
            # The rows are generated consistent; skip the per-row foreign-key triggers while
            # loading (a superuser setting: without it the load is only slower).
            self.replica = True
            try:
                self.cursor.execute("SET session_replication_role = replica")
            except Exception:
                self.raw.rollback()
                self.replica = False

    def load(self, table: str, rows: Iterable[tuple[Any, ...]]) -> int:
        columns = self.columns[table]
        convert = _converters(table, columns, self.dialect)
        count = 0
        if self.dialect == "sqlite":
            sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"
            batch: list[tuple[Any, ...]] = []
            for row in rows:
                batch.append(tuple(f(v) for f, v in zip(convert, row, strict=True)))
                if len(batch) == self.batch:
                    self.cursor.executemany(sql, batch)
                    count += len(batch)
                    batch = []
            if batch:
                self.cursor.executemany(sql, batch)
                count += len(batch)
            return count
        with self.cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:  # type: ignore[attr-defined]
            for row in rows:
                copy.write_row(tuple(f(v) for f, v in zip(convert, row, strict=True)))
                count += 1
        return count

    def finish(self) -> None:
        if self.dialect == "postgresql":
            for table in self.serial_tables:
                self.cursor.execute(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), COALESCE(MAX(id), 1)) FROM {table}"
                )
            if self.replica:
                self.cursor.execute("SET session_replication_role = DEFAULT")
        self.raw.commit()
        self.raw.close()


def prepare_database(url: str, reset: bool) -> None:
    """Create the PostgreSQL database if missing; refuse to reuse one with tables unless ``reset``."""
    if not url.startswith("postgresql"):
        return
    target = make_url(url)
    name = target.database
    if not name:
        raise SystemExit("bench: the PostgreSQL URL must name a database")
    if name == "test":
        raise SystemExit("bench: the test suite's database is not a benchmark database")
    server = make_engine(target.set(database="postgres").render_as_string(hide_password=False))
    with server.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        exists = conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": name}).first()
        if not exists:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
            print(f"created database {name}")
    server.dispose()
    engine = make_engine(url)
    tables = inspect(engine).get_table_names()
    if tables:
        if not reset:
            engine.dispose()
            raise SystemExit(f"bench: database {name} already has tables; add --reset to empty it first")
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()


def ms(seconds: Sequence[float], q: float) -> float:
    ordered = sorted(seconds)
    if q == 0.5:
        return statistics.median(ordered) * 1000
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))] * 1000
