"""The scheduler in one process: the lease election on the database, running a job once per
slot (and again after a crash, without doubling its effect), the built-in jobs, and
APScheduler started and stopped by the handle."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from apscheduler.triggers.cron import CronTrigger
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from panels import scheduler
from panels.action_models import ApschedulerJob, JobRun, Reminder, SchedulerLock
from panels.scheduler import (
    JOBS,
    JobSpec,
    LeaseElector,
    day_slot,
    list_job_runs,
    minute_slot,
    run_job,
    scheduler_status,
    start_scheduler,
    week_slot,
)
from sharing.config import get_settings
from sharing.db import transaction, utcnow
from sharing.errors import PermissionDenied
from sharing.permissions import Actor
from tests.unit.case_helpers import CaseWorld, case_world
from tests.unit.helpers import audit_events, last_audit_id

__all__ = ["case_world"]

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


# --- Leader election on the database ------------------------------------------------------------


def test_two_electors_one_wins_and_the_other_takes_over_when_the_lease_runs_out(engine: Engine) -> None:
    name = f"lock-{uuid.uuid4().hex[:8]}"
    first = LeaseElector(engine, name, "first", lease_seconds=30)
    second = LeaseElector(engine, name, "second", lease_seconds=30)
    assert first.try_acquire(T0)
    assert not second.try_acquire(T0)
    assert first.holds(T0 + timedelta(seconds=29)) and not second.holds(T0)
    assert first.renew(T0 + timedelta(seconds=20))  # lease now until T0 + 50 s
    assert not second.try_acquire(T0 + timedelta(seconds=49))
    # The first stops renewing (its process hangs or died): the lease runs out.
    assert not first.holds(T0 + timedelta(seconds=50))
    assert second.try_acquire(T0 + timedelta(seconds=51))
    assert not first.renew(T0 + timedelta(seconds=52))  # it finds out it lost the lock
    assert not first.holds(T0 + timedelta(seconds=52))
    with Session(engine) as session:
        row = session.get(SchedulerLock, name)
        assert row is not None and row.holder_id == "second"
        assert row.lease_until == T0 + timedelta(seconds=81)
    # A holder that stops cleanly lets the other take over at once.
    second.release()
    assert first.try_acquire(utcnow())


def test_a_holder_takes_its_own_lock_again(engine: Engine) -> None:
    name = f"lock-{uuid.uuid4().hex[:8]}"
    only = LeaseElector(engine, name, "only", lease_seconds=30)
    assert only.try_acquire(T0)
    assert only.try_acquire(T0 + timedelta(seconds=1))


# --- Running a job once per slot -----------------------------------------------------------------


@pytest.fixture
def probe() -> Iterator[dict[str, Any]]:
    """A job whose effect is a row per run (no dedupe of its own), to count runs by their effects."""
    state: dict[str, Any] = {"fail": False, "before_commit": None}
    job_id = f"probe_{uuid.uuid4().hex[:8]}"

    def run(*, session: Session, now: datetime) -> dict[str, Any]:
        if state["before_commit"]:
            state["before_commit"]()
        session.add(Reminder(dedupe_key=f"{job_id}:{now.isoformat()}:{uuid.uuid4().hex}", kind="probe"))
        session.flush()
        if state["fail"]:
            raise RuntimeError("the probe broke")
        return {"effects": 1}

    JOBS[job_id] = JobSpec(
        id=job_id, name="Probe", trigger=lambda s: CronTrigger(second="*"), slot=minute_slot(lambda s: 15), run=run
    )
    state["id"] = job_id
    yield state
    JOBS.pop(job_id, None)


def effects(engine: Engine, job_id: str) -> int:
    with Session(engine) as session:
        return len(session.exec(select(Reminder.id).where(col(Reminder.dedupe_key).startswith(job_id + ":"))).all())


def runs(engine: Engine, job_id: str) -> list[JobRun]:
    with Session(engine) as session:
        return list(session.exec(select(JobRun).where(JobRun.job_id == job_id).order_by(col(JobRun.id))))


def test_a_slot_runs_once_however_often_it_is_asked(engine: Engine, probe: dict[str, Any]) -> None:
    job = probe["id"]
    since = last_audit_id(engine)
    first = run_job(job, engine=engine, now=T0)
    assert first is not None and first.outcome == "succeeded" and first.slot == "2026-03-02T09:00"
    assert run_job(job, engine=engine, now=T0 + timedelta(minutes=14, seconds=59)) is None
    assert effects(engine, job) == 1
    assert run_job(job, engine=engine, now=T0 + timedelta(minutes=15)) is not None  # the next quarter-hour
    assert effects(engine, job) == 2
    done = audit_events(engine, since=since, action="scheduler:job:completed", subject_id=job)
    assert [e.detail["slot"] for e in done] == ["2026-03-02T09:00", "2026-03-02T09:15"]


def test_a_failed_run_keeps_nothing_is_recorded_and_the_slot_can_run_again(
    engine: Engine, probe: dict[str, Any]
) -> None:
    job = probe["id"]
    probe["fail"] = True
    since = last_audit_id(engine)
    failed = run_job(job, engine=engine, now=T0)
    assert failed is not None and failed.outcome == "failed" and "the probe broke" in failed.error
    assert effects(engine, job) == 0
    assert audit_events(engine, since=since, action="scheduler:job:failed", subject_id=job)
    probe["fail"] = False
    again = run_job(job, engine=engine, now=T0)
    assert again is not None and again.outcome == "succeeded"
    assert effects(engine, job) == 1
    assert [r.outcome for r in runs(engine, job)] == ["failed", "succeeded"]


def test_a_run_cut_short_by_a_dead_process_is_marked_interrupted_and_done_again(
    engine: Engine, probe: dict[str, Any]
) -> None:
    job = probe["id"]
    with transaction(engine) as session:  # what a process killed mid-job leaves behind
        session.add(JobRun(job_id=job, slot="2026-03-02T09:00", holder_id="dead-process", outcome="running"))
    done = run_job(job, engine=engine, now=T0, holder_id="new-leader")
    assert done is not None and done.outcome == "succeeded"
    assert [(r.holder_id, r.outcome) for r in runs(engine, job)] == [
        ("dead-process", "interrupted"),
        ("new-leader", "succeeded"),
    ]
    assert effects(engine, job) == 1


def test_a_second_run_of_a_slot_that_another_run_completed_first_keeps_nothing(
    engine: Engine, probe: dict[str, Any]
) -> None:
    job = probe["id"]

    def another_process_finishes_first() -> None:
        with transaction(engine) as session:
            session.add(
                JobRun(job_id=job, slot="2026-03-02T09:00", completed_slot="2026-03-02T09:00", holder_id="other",
                       outcome="succeeded")
            )  # fmt: skip

    probe["before_commit"] = another_process_finishes_first
    result = run_job(job, engine=engine, now=T0)
    assert result is not None and result.outcome == "skipped"
    assert effects(engine, job) == 0


def test_the_slots() -> None:
    settings = get_settings()
    at = datetime(2026, 3, 29, 0, 44, 59, tzinfo=UTC)  # the night the clocks go forward
    assert minute_slot(lambda s: 15)(at, settings) == "2026-03-29T00:30"
    assert minute_slot(lambda s: 1)(at, settings) == "2026-03-29T00:44"
    assert day_slot(datetime(2026, 6, 1, 23, 30, tzinfo=UTC), settings) == "2026-06-02"  # London summer time
    assert week_slot(datetime(2026, 1, 1, 12, tzinfo=UTC), settings) == "2026-W01"


def test_the_built_in_jobs_run_through_the_runner(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(
        "panels.notifications.get_settings", lambda: get_settings().model_copy(update={"smtp_host": None})
    )
    now = datetime(2031, 1, 6, 7, 0, tzinfo=UTC)  # a slot no other test uses
    for job_id in ("reminders_sweep", "email_outbox", "notification_digest", "manager_digest"):
        result = run_job(job_id, engine=engine, now=now)
        assert result is not None and result.outcome == "succeeded", (job_id, result)
        assert run_job(job_id, engine=engine, now=now) is None
    assert set(runs(engine, "email_outbox")[-1].result) == {"sent", "failed", "waiting", "released"}


def test_only_administrators_see_the_scheduler(engine: Engine, admin: Actor, case_world: CaseWorld) -> None:
    run_job("notification_digest", engine=engine, now=datetime(2031, 2, 3, 7, tzinfo=UTC))
    with Session(engine) as session:
        status = scheduler_status(session=session, actor=admin)
        assert {j.id for j in status.jobs} >= {
            "reminders_sweep",
            "email_outbox",
            "notification_digest",
            "manager_digest",
        }
        digest = next(j for j in status.jobs if j.id == "notification_digest")
        assert digest.last_run is not None and digest.last_run.outcome == "succeeded"
        assert list_job_runs(session=session, actor=admin, job_id="notification_digest")[0].outcome == "succeeded"
        with pytest.raises(PermissionDenied):
            scheduler_status(session=session, actor=case_world.officer)
        with pytest.raises(PermissionDenied):
            list_job_runs(session=session, actor=case_world.manager)


# --- The handle: APScheduler started by the leader ----------------------------------------------


def test_the_leader_runs_due_jobs_through_apscheduler_and_stops_cleanly(engine: Engine, probe: dict[str, Any]) -> None:
    job = probe["id"]
    # Every second, one slot per second: the first run comes within a second or two.
    JOBS[job] = JobSpec(
        id=job, name="Probe", trigger=lambda s: CronTrigger(second="*"),
        slot=lambda now, s: now.strftime("%Y-%m-%dT%H:%M:%S"), run=JOBS[job].run,
    )  # fmt: skip
    settings = get_settings().model_copy(
        update={"scheduler_lock_name": f"lock-{uuid.uuid4().hex[:8]}", "scheduler_lease_seconds": 5}
    )
    since = last_audit_id(engine)
    handle = start_scheduler(engine=engine, settings=settings, holder_id="test-leader", poll_seconds=0.2)
    try:
        assert handle.became_leader.wait(10)
        with pytest.raises(RuntimeError):
            start_scheduler(engine=engine, settings=settings)
        deadline = utcnow() + timedelta(seconds=10)
        while not [r for r in runs(engine, job) if r.outcome == "succeeded"] and utcnow() < deadline:
            handle._stop.wait(0.1)
        with Session(engine) as session:
            stored = {j.id for j in session.exec(select(ApschedulerJob)).all()}
            lock = session.get(SchedulerLock, settings.scheduler_lock_name)
        assert job in stored and "reminders_sweep" in stored
        assert lock is not None and lock.holder_id == "test-leader"
    finally:
        handle.stop()
    succeeded = [r for r in runs(engine, job) if r.outcome == "succeeded"]
    assert succeeded and all(r.holder_id == "test-leader" for r in succeeded)
    assert len({r.slot for r in succeeded}) == len(succeeded)  # no slot twice
    assert effects(engine, job) == len(succeeded)
    actions = [e.action for e in audit_events(engine, since=since, subject_type="scheduler")]
    assert actions[0] == "scheduler:leader:acquired" and actions[-1] == "scheduler:leader:released"
    with Session(engine) as session:
        lock = session.get(SchedulerLock, settings.scheduler_lock_name)
        assert lock is not None and lock.lease_until < utcnow()  # released for the next process
    assert scheduler._ACTIVE is None
    assert not handle.is_leader()
