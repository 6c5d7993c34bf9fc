"""Alembic environment: migrates the portal's database (the URL comes from the settings,
or from ``config.attributes["url"]`` when the portal calls Alembic itself)."""

from __future__ import annotations

from alembic import context
from sqlmodel import SQLModel

import panels.action_models
import panels.case_models
import panels.models
import panels.policy  # noqa: F401
import sharing.models  # noqa: F401
from sharing.config import get_settings
from sharing.db import make_engine

config = context.config
target_metadata = SQLModel.metadata


def _url() -> str:
    return str(config.attributes.get("url") or get_settings().database_url)


def run_migrations_offline() -> None:
    context.configure(url=_url(), target_metadata=target_metadata, literal_binds=True, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = make_engine(_url())
    with engine.connect() as conn:
        context.configure(connection=conn, target_metadata=target_metadata, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
