"""Database engine and the one transaction helper.

Services receive a ``Session`` and never commit; the caller opens exactly one
``transaction()`` per user action, which commits on success and rolls back on any error.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.pool import NullPool
from sqlmodel import Session, create_engine

from sharing.config import get_settings

_engines: dict[str, Engine] = {}


def utcnow() -> datetime:
    """Timezone-aware current time in UTC (the only clock services use)."""
    return datetime.now(UTC)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


def make_engine(url: str) -> Engine:
    """Create an engine with the settings this portal relies on for either database."""
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            from pathlib import Path

            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            url,
            connect_args={"check_same_thread": False, "timeout": 10},
            poolclass=NullPool,
        )
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=5)


def get_engine(url: str | None = None) -> Engine:
    """The process-wide engine for ``url`` (default: the configured database)."""
    key = url or get_settings().database_url
    if key not in _engines:
        _engines[key] = make_engine(key)
    return _engines[key]


@contextmanager
def transaction(engine: Engine | None = None) -> Iterator[Session]:
    """One unit of work: yields a session, commits if the block succeeds, rolls back if not."""
    from sharing.errors import DomainError

    bound = engine or get_engine()
    session = Session(bound, expire_on_commit=False)
    try:
        yield session
        session.commit()
    except DomainError as error:
        session.rollback()
        session.close()
        if error.durable_effects:
            # What must be remembered although the action failed (denials, failed sign-ins).
            with Session(bound, expire_on_commit=False) as durable:
                for effect in error.durable_effects:
                    effect(durable)
                durable.commit()
        raise
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
