"""How the scheduler is started: with the app (unless switched off), or from the command line."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import Engine

from portal.background import run_scheduler
from portal.cli import main
from sharing.config import get_settings
from tests.conftest import TEST_DATABASE_URL, python_path

ROOT = Path(__file__).resolve().parents[2]


class FakeHandle:
    stopped = False

    def stop(self) -> None:
        self.stopped = True


def _run_app_lifetime() -> None:
    async def lifetime() -> None:
        async with run_scheduler():
            pass

    asyncio.run(lifetime())


def test_the_app_starts_the_scheduler_and_stops_it_on_shutdown(monkeypatch: pytest.MonkeyPatch) -> None:
    handle = FakeHandle()
    monkeypatch.setattr(
        "portal.background.get_settings", lambda: get_settings().model_copy(update={"scheduler_enabled": True})
    )
    monkeypatch.setattr("panels.scheduler.start_scheduler", lambda: handle)
    _run_app_lifetime()
    assert handle.stopped


def test_switched_off_the_app_leaves_the_scheduler_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(**_: Any) -> None:
        raise AssertionError("the scheduler must not start")

    assert get_settings().scheduler_enabled is False  # the tests switch it off (tests/conftest.py)
    monkeypatch.setattr("panels.scheduler.start_scheduler", refuse)
    _run_app_lifetime()


def test_run_job_from_the_command_line(engine: Engine, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run-job", "notification_digest"]) == 0
    assert capsys.readouterr().out.startswith("notification_digest: ")
    assert main(["run-job", "no_such_job"]) != 0
    assert "no job called 'no_such_job'" in capsys.readouterr().err


def test_the_scheduler_command_runs_in_the_foreground_until_stopped(engine: Engine) -> None:
    env = dict(os.environ)
    env.update(
        {
            "PYTHONPATH": python_path(ROOT),
            "PORTAL_DATABASE_URL": TEST_DATABASE_URL,
            "PORTAL_SCHEDULER_LOCK_NAME": f"cli-lock-{uuid.uuid4().hex[:8]}",
        }
    )
    process = subprocess.Popen(
        [sys.executable, "-m", "portal.cli", "scheduler"], env=env, cwd=ROOT, stdout=subprocess.PIPE, text=True
    )
    try:
        assert process.stdout is not None
        assert process.stdout.readline().startswith("Scheduler started (")
        process.send_signal(signal.SIGTERM)
        out, _ = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0
    assert "Scheduler stopped." in out
