"""Several scheduler processes against one database: exactly one runs the jobs, another takes
over when it is killed, and a run killed mid-job is done again with its effect kept once.

They run against the test database: SQLite by default (the lease in ``scheduler_lock``), and
PostgreSQL's advisory lock when ``PORTAL_TEST_DATABASE_URL`` names a PostgreSQL database:

    createdb portal_actions_dev   # or CREATE DATABASE through psql/psycopg
    PORTAL_TEST_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/portal_actions_dev \\
        python -m pytest tests/unit/test_scheduler_processes.py -q

(The suite drops and recreates that database's ``public`` schema: give it one of its own.)
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from panels.action_models import JobRun, Reminder
from panels.scheduler import AdvisoryLockElector
from sharing.db import utcnow
from tests.conftest import TEST_DATABASE_URL, python_path

ROOT = Path(__file__).resolve().parents[2]
WORKER = Path(__file__).with_name("scheduler_worker.py")
ON_POSTGRES = TEST_DATABASE_URL.startswith("postgresql")
LEASE_SECONDS = 3


class Workers:
    """Scheduler processes started for one test, all stopped (or killed) at its end."""

    def __init__(self, job: str, lock: str) -> None:
        self.job = job
        self.lock = lock
        self.processes: dict[str, subprocess.Popen[bytes]] = {}

    def start(self, holder: str, **probe: str) -> subprocess.Popen[bytes]:
        env = dict(os.environ)
        env.update(
            {
                "PYTHONPATH": python_path(ROOT),
                "PORTAL_DATABASE_URL": TEST_DATABASE_URL,
                "PORTAL_SCHEDULER_LOCK_NAME": self.lock,
                "PORTAL_SCHEDULER_LEASE_SECONDS": str(LEASE_SECONDS),
                "PROBE_JOB": self.job,
                "PROBE_HOLDER": holder,
                **{f"PROBE_{k.upper()}": v for k, v in probe.items()},
            }
        )
        process = subprocess.Popen([sys.executable, str(WORKER)], env=env, cwd=ROOT, stdout=subprocess.DEVNULL)
        self.processes[holder] = process
        return process

    def kill(self, holder: str) -> None:
        process = self.processes[holder]
        process.send_signal(signal.SIGKILL)
        process.wait(10)

    def stop_all(self) -> None:
        for process in self.processes.values():
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in self.processes.values():
            try:
                process.wait(20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(5)


@pytest.fixture
def workers(engine: Engine) -> Iterator[Workers]:
    tag = uuid.uuid4().hex[:8]
    group = Workers(job=f"probe_{tag}", lock=f"test-lock-{tag}")
    try:
        yield group
    finally:
        group.stop_all()


def runs(engine: Engine, job: str) -> list[JobRun]:
    with Session(engine) as session:
        return list(session.exec(select(JobRun).where(JobRun.job_id == job).order_by(col(JobRun.id))))


def effects_per_slot(engine: Engine, job: str) -> Counter[str]:
    with Session(engine) as session:
        keys = session.exec(select(Reminder.dedupe_key).where(col(Reminder.dedupe_key).startswith(job + ":"))).all()
    return Counter(key.split(":", 1)[1].rsplit(":", 1)[0] for key in keys)


def wait_for(condition: Callable[[], bool], seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting")
        time.sleep(0.1)


def succeeded(engine: Engine, job: str) -> list[JobRun]:
    return [r for r in runs(engine, job) if r.outcome == "succeeded"]


def test_three_schedulers_run_each_due_job_exactly_once(engine: Engine, workers: Workers) -> None:
    for name in ("a", "b", "c"):
        workers.start(name)
    wait_for(lambda: len(succeeded(engine, workers.job)) >= 5, 30)
    workers.stop_all()
    done = succeeded(engine, workers.job)
    assert len({r.holder_id for r in done}) == 1  # one leader, nobody else ran a job
    slots = Counter(r.slot for r in done)
    assert all(count == 1 for count in slots.values())
    per_slot = effects_per_slot(engine, workers.job)
    assert per_slot == Counter(dict.fromkeys(slots, 1))  # each slot's effect exactly once
    assert all(r.outcome != "running" for r in runs(engine, workers.job))


def test_another_scheduler_takes_over_when_the_leader_is_killed(engine: Engine, workers: Workers) -> None:
    workers.start("first")
    wait_for(lambda: bool(succeeded(engine, workers.job)), 30)
    workers.start("second")
    workers.start("third")
    time.sleep(1.5)
    assert {r.holder_id for r in succeeded(engine, workers.job)} == {"first"}
    killed_at = utcnow()
    workers.kill("first")
    wait_for(lambda: any(r.holder_id != "first" for r in succeeded(engine, workers.job)), LEASE_SECONDS + 20)
    time.sleep(1.5)
    workers.stop_all()
    done = succeeded(engine, workers.job)
    after = {r.holder_id for r in done if r.started_at > killed_at}
    assert len(after) == 1 and "first" not in after  # one successor
    slots = Counter(r.slot for r in done)
    assert all(count == 1 for count in slots.values())
    assert all(count == 1 for count in effects_per_slot(engine, workers.job).values())


def test_a_job_killed_mid_run_is_done_again_by_the_next_leader_with_its_effect_once(
    engine: Engine, workers: Workers, tmp_path: Path
) -> None:
    hang = tmp_path / "hanging"
    workers.start("crashing", mode="once", hang_file=str(hang))
    wait_for(hang.exists, 30)  # the run wrote its effect and has not committed
    workers.kill("crashing")
    assert effects_per_slot(engine, workers.job) == Counter()  # the crash kept nothing
    workers.start("restarted", mode="once")
    wait_for(lambda: bool(succeeded(engine, workers.job)), LEASE_SECONDS + 20)
    time.sleep(2.5)  # it keeps firing every second: the completed slot never runs again
    workers.stop_all()
    assert effects_per_slot(engine, workers.job) == Counter({"once": 1})
    assert [(r.holder_id, r.outcome) for r in runs(engine, workers.job)] == [
        ("crashing", "interrupted"),
        ("restarted", "succeeded"),
    ]


@pytest.mark.skipif(not ON_POSTGRES, reason="PostgreSQL advisory locks: set PORTAL_TEST_DATABASE_URL")
def test_the_advisory_lock_is_held_by_one_and_freed_when_its_connection_ends(engine: Engine) -> None:
    name = f"test-lock-{uuid.uuid4().hex[:8]}"
    first = AdvisoryLockElector(engine, name, "first", lease_seconds=30)
    second = AdvisoryLockElector(engine, name, "second", lease_seconds=30)
    try:
        now = utcnow()
        assert first.try_acquire(now)
        assert not second.try_acquire(now)
        assert first.renew(now) and first.holds(now)
        first._drop_connection()  # its session ends, as when its process dies
        assert not first.renew(now)
        # The server ends the dropped session (and frees its locks) asynchronously: poll briefly.
        deadline = time.monotonic() + 10
        while not second.try_acquire(now) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert second.holds(now)
    finally:
        first.release()
        second.release()
