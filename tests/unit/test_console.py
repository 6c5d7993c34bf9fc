"""The information-sharing officer's console: filters, CSV exports, the access log."""

from __future__ import annotations

import csv
import io

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from sharing.accounts import actor_for_user
from sharing.console import (
    DisclosureFilter,
    access_log_csv,
    access_log_for_person,
    disclosures_csv,
    list_disclosures,
)
from sharing.db import transaction
from sharing.errors import PermissionDenied
from sharing.models import Person, User
from sharing.permissions import Actor
from sharing.reads import read_items, visible_item_ids


def _actor(session: Session, email: str) -> Actor:
    return actor_for_user(session, session.exec(select(User).where(User.email == email)).one())


def test_disclosures_filter_and_export_as_csv(engine: Engine) -> None:
    with transaction(engine) as session:
        iso = _actor(session, "iso@eastbrook.demo")
        s115 = list_disclosures(session=session, actor=iso, filters=DisclosureFilter(basis="crime_and_disorder_s115"))
        everything = list_disclosures(session=session, actor=iso)
    assert s115 and all("s.115" in row.basis for row in s115)
    assert len(everything) > len(s115)
    parsed = list(csv.DictReader(io.StringIO(disclosures_csv(s115))))
    assert len(parsed) == len(s115)
    assert {r["recipient"] for r in parsed} >= {"Eastshire Police"}
    assert "status" not in parsed[0]  # the label is exported, not the code


def test_access_log_shows_who_looked_and_exports(engine: Engine) -> None:
    with transaction(engine) as session:
        police = _actor(session, "pc.jones@police.demo")
        read_items(session=session, actor=police, item_ids=visible_item_ids(session=session, actor=police),
                   via="console test")  # fmt: skip
    with transaction(engine) as session:
        iso = _actor(session, "iso@eastbrook.demo")
        carter = session.exec(select(Person).where(Person.family_name == "Carter")).one()
        assert carter.id is not None
        rows = access_log_for_person(session=session, actor=iso, person_id=carter.id)
    seen = [r for r in rows if r.via == "console test"]
    assert seen and all(r.who == "PC Taylor Jones" and r.organisation == "Eastshire Police" for r in seen)
    assert any(r.outcome == "partial" and "impact" in r.withheld for r in seen)
    exported = list(csv.DictReader(io.StringIO(access_log_csv(rows))))
    assert len(exported) == len(rows)


def test_a_panel_member_cannot_open_the_console(engine: Engine) -> None:
    with pytest.raises(PermissionDenied), transaction(engine) as session:
        list_disclosures(session=session, actor=_actor(session, "pc.jones@police.demo"))
