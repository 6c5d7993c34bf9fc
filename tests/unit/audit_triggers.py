"""Tampering with the audit trail in tests, which the database itself refuses.

* :func:`separate_database` makes a throw-away database beside the test database (a SQLite
  file, or a new PostgreSQL database on the same server), migrated to head, so a broken
  chain never reaches the shared test database whose chain other tests check.
* :func:`triggers_dropped` removes the append-only triggers for the length of a block and
  then re-creates them by running the committed migration's own trigger function, so they
  come back exactly as ``portal-admin migrate`` made them.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType

from alembic.operations import Operations
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.engine import Connection, Engine, make_url

from sharing.db import make_engine
from sharing.migrations import alembic_config, upgrade_to_head

FOUNDATION_REVISION = "0001"


def _foundation_migration() -> ModuleType:
    """The migration that made the audit trail and its triggers, loaded the way Alembic loads it."""
    revision = ScriptDirectory.from_config(alembic_config()).get_revision(FOUNDATION_REVISION)
    assert revision is not None
    return revision.module


def drop_triggers(connection: Connection) -> None:
    """Remove the append-only triggers (as the foundation migration's downgrade does)."""
    if connection.dialect.name == "postgresql":
        connection.execute(text("DROP TRIGGER IF EXISTS audit_event_no_truncate ON audit_event"))
        connection.execute(text("DROP TRIGGER IF EXISTS audit_event_no_update ON audit_event"))
        connection.execute(text("DROP FUNCTION IF EXISTS audit_event_append_only()"))
    else:
        connection.execute(text("DROP TRIGGER IF EXISTS audit_event_no_update"))
        connection.execute(text("DROP TRIGGER IF EXISTS audit_event_no_delete"))


def create_triggers(connection: Connection) -> None:
    """Re-create the triggers with the foundation migration's own ``_append_only_triggers``."""
    migration = _foundation_migration()
    with Operations.context(MigrationContext.configure(connection)):
        migration._append_only_triggers()


@contextmanager
def triggers_dropped(engine: Engine) -> Iterator[Connection]:
    """A connection on which audit rows can be changed and deleted; committed, triggers restored."""
    with engine.begin() as connection:
        drop_triggers(connection)
        yield connection
        create_triggers(connection)


def trigger_definitions(engine: Engine) -> list[tuple[str, str]]:
    """Every trigger on ``audit_event`` (and the PostgreSQL trigger function) as the database shows it."""
    with engine.connect() as connection:
        if engine.dialect.name == "postgresql":
            rows = connection.execute(
                text(
                    "SELECT tgname, pg_get_triggerdef(t.oid) FROM pg_trigger t "
                    "WHERE tgrelid = 'audit_event'::regclass AND NOT tgisinternal "
                    "UNION ALL SELECT proname, pg_get_functiondef(p.oid) FROM pg_proc p "
                    "WHERE proname = 'audit_event_append_only' ORDER BY 1"
                )
            )
        else:
            rows = connection.execute(
                text(
                    "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'audit_event' ORDER BY 1"
                )
            )
        return [(str(name), str(definition)) for name, definition in rows]


@contextmanager
def separate_database(test_url: str, tmp_path: Path) -> Iterator[str]:
    """A fresh, migrated database of the same kind as ``test_url``; removed afterwards.

    PostgreSQL: ``CREATE DATABASE portal_tamper_<random>`` on the test database's server.
    SQLite: a new file under ``tmp_path``.
    """
    if not test_url.startswith("postgresql"):
        url = f"sqlite:///{(tmp_path / f'tamper-{uuid.uuid4().hex[:8]}.db').as_posix()}"
        upgrade_to_head(url)
        yield url
        return

    name = f"portal_tamper_{uuid.uuid4().hex[:12]}"
    server = make_engine(test_url)
    try:
        with server.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        url = make_url(test_url).set(database=name).render_as_string(hide_password=False)
        try:
            upgrade_to_head(url)
            yield url
        finally:
            with server.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        server.dispose()
