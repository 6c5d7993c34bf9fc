"""The suite's clock (``tests/clock/sitecustomize.py``): ``PORTAL_TEST_TODAY`` moves the
clock of the tests and of every Python process they start, only for a demo portal, and the
portal itself has no way to move its clock."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from tests.conftest import test_clock

ROOT = Path(__file__).resolve().parents[2]
CLOCK_DIR = ROOT / "tests" / "clock"
READ_CLOCK = "from sharing.db import utcnow; print(utcnow().isoformat())"


def _clock_in_child(setting: str, demo: str) -> subprocess.CompletedProcess[str]:
    path = f"{CLOCK_DIR}{os.pathsep}{ROOT}"
    env = dict(os.environ, PORTAL_TEST_CLOCK=setting, PORTAL_DEMO_MODE=demo, PYTHONPATH=path)
    return subprocess.run([sys.executable, "-c", READ_CLOCK], cwd=ROOT, env=env, capture_output=True, text=True)


def test_a_day_means_nine_in_the_morning_local_time_and_a_time_is_local() -> None:
    assert test_clock.instant_of("2027-03-28", "Europe/London") == datetime(2027, 3, 28, 8, 0, tzinfo=UTC)  # BST
    assert test_clock.instant_of("2026-12-31", "Europe/London") == datetime(2026, 12, 31, 9, 0, tzinfo=UTC)
    assert test_clock.instant_of("2027-10-31T00:30", "Europe/London") == datetime(2027, 10, 30, 23, 30, tzinfo=UTC)
    assert test_clock.instant_of("2027-10-31T00:55Z", "Europe/London") == datetime(2027, 10, 31, 0, 55, tzinfo=UTC)


def test_a_process_started_by_the_tests_reads_the_moved_clock_ticking_from_the_same_instant() -> None:
    target = datetime(2027, 10, 31, 0, 45, tzinfo=UTC)
    real_start = test_clock.real_time() - 60  # set a minute ago: the clock has moved on by a minute
    result = _clock_in_child(test_clock.clock_setting(target, real_epoch=real_start), demo="true")
    assert result.returncode == 0, result.stderr
    read = datetime.fromisoformat(result.stdout.strip())
    assert target + timedelta(seconds=59) <= read <= target + timedelta(seconds=120)


def test_only_a_demo_portal_may_have_its_clock_moved() -> None:
    result = _clock_in_child(test_clock.clock_setting(datetime(2030, 1, 1, tzinfo=UTC)), demo="false")
    assert result.returncode == 0, result.stderr
    assert "PORTAL_TEST_CLOCK is ignored" in result.stderr
    real_now = datetime.fromtimestamp(test_clock.real_time(), UTC)
    assert abs(datetime.fromisoformat(result.stdout.strip()) - real_now) < timedelta(minutes=5)


def test_the_portal_itself_has_no_clock_override() -> None:
    """A production build honours no clock setting: the override lives in the tests alone."""
    for package in ("portal", "panels", "sharing"):
        for path in (ROOT / package).rglob("*.py"):
            text = path.read_text(encoding="utf-8")
            for word in ("PORTAL_TEST_CLOCK", "PORTAL_TEST_TODAY", "time_machine", "freezegun"):
                assert word not in text, f"{path.relative_to(ROOT)} mentions {word}"
    assert not (ROOT / "sitecustomize.py").exists()
