"""The migrations build the tables the models declare, and migrating also gives SQLite's query
planner fresh statistics."""

from __future__ import annotations

from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text
from sqlmodel import SQLModel

import panels.action_models
import panels.case_models
import panels.models
import panels.policy  # noqa: F401  (every table the migrations must build)
from sharing.db import make_engine
from sharing.migrations import upgrade_to_head


def test_migrating_sqlite_refreshes_the_planner_statistics(tmp_path: Path) -> None:
    url = f"sqlite:///{(tmp_path / 'fresh.db').as_posix()}"
    upgrade_to_head(url)
    engine = make_engine(url)
    try:
        with engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO organisation (name, slug, type, active, sso_enabled, sso_allow_provisioning, "
                    "created_at) VALUES (:name, :slug, 'police', 1, 0, 0, '2026-01-01 00:00:00')"
                ),
                [{"name": f"Force {n}", "slug": f"force-{n}"} for n in range(30)],
            )
        upgrade_to_head(url)  # nothing to migrate: statistics only
        with engine.connect() as conn:
            stats = dict(conn.execute(text("SELECT idx, stat FROM sqlite_stat1 WHERE tbl = 'organisation'")).all())
    finally:
        engine.dispose()
    assert stats and all(stat.startswith("30 ") for stat in stats.values())


def test_the_migrations_build_exactly_the_tables_the_models_declare(tmp_path: Path) -> None:
    url = f"sqlite:///{(tmp_path / 'fresh.db').as_posix()}"
    upgrade_to_head(url)
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            differences = compare_metadata(MigrationContext.configure(conn), SQLModel.metadata)
    finally:
        engine.dispose()
    assert differences == []
