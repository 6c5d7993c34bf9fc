"""The test suite's clock: run the suite, and every portal and scheduler it starts, "as if
today were" a chosen day.

``PORTAL_TEST_TODAY=2027-03-28`` (or ``2027-03-28T11:30``, a local time in
``PORTAL_TIMEZONE``; a bare date means 09:00) set for ``make test`` moves the clock of the pytest
process and of every Python process it starts.  ``tests/conftest.py`` turns the day into
``PORTAL_TEST_CLOCK`` ("<instant in UTC>@<real epoch seconds when it was set>") and puts this
folder first on ``PYTHONPATH``; Python imports ``sitecustomize`` at start-up, so a portal, its
workers or a scheduler process started by a test move their clocks to the same instant,
ticking from it, and agree with each other to the millisecond.

This file lives under ``tests/`` and is never installed: the portal itself has no clock
override (a test checks that ``portal/``, ``panels/`` and ``sharing/`` never read these
variables), and even here the clock is moved only for a demo portal (``PORTAL_DEMO_MODE`` true),
which is how the test harness starts every portal.
"""

from __future__ import annotations

import os
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

TODAY_VARIABLE = "PORTAL_TEST_TODAY"
CLOCK_VARIABLE = "PORTAL_TEST_CLOCK"
DEFAULT_TIME_OF_DAY = "09:00"
HERE = Path(__file__).resolve().parent

_started = False


def instant_of(today: str, timezone: str) -> datetime:
    """The instant (UTC) that ``today`` names: a date (at 09:00) or a local date and time."""
    text = today.strip()
    if "T" not in text and " " not in text:
        text = f"{text}T{DEFAULT_TIME_OF_DAY}"
    local = datetime.fromisoformat(text.replace(" ", "T"))
    if local.tzinfo is None:
        local = local.replace(tzinfo=ZoneInfo(timezone))
    return local.astimezone(UTC)


def real_time() -> float:
    """Seconds since the epoch by the real clock, even in a process whose clock is moved."""
    if "time_machine" in sys.modules:
        import time_machine

        if time_machine.escape_hatch.is_travelling():
            return time_machine.escape_hatch.time.time()
    return time.time()


def clock_setting(instant: datetime, *, real_epoch: float | None = None) -> str:
    """``PORTAL_TEST_CLOCK`` for a clock that reads ``instant`` at the real time ``real_epoch``."""
    return f"{instant.astimezone(UTC).isoformat()}@{real_time() if real_epoch is None else real_epoch!r}"


def moved_now(setting: str, *, real_now: float | None = None) -> datetime:
    """What a clock set by ``setting`` reads at the real time ``real_now`` (default: now)."""
    target, _, epoch = setting.rpartition("@")
    elapsed = (real_time() if real_now is None else real_now) - float(epoch)
    return datetime.fromisoformat(target) + timedelta(seconds=elapsed)


def start_from_environment() -> datetime | None:
    """Move this process's clock as ``PORTAL_TEST_CLOCK`` says (once); returns where it went."""
    global _started
    setting = os.environ.get(CLOCK_VARIABLE)
    if not setting or _started:
        return None
    if os.environ.get("PORTAL_DEMO_MODE", "").strip().lower() not in ("1", "true", "yes", "on"):
        print(f"{CLOCK_VARIABLE} is ignored: only a demo portal's clock may be moved.", file=sys.stderr)
        return None
    import time_machine

    destination = moved_now(setting)
    time_machine.travel(destination, tick=True).start()
    _started = True
    return destination


def prepare_environment() -> datetime | None:
    """For the pytest process: turn ``PORTAL_TEST_TODAY`` into ``PORTAL_TEST_CLOCK`` and this
    folder on ``PYTHONPATH`` (so what the tests start follows), then move this clock."""
    today = os.environ.get(TODAY_VARIABLE, "").strip()
    if today and not os.environ.get(CLOCK_VARIABLE):
        os.environ[CLOCK_VARIABLE] = clock_setting(
            instant_of(today, os.environ.get("PORTAL_TIMEZONE", "Europe/London"))
        )
    if os.environ.get(CLOCK_VARIABLE):
        paths = [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]
        if str(HERE) not in paths:
            os.environ["PYTHONPATH"] = os.pathsep.join([str(HERE), *paths])
    return start_from_environment()


start_from_environment()
