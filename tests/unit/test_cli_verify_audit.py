"""``portal-admin verify-audit``: proves the audit trail is whole, or says where it broke."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlmodel import Session, func, select

from portal.cli import main
from sharing.audit import AuditAction, Outcome, record_event
from sharing.db import make_engine, transaction
from sharing.models import AuditEvent
from tests.conftest import TEST_DATABASE_URL
from tests.unit.audit_triggers import separate_database, triggers_dropped

ROOT = Path(__file__).resolve().parents[2]


def test_an_intact_trail_is_reported_with_its_size(engine: Engine, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["verify-audit"]) == 0
    captured = capsys.readouterr()
    found = re.fullmatch(r"Audit trail intact: (\d+) events checked\.\n", captured.out)
    assert found, captured.out
    with Session(engine) as session:
        stored = session.exec(select(func.count()).select_from(AuditEvent)).one()
    assert int(found.group(1)) == stored > 0
    assert captured.err == ""


@pytest.fixture
def separate(tmp_path: Path) -> Iterator[tuple[str, Engine, list[int]]]:
    """A separate migrated database holding five events (URL, engine, event ids)."""
    with separate_database(TEST_DATABASE_URL, tmp_path) as url:
        engine = make_engine(url)
        with transaction(engine) as session:
            events = [
                record_event(session, action=AuditAction.SIGNOUT, outcome=Outcome.SUCCESS, actor_label=f"cli-{i}")
                for i in range(5)
            ]
        try:
            yield url, engine, [e.id for e in events if e.id is not None]
        finally:
            engine.dispose()


def portal_admin(url: str, *args: str) -> subprocess.CompletedProcess[str]:
    """Run ``portal-admin`` as an operator would, against the database at ``url``."""
    env = dict(os.environ, PORTAL_DATABASE_URL=url)
    return subprocess.run(
        [sys.executable, "-m", "portal.cli", *args], cwd=ROOT, env=env, capture_output=True, text=True
    )


def test_a_separate_intact_trail_passes(separate: tuple[str, Engine, list[int]]) -> None:
    url, _, _ = separate
    result = portal_admin(url, "verify-audit")
    assert result.returncode == 0, result.stderr
    assert result.stdout == "Audit trail intact: 5 events checked.\n"
    assert result.stderr == ""


def test_a_changed_event_is_named_on_stderr_with_exit_1(separate: tuple[str, Engine, list[int]]) -> None:
    url, engine, ids = separate
    with triggers_dropped(engine) as connection:
        connection.execute(text("UPDATE audit_event SET actor_label = 'someone else' WHERE id = :id"), {"id": ids[2]})
    result = portal_admin(url, "verify-audit")
    assert result.returncode == 1
    assert result.stdout == ""
    assert f"Audit trail broken at event {ids[2]}: this row was changed after it was written" in result.stderr


def test_a_removed_event_is_reported_at_the_one_after_it(separate: tuple[str, Engine, list[int]]) -> None:
    url, engine, ids = separate
    with triggers_dropped(engine) as connection:
        connection.execute(text("DELETE FROM audit_event WHERE id = :id"), {"id": ids[1]})
    result = portal_admin(url, "verify-audit")
    assert result.returncode == 1
    assert f"Audit trail broken at event {ids[2]}: a row is missing or out of order before this one" in result.stderr


def test_removed_newest_events_are_reported(separate: tuple[str, Engine, list[int]]) -> None:
    url, engine, ids = separate
    with triggers_dropped(engine) as connection:
        connection.execute(text("DELETE FROM audit_event WHERE id >= :id"), {"id": ids[3]})
    result = portal_admin(url, "verify-audit")
    assert result.returncode == 1
    assert result.stdout == ""
    assert "Audit trail broken after 3 intact events: the newest rows were removed." in result.stderr


def test_the_command_is_listed_in_the_help(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["--help"])
    assert exited.value.code == 0
    assert "verify-audit" in capsys.readouterr().out
