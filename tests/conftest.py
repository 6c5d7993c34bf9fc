"""Shared test set-up: one real database per test run, migrated with the committed Alembic
migrations and seeded with the demo partnership.

Set ``PORTAL_TEST_DATABASE_URL`` (e.g. ``postgresql+psycopg://postgres@127.0.0.1:5432/test``)
to run the suite against PostgreSQL; without it the suite uses a fresh SQLite file.
Tests do not share rows: each makes its own organisations and people with unique names.
"""

from __future__ import annotations

import importlib.util
import os
import secrets
import sys
import tempfile
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType

import pytest


def _load_test_clock() -> ModuleType:
    """The suite's clock (``tests/clock/sitecustomize.py``): already loaded when this process
    was started with it on ``PYTHONPATH``, otherwise loaded now."""
    here = Path(__file__).resolve().parent / "clock"
    loaded = sys.modules.get("sitecustomize")
    if loaded is not None and Path(getattr(loaded, "__file__", "") or "").resolve().parent == here:
        return loaded
    spec = importlib.util.spec_from_file_location("portal_test_clock", here / "sitecustomize.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["portal_test_clock"] = module
    spec.loader.exec_module(module)
    return module


_TMP = Path(tempfile.mkdtemp(prefix="portal-tests-"))
TEST_DATABASE_URL = os.environ.get("PORTAL_TEST_DATABASE_URL") or f"sqlite:///{(_TMP / 'portal.db').as_posix()}"

# Configure the portal for the tests before anything reads the settings.
os.environ["PORTAL_DATABASE_URL"] = TEST_DATABASE_URL
os.environ["PORTAL_DATA_DIR"] = str(_TMP / "data")
os.environ["PORTAL_SECRET_KEY"] = secrets.token_urlsafe(48)
os.environ["PORTAL_DEMO_MODE"] = "true"
os.environ["PORTAL_SCHEDULER_ENABLED"] = "false"  # tests run jobs themselves
os.environ.pop("PORTAL_REDIS_URL", None)

# ``PORTAL_TEST_TODAY=2027-03-28 make test`` runs everything as if today were that day
# (the clock moves only for a demo portal, which is what the tests configure above).
test_clock = _load_test_clock()
TEST_CLOCK_START = test_clock.prepare_environment()

from sqlalchemy import text  # noqa: E402
from sqlalchemy.engine import Engine  # noqa: E402
from sqlmodel import Session  # noqa: E402

from sharing.config import get_settings  # noqa: E402

get_settings.cache_clear()

from panels.demo import seed_demo  # noqa: E402
from sharing.db import get_engine, transaction  # noqa: E402
from sharing.directory import create_organisation  # noqa: E402
from sharing.migrations import upgrade_to_head  # noqa: E402
from sharing.models import OrganisationType  # noqa: E402
from sharing.permissions import SYSTEM_ACTOR, Actor  # noqa: E402


def _reset_database(url: str) -> None:
    if url.startswith("postgresql"):
        engine = get_engine(url)
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
        engine.dispose()
    else:
        path = Path(url.split("///", 1)[1])
        for suffix in ("", "-wal", "-shm"):
            Path(str(path) + suffix).unlink(missing_ok=True)


@pytest.fixture(scope="session")
def engine() -> Iterator[Engine]:
    """The migrated, demo-seeded test database."""
    _reset_database(TEST_DATABASE_URL)
    upgrade_to_head(TEST_DATABASE_URL)
    eng = get_engine(TEST_DATABASE_URL)
    with transaction(eng) as session:
        seed_demo(session)
    yield eng


@pytest.fixture
def db(engine: Engine) -> Iterator[Session]:
    """A session for reading what services wrote (use ``transaction()`` to act)."""
    with Session(engine, expire_on_commit=False) as session:
        yield session


def python_path(*first: Path) -> str:
    """``PYTHONPATH`` for a Python process a test starts: ``first``, then what this process
    was given (which carries the suite's clock when ``PORTAL_TEST_TODAY`` moved it)."""
    given = [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]
    return os.pathsep.join([*(str(p) for p in first), *given])


def unique(prefix: str = "t") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


@pytest.fixture
def make_organisation(engine: Engine) -> Callable[..., int]:
    def _make(name: str | None = None, type: OrganisationType = OrganisationType.POLICE) -> int:
        with transaction(engine) as session:
            org = create_organisation(session=session, actor=SYSTEM_ACTOR, name=name or unique("Org"), type=str(type))
        return org.id

    return _make


def actor_of(engine: Engine, user_id: int) -> Actor:
    from sharing.accounts import actor_for_user
    from sharing.models import User

    with Session(engine) as session:
        user = session.get(User, user_id)
        assert user is not None
        return actor_for_user(session, user)
