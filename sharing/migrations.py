"""Apply the committed Alembic migrations (used by ``portal-admin migrate`` and the tests)."""

from __future__ import annotations

from alembic import command
from alembic.config import Config

from sharing.config import PROJECT_ROOT, get_settings


def alembic_config(url: str | None = None) -> Config:
    cfg = Config(str(PROJECT_ROOT / "alembic.ini"))
    cfg.set_main_option("script_location", str(PROJECT_ROOT / "alembic"))
    cfg.attributes["url"] = url or get_settings().database_url
    return cfg


def upgrade_to_head(url: str | None = None) -> None:
    command.upgrade(alembic_config(url), "head")
