"""App-wide background work, started with the app (never at import).

Reflex runs lifespan tasks once per worker: every worker joins the scheduler's election and
only the one holding the lock runs the jobs (see ``panels.scheduler``).  With
``PORTAL_SCHEDULER_ENABLED=false`` no worker runs them (run ``portal-admin scheduler`` in a
process of its own instead, or not at all in tests).

In demo mode the reminders sweep also runs once as the app starts, so the demo's overdue
actions and deadlines are in people's notifications from the first sign-in rather than from
the next quarter-hour.  It is an ordinary recorded run: several workers starting together
complete it once (the others' runs are "skipped").
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

from sharing.config import get_settings

log = logging.getLogger(__name__)

STARTUP_SWEEP = "reminders_sweep"


def run_startup_sweep() -> None:
    """The demo's reminders sweep at start-up; a failure is logged and never stops the app."""
    from panels.scheduler import run_job

    try:
        run = run_job(STARTUP_SWEEP)
    except Exception:
        log.exception("The start-up reminders sweep failed")
        return
    if run is not None:
        log.info("Start-up reminders sweep: %s %s", run.outcome, run.result or run.error)


@contextlib.asynccontextmanager
async def run_scheduler() -> AsyncIterator[None]:
    """Join the scheduler's election for the app's lifetime; leave it on shutdown."""
    settings = get_settings()
    warning = settings.public_url_warning()
    if warning:
        log.warning(warning)
    if settings.is_demo:
        await asyncio.to_thread(run_startup_sweep)
    if not settings.scheduler_enabled:
        yield
        return
    from panels.scheduler import start_scheduler

    handle = await asyncio.to_thread(start_scheduler)
    try:
        yield
    finally:
        # Lets a job that is running finish, then releases the lock for another worker.
        await asyncio.to_thread(handle.stop)
