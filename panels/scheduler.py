"""The scheduled jobs and the one process that runs them.

Jobs
    ``reminders_sweep`` (every ``Settings.reminder_sweep_minutes``), ``email_outbox`` (every
    minute), ``notification_digest`` (daily at ``Settings.digest_hour``) and ``manager_digest``
    (Mondays at the same hour).  Each calls services with ``SYSTEM_ACTOR``; other modules add
    jobs with :func:`register_job`.

Exactly one runner
    Reflex runs lifespan tasks once per worker, so every worker (and any ``portal-admin
    scheduler`` process) starts a :class:`SchedulerHandle`, and they elect a leader:

    * PostgreSQL: ``pg_try_advisory_lock`` on a connection the leader holds for as long as
      it leads (:class:`AdvisoryLockElector`).  When the leader's process dies its
      connection closes and PostgreSQL releases the lock at once.
    * SQLite: the ``scheduler_lock`` row is a lease (:class:`LeaseElector`): the holder
      renews ``lease_until`` every third of ``Settings.scheduler_lease_seconds``; another
      process takes over once the lease has run out.

    Only the leader runs APScheduler (a ``BackgroundScheduler`` whose jobs live in the
    database, ``apscheduler_jobs``, so a run missed while nobody led is caught up once by the
    next leader).  The others poll and take over when the leader stops renewing.

Exactly-once effects
    Leadership alone cannot promise it (a leader can stall past its lease, or lose its
    connection mid-job), so each run also names its *slot* (the quarter-hour of a sweep, the
    day of a digest) and :func:`run_job` marks ``completed_slot`` in the same transaction as
    the job's effects.  That column is unique per job: a second run of a slot, wherever it
    runs, fails to commit and leaves nothing.  A run cut short (its process killed) commits
    nothing, its row shows ``interrupted``, and the next run of the slot does the work.  The
    job bodies are idempotent besides.  Two jobs commit in steps of their own instead: the
    reminders sweep (a transaction per step, so one failing clock does not hold up the
    others; each reminder exists once by its unique dedupe key) and the outbox sender (see
    ``panels.notifications`` for its at-least-once delivery).

Misfires
    ``coalesce=True`` everywhere: runs missed while no process led become one run.  The
    sweep and the outbox run however late (``misfire_grace_time=None``); the daily digest
    within 12 hours and the weekly digest within 2 days of their time, or not at all (the
    notifications wait for the next one: nothing is lost).
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import socket
import threading
import traceback
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from sqlalchemy import CursorResult, func, text, update
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.pool import NullPool
from sqlmodel import Session, col, create_engine, select

from panels.action_models import ApschedulerJob, JobOutcome, JobRun, SchedulerLock
from panels.notifications import local_date, queue_daily_digests, send_outbox
from panels.reminders import queue_manager_digests, sweep_reminders
from sharing.access import require
from sharing.audit import AuditAction, Outcome, record_event
from sharing.config import Settings, get_settings
from sharing.db import get_engine, transaction, utcnow
from sharing.permissions import SYSTEM_ACTOR, Actor, Permission

log = logging.getLogger(__name__)

ENTRY_POINT = "panels.scheduler:execute_scheduled_job"


# --- Jobs ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class JobSpec:
    """A scheduled job.  ``run`` is called as ``run(session=, now=)`` inside one transaction
    (``transactional``), or as ``run(engine=, now=)`` to manage its own transactions.  It
    returns counts of what it did (recorded with the run)."""

    id: str
    name: str
    trigger: Callable[[Settings], BaseTrigger]
    slot: Callable[[datetime, Settings], str]
    run: Callable[..., dict[str, Any]]
    transactional: bool = True
    coalesce: bool = True
    misfire_grace_time: int | None = None


JOBS: dict[str, JobSpec] = {}


def register_job(spec: JobSpec) -> JobSpec:
    """Add (or replace) a job; the leader schedules it the next time it takes the lead."""
    JOBS[spec.id] = spec
    return spec


def _zone(settings: Settings) -> ZoneInfo:
    return ZoneInfo(settings.timezone)


def minute_slot(every: Callable[[Settings], int]) -> Callable[[datetime, Settings], str]:
    """Slots of ``every(settings)`` minutes, aligned to the hour (in UTC)."""

    def slot(now: datetime, settings: Settings) -> str:
        minutes = every(settings)
        moment = now.astimezone(ZoneInfo("UTC"))
        return moment.replace(minute=moment.minute - moment.minute % minutes, second=0, microsecond=0).strftime(
            "%Y-%m-%dT%H:%M"
        )

    return slot


def day_slot(now: datetime, settings: Settings) -> str:
    return local_date(now, settings).isoformat()


def week_slot(now: datetime, settings: Settings) -> str:
    year, week, _ = local_date(now, settings).isocalendar()
    return f"{year}-W{week:02d}"


def _sweep(*, engine: Engine, now: datetime) -> dict[str, Any]:
    return sweep_reminders(engine=engine, now=now)


def _outbox(*, engine: Engine, now: datetime) -> dict[str, Any]:
    return send_outbox(engine=engine, now=now, sender_id=f"{socket.gethostname()}:{os.getpid()}")


def _digest(*, session: Session, now: datetime) -> dict[str, Any]:
    return queue_daily_digests(session=session, now=now)


def _managers(*, session: Session, now: datetime) -> dict[str, Any]:
    return queue_manager_digests(session=session, now=now)


register_job(
    JobSpec(
        id="reminders_sweep",
        name="Reminders sweep",
        trigger=lambda s: CronTrigger(minute=f"*/{s.reminder_sweep_minutes}", timezone=_zone(s)),
        slot=minute_slot(lambda s: s.reminder_sweep_minutes),
        run=_sweep,
        transactional=False,  # a transaction per step; reminders are idempotent by their keys
    )
)
register_job(
    JobSpec(
        id="email_outbox",
        name="Send email",
        trigger=lambda s: CronTrigger(minute="*", timezone=_zone(s)),
        slot=minute_slot(lambda s: 1),
        run=_outbox,
        transactional=False,
    )
)
register_job(
    JobSpec(
        id="notification_digest",
        name="Daily notification digest",
        trigger=lambda s: CronTrigger(hour=s.digest_hour, minute=0, timezone=_zone(s)),
        slot=day_slot,
        run=_digest,
        misfire_grace_time=12 * 3600,
    )
)
register_job(
    JobSpec(
        id="manager_digest",
        name="Weekly overdue actions digest for managers",
        trigger=lambda s: CronTrigger(day_of_week="mon", hour=s.digest_hour, minute=5, timezone=_zone(s)),
        slot=week_slot,
        run=_managers,
        misfire_grace_time=2 * 24 * 3600,
    )
)


# --- Running one job -------------------------------------------------------------------------


def new_holder_id() -> str:
    """Who this process is in the election: made when it starts, not at import, so workers
    forked from one parent never share it (sharing it would let each take the lease)."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


@dataclass(frozen=True)
class JobRunRead:
    id: int
    job_id: str
    slot: str
    holder_id: str
    started_at: datetime
    finished_at: datetime | None
    outcome: str
    outcome_label: str
    result: dict[str, Any]
    error: str


def _run_read(run: JobRun) -> JobRunRead:
    return JobRunRead(
        id=run.id or 0,
        job_id=run.job_id,
        slot=run.slot,
        holder_id=run.holder_id,
        started_at=run.started_at,
        finished_at=run.finished_at,
        outcome=run.outcome,
        outcome_label=JobOutcome(run.outcome).label,
        result=dict(run.result),
        error=run.error,
    )


def _slot_done(session: Session, job_id: str, slot: str) -> bool:
    query = select(JobRun.id).where(JobRun.job_id == job_id, JobRun.completed_slot == slot)
    return session.exec(query).first() is not None


def run_job(
    job_id: str, *, engine: Engine | None = None, now: datetime | None = None, holder_id: str | None = None
) -> JobRunRead | None:
    """Run a job for the slot ``now`` falls in, unless that slot's run already completed
    (then ``None``).  The run is recorded whatever happens; a failure is audited and does
    not raise."""
    spec = JOBS[job_id]
    engine = engine or get_engine()
    settings = get_settings()
    now = now or utcnow()
    holder = holder_id or new_holder_id()
    slot = spec.slot(now, settings)
    with transaction(engine) as session:
        if _slot_done(session, job_id, slot):
            return None
        # A run of this slot left "running" by another process was cut short: it kept nothing.
        for stale in session.exec(
            select(JobRun).where(
                JobRun.job_id == job_id,
                JobRun.slot == slot,
                JobRun.outcome == JobOutcome.RUNNING,
                JobRun.holder_id != holder,
            )
        ):
            stale.outcome = JobOutcome.INTERRUPTED
            stale.finished_at = utcnow()
            stale.error = "Its process stopped before the run finished; nothing of it was kept."
            session.add(stale)
        run = JobRun(job_id=job_id, slot=slot, holder_id=holder, started_at=utcnow(), outcome=JobOutcome.RUNNING)
        session.add(run)
        session.flush()
        run_id = run.id
    assert run_id is not None
    try:
        if spec.transactional:
            with transaction(engine) as session:
                result = spec.run(session=session, now=now)
                _complete(session, run_id, slot, result)
        else:
            result = spec.run(engine=engine, now=now)
            with transaction(engine) as session:
                _complete(session, run_id, slot, result)
    except Exception as error:
        _fail(engine, run_id, job_id, slot, error)
    with Session(engine) as session:
        finished = session.get(JobRun, run_id)
        assert finished is not None
        return _run_read(finished)


def _complete(session: Session, run_id: int, slot: str, result: dict[str, Any]) -> None:
    run = session.get(JobRun, run_id)
    assert run is not None
    run.outcome = JobOutcome.SUCCEEDED
    run.completed_slot = slot  # unique per job: a second run of this slot cannot commit
    run.finished_at = utcnow()
    run.result = result
    session.add(run)
    session.flush()
    if any(result.values()):
        record_event(
            session, action=AuditAction.JOB_COMPLETED, outcome=Outcome.SUCCESS, actor=SYSTEM_ACTOR,
            subject_type="scheduler_job", subject_id=run.job_id, detail={"slot": slot, "result": result, "run": run_id},
        )  # fmt: skip


def _fail(engine: Engine, run_id: int, job_id: str, slot: str, error: Exception) -> None:
    with transaction(engine) as session:
        run = session.get(JobRun, run_id)
        assert run is not None
        run.finished_at = utcnow()
        if isinstance(error, IntegrityError) and _slot_done(session, job_id, slot):
            run.outcome = JobOutcome.SKIPPED
            run.error = "Another run completed this slot first; this one kept nothing."
        else:
            run.outcome = JobOutcome.FAILED
            run.error = "".join(traceback.format_exception_only(error)).strip()[:4000]
            record_event(
                session, action=AuditAction.JOB_FAILED, outcome=Outcome.FAILURE, actor=SYSTEM_ACTOR,
                subject_type="scheduler_job", subject_id=job_id, reason=run.error[:500],
                detail={"slot": slot, "run": run_id},
            )  # fmt: skip
        session.add(run)
    if run.outcome == JobOutcome.FAILED:
        log.error("Scheduled job %s (%s) failed", job_id, slot, exc_info=error)


def execute_scheduled_job(job_id: str) -> None:
    """What APScheduler calls (by this textual reference, stored with the job)."""
    handle = _ACTIVE
    if handle is None or not handle.is_leader():
        log.info("Not running %s: this process does not lead the scheduler", job_id)
        return
    if job_id not in JOBS:
        log.warning("No job %s in this process", job_id)
        return
    run_job(job_id, engine=handle.engine, holder_id=handle.holder_id)


# --- Leader election -------------------------------------------------------------------------


class Elector(Protocol):
    holder_id: str

    def try_acquire(self, now: datetime) -> bool: ...

    def renew(self, now: datetime) -> bool: ...

    def holds(self, now: datetime) -> bool: ...

    def release(self) -> None: ...


def _rowcount(result: Any) -> int:
    return int(result.rowcount or 0) if isinstance(result, CursorResult) else 0


class LeaseElector:
    """A lease in the ``scheduler_lock`` row (SQLite, or any database)."""

    def __init__(self, engine: Engine, name: str, holder_id: str, lease_seconds: int) -> None:
        self.engine = engine
        self.name = name
        self.holder_id = holder_id
        self.lease = timedelta(seconds=lease_seconds)
        self._valid_until: datetime | None = None

    def try_acquire(self, now: datetime) -> bool:
        """Take the lock if nobody holds it or the holder's lease has run out."""
        try:
            with transaction(self.engine) as session:
                taken = _rowcount(
                    session.execute(
                        update(SchedulerLock)
                        .where(
                            col(SchedulerLock.name) == self.name,
                            (col(SchedulerLock.holder_id) == self.holder_id) | (col(SchedulerLock.lease_until) < now),
                        )
                        .values(
                            holder_id=self.holder_id, lease_until=now + self.lease, acquired_at=now, heartbeat_at=now
                        )
                    )
                )
                if not taken and session.get(SchedulerLock, self.name) is None:
                    session.add(
                        SchedulerLock(
                            name=self.name, holder_id=self.holder_id, lease_until=now + self.lease,
                            acquired_at=now, heartbeat_at=now,
                        )
                    )  # fmt: skip
                    session.flush()
                    taken = 1
        except IntegrityError:  # another process inserted the row first
            return False
        self._valid_until = now + self.lease if taken else None
        return bool(taken)

    def renew(self, now: datetime) -> bool:
        """Extend the lease; ``False`` when another process has taken the lock."""
        with transaction(self.engine) as session:
            kept = _rowcount(
                session.execute(
                    update(SchedulerLock)
                    .where(col(SchedulerLock.name) == self.name, col(SchedulerLock.holder_id) == self.holder_id)
                    .values(lease_until=now + self.lease, heartbeat_at=now)
                )
            )
        self._valid_until = now + self.lease if kept else None
        return bool(kept)

    def holds(self, now: datetime) -> bool:
        return self._valid_until is not None and now < self._valid_until

    def release(self) -> None:
        """Let the lease lapse at once, so another process takes over without waiting."""
        self._valid_until = None
        past = utcnow() - timedelta(seconds=1)
        with transaction(self.engine) as session:
            session.execute(
                update(SchedulerLock)
                .where(col(SchedulerLock.name) == self.name, col(SchedulerLock.holder_id) == self.holder_id)
                .values(lease_until=past)
            )


def advisory_key(name: str) -> int:
    """A stable signed 64-bit key for ``pg_try_advisory_lock`` from the lock's name."""
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)


class AdvisoryLockElector:
    """A PostgreSQL session advisory lock, held on a dedicated connection for as long as
    this process leads.  The ``scheduler_lock`` row only shows who holds it."""

    def __init__(self, engine: Engine, name: str, holder_id: str, lease_seconds: int) -> None:
        self.engine = engine
        self.name = name
        self.holder_id = holder_id
        self.lease = timedelta(seconds=lease_seconds)
        self.key = advisory_key(name)
        # Its own engine without a pool: closing the connection really ends the session.
        self._lock_engine = create_engine(engine.url, poolclass=NullPool)
        self._connection: Connection | None = None
        self._held = False
        self._valid_until: datetime | None = None

    def _connect(self) -> Connection:
        if self._connection is None:
            self._connection = self._lock_engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        return self._connection

    def _drop_connection(self) -> None:
        if self._connection is not None:
            with contextlib.suppress(DBAPIError):
                self._connection.close()
        self._connection = None
        self._held = False
        self._valid_until = None

    def try_acquire(self, now: datetime) -> bool:
        try:
            got = bool(self._connect().execute(select(func.pg_try_advisory_lock(self.key))).scalar())
        except DBAPIError:
            self._drop_connection()
            return False
        if not got:
            return False
        self._held = True
        self._valid_until = now + self.lease
        self._show(now, acquired=True)
        return True

    def renew(self, now: datetime) -> bool:
        """The lock lasts as long as its connection: check the connection is alive."""
        if not self._held:
            return False
        try:
            self._connect().execute(text("SELECT 1"))
        except DBAPIError:
            self._drop_connection()
            return False
        self._valid_until = now + self.lease
        self._show(now)
        return True

    def holds(self, now: datetime) -> bool:
        return self._held and self._valid_until is not None and now < self._valid_until

    def release(self) -> None:
        if self._held and self._connection is not None:
            with contextlib.suppress(DBAPIError):
                self._connection.execute(select(func.pg_advisory_unlock(self.key)))
        self._drop_connection()
        try:
            self._show(utcnow() - timedelta(seconds=1), released=True)
        finally:
            self._lock_engine.dispose()

    def _show(self, now: datetime, *, acquired: bool = False, released: bool = False) -> None:
        """Record the holder in ``scheduler_lock`` for the admin page (best effort)."""
        try:
            with transaction(self.engine) as session:
                row = session.get(SchedulerLock, self.name)
                if row is None:
                    row = SchedulerLock(name=self.name, holder_id=self.holder_id, lease_until=now, acquired_at=now)
                if released and row.holder_id != self.holder_id:
                    return
                row.holder_id = self.holder_id
                row.lease_until = now if released else now + self.lease
                row.heartbeat_at = now
                if acquired:
                    row.acquired_at = now
                session.add(row)
        except DBAPIError:
            log.warning("Could not record the scheduler's holder", exc_info=True)


def make_elector(engine: Engine, settings: Settings, holder_id: str) -> Elector:
    if engine.dialect.name == "postgresql":
        return AdvisoryLockElector(engine, settings.scheduler_lock_name, holder_id, settings.scheduler_lease_seconds)
    return LeaseElector(engine, settings.scheduler_lock_name, holder_id, settings.scheduler_lease_seconds)


# --- The handle --------------------------------------------------------------------------------

_ACTIVE: SchedulerHandle | None = None
_ACTIVE_LOCK = threading.Lock()


class SchedulerHandle:
    """Takes part in the election and, while leading, runs APScheduler.  ``stop()`` ends it."""

    def __init__(self, engine: Engine, settings: Settings, elector: Elector, poll_seconds: float) -> None:
        self.engine = engine
        self.settings = settings
        self.elector = elector
        self.holder_id = elector.holder_id
        self.poll_seconds = poll_seconds
        self._scheduler: BackgroundScheduler | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="portal-scheduler-election", daemon=True)
        self.became_leader = threading.Event()

    def start(self) -> None:
        self._thread.start()

    def is_leader(self) -> bool:
        return self._scheduler is not None and self.elector.holds(utcnow())

    def stop(self, timeout: float = 30) -> None:
        """Stop taking part: a leader lets running jobs finish, then releases the lock."""
        global _ACTIVE
        self._stop.set()
        self._thread.join(timeout)
        with _ACTIVE_LOCK:
            if _ACTIVE is self:
                _ACTIVE = None

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self._tick()
            except Exception:
                log.exception("Scheduler election failed; trying again")
                if self._scheduler is not None:
                    self._demote(lost=True)
            self._stop.wait(self.poll_seconds)
        if self._scheduler is not None:
            self._demote(lost=False)

    def _tick(self) -> None:
        now = utcnow()
        if self._scheduler is not None:
            if not self.elector.renew(now):
                self._demote(lost=True)
            return
        if self.elector.try_acquire(now):
            try:
                self._promote()
            except Exception:
                self.elector.release()
                raise

    def _promote(self) -> None:
        scheduler = BackgroundScheduler(
            jobstores={"default": SQLAlchemyJobStore(engine=self.engine, tablename=ApschedulerJob.__tablename__)},
            executors={"default": ThreadPoolExecutor(4)},
            timezone=_zone(self.settings),
        )
        scheduler.start(paused=True)
        for spec in JOBS.values():
            trigger = spec.trigger(self.settings)
            existing = scheduler.get_job(spec.id)
            if (
                existing is not None
                and repr(existing.trigger) == repr(trigger)
                and existing.func_ref == ENTRY_POINT
                and tuple(existing.args) == (spec.id,)
                and existing.coalesce == spec.coalesce
                and existing.misfire_grace_time == spec.misfire_grace_time
            ):
                continue  # keep its next run time, so a run missed while nobody led is caught up
            scheduler.add_job(
                ENTRY_POINT, trigger=trigger, args=[spec.id], id=spec.id, name=spec.name, replace_existing=True,
                coalesce=spec.coalesce, misfire_grace_time=spec.misfire_grace_time, max_instances=1,
            )  # fmt: skip
        for job in scheduler.get_jobs():
            if job.id not in JOBS:
                job.remove()
        self._scheduler = scheduler
        self._audit(AuditAction.SCHEDULER_LEADER_ACQUIRED)
        log.info("This process (%s) now runs the scheduled jobs", self.holder_id)
        self.became_leader.set()
        scheduler.resume()

    def _demote(self, *, lost: bool) -> None:
        scheduler, self._scheduler = self._scheduler, None
        if scheduler is not None:
            # Lost: jobs already running finish, but cannot commit a slot another run completes.
            scheduler.shutdown(wait=not lost)
        if lost:
            log.warning("This process (%s) lost the scheduler lock", self.holder_id)
            self._audit(AuditAction.SCHEDULER_LEADER_LOST)
        else:
            self.elector.release()
            self._audit(AuditAction.SCHEDULER_LEADER_RELEASED)
        self.became_leader.clear()

    def _audit(self, action: AuditAction) -> None:
        try:
            with transaction(self.engine) as session:
                record_event(
                    session, action=action, outcome=Outcome.SUCCESS, actor=SYSTEM_ACTOR, subject_type="scheduler",
                    subject_id=self.settings.scheduler_lock_name, detail={"holder": self.holder_id},
                )  # fmt: skip
        except DBAPIError:
            log.warning("Could not audit %s", action, exc_info=True)


def start_scheduler(
    *,
    engine: Engine | None = None,
    settings: Settings | None = None,
    holder_id: str | None = None,
    poll_seconds: float | None = None,
) -> SchedulerHandle:
    """Join the election (in a background thread) and run the jobs whenever this process
    leads.  One per process; ``stop()`` the handle to leave."""
    global _ACTIVE
    engine = engine or get_engine()
    settings = settings or get_settings()
    holder = holder_id or new_holder_id()
    with _ACTIVE_LOCK:
        if _ACTIVE is not None:
            raise RuntimeError("The scheduler is already running in this process.")
        handle = SchedulerHandle(
            engine,
            settings,
            make_elector(engine, settings, holder),
            poll_seconds if poll_seconds is not None else settings.scheduler_lease_seconds / 3,
        )
        _ACTIVE = handle
    handle.start()
    return handle


# --- For the admin page -------------------------------------------------------------------------


@dataclass(frozen=True)
class JobStatus:
    id: str
    name: str
    next_run_at: datetime | None
    last_run: JobRunRead | None


@dataclass(frozen=True)
class SchedulerStatus:
    holder_id: str | None
    lease_until: datetime | None
    heartbeat_at: datetime | None
    jobs: tuple[JobStatus, ...]


def scheduler_status(*, session: Session, actor: Actor) -> SchedulerStatus:
    """Who runs the jobs, and each job's next and latest run (administrators)."""
    require(actor, Permission.ADMIN_SCHEDULER_READ, subject_type="scheduler")
    settings = get_settings()
    lock = session.get(SchedulerLock, settings.scheduler_lock_name)
    next_runs = dict(session.exec(select(ApschedulerJob.id, ApschedulerJob.next_run_time)).all())
    jobs = []
    for spec in JOBS.values():
        last = session.exec(
            select(JobRun).where(JobRun.job_id == spec.id).order_by(col(JobRun.id).desc()).limit(1)
        ).first()
        stamp = next_runs.get(spec.id)
        jobs.append(
            JobStatus(
                id=spec.id,
                name=spec.name,
                next_run_at=datetime.fromtimestamp(stamp, ZoneInfo("UTC")) if stamp is not None else None,
                last_run=_run_read(last) if last else None,
            )
        )
    return SchedulerStatus(
        holder_id=lock.holder_id if lock else None,
        lease_until=lock.lease_until if lock else None,
        heartbeat_at=lock.heartbeat_at if lock else None,
        jobs=tuple(jobs),
    )


def list_job_runs(
    *, session: Session, actor: Actor, job_id: str | None = None, outcome: str | None = None, limit: int = 100
) -> list[JobRunRead]:
    """Recorded runs, newest first (administrators)."""
    require(actor, Permission.ADMIN_SCHEDULER_READ, subject_type="scheduler")
    query = select(JobRun)
    if job_id:
        query = query.where(JobRun.job_id == job_id)
    if outcome:
        query = query.where(JobRun.outcome == outcome)
    return [_run_read(r) for r in session.exec(query.order_by(col(JobRun.id).desc()).limit(limit))]
