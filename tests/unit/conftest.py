"""Fixtures for the unit tests of ``sharing/`` and ``panels/``.

Addresses use ``example.com``: ``email_validator`` (and so ``create_user``) refuses the
special-use ``.test`` domain.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime, timedelta

import pytest
from sqlalchemy.engine import Engine

from sharing.db import transaction, utcnow
from sharing.directory import create_user
from sharing.models import Role
from sharing.permissions import SYSTEM_ACTOR, Actor
from tests.conftest import actor_of, unique
from tests.unit.helpers import PASSWORD


@pytest.fixture
def make_user(engine: Engine, make_organisation: Callable[..., int]) -> Callable[..., tuple[int, str]]:
    """Create a person; returns (user id, email).  Password defaults to ``helpers.PASSWORD``."""

    def _make(
        roles: tuple[Role, ...] = (Role.PANEL_MEMBER,),
        *,
        organisation_id: int | None = None,
        password: str | None = PASSWORD,
        is_demo: bool = False,
        full_name: str = "Test Person",
    ) -> tuple[int, str]:
        org_id = organisation_id or make_organisation()
        email = f"{unique('user')}@example.com"
        with transaction(engine) as session:
            user = create_user(
                session=session,
                actor=SYSTEM_ACTOR,
                email=email,
                full_name=full_name,
                organisation_id=org_id,
                roles=[str(r) for r in roles],
                password=password,
                is_demo=is_demo,
            )
        return user.id, email

    return _make


@pytest.fixture
def admin(engine: Engine, make_user: Callable[..., tuple[int, str]]) -> Actor:
    """A real administrator account (no password: it only acts through services)."""
    user_id, _ = make_user((Role.ADMINISTRATOR,), password=None)
    return actor_of(engine, user_id)


class Clock:
    """A controllable clock for ``sharing.accounts`` (sessions, tickets, TOTP, lockout)."""

    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Iterator[Clock]:
    fake = Clock(utcnow())
    monkeypatch.setattr("sharing.accounts.utcnow", fake)
    yield fake
