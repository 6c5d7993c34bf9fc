"""Apply the committed Alembic migrations (used by ``portal-admin migrate`` and the tests)."""

from __future__ import annotations

from alembic import command
from alembic.config import Config

from sharing.config import PROJECT_ROOT, get_settings
from sharing.db import make_engine

# Rows ANALYZE samples per index on SQLite: enough for the planner's estimates, and fast
# (milliseconds) whatever the size of the database.
ANALYSIS_LIMIT = 1000


def alembic_config(url: str | None = None) -> Config:
    cfg = Config(str(PROJECT_ROOT / "alembic.ini"))
    cfg.set_main_option("script_location", str(PROJECT_ROOT / "alembic"))
    cfg.attributes["url"] = url or get_settings().database_url
    return cfg


def upgrade_to_head(url: str | None = None) -> None:
    command.upgrade(alembic_config(url), "head")
    refresh_statistics(url)


def refresh_statistics(url: str | None = None) -> None:
    """Give SQLite's query planner fresh statistics (``ANALYZE``, sampling at most
    :data:`ANALYSIS_LIMIT` rows per index).  SQLite keeps none unless asked, so every migrate
    refreshes them; PostgreSQL's autovacuum keeps its own."""
    target = url or get_settings().database_url
    if not target.startswith("sqlite"):
        return
    engine = make_engine(target)
    try:
        with engine.connect() as conn:
            conn.exec_driver_sql(f"PRAGMA analysis_limit={ANALYSIS_LIMIT}")
            conn.exec_driver_sql("ANALYZE")
            conn.commit()
    finally:
        engine.dispose()
