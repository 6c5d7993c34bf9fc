"""App-wide background work, started with the app (never at import).

Reflex runs lifespan tasks once per worker: every worker joins the scheduler's election and
only the one holding the lock runs the jobs (see ``panels.scheduler``).  With
``PORTAL_SCHEDULER_ENABLED=false`` no worker runs them (run ``portal-admin scheduler`` in a
process of its own instead, or not at all in tests).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from sharing.config import get_settings


@contextlib.asynccontextmanager
async def run_scheduler() -> AsyncIterator[None]:
    """Join the scheduler's election for the app's lifetime; leave it on shutdown."""
    if not get_settings().scheduler_enabled:
        yield
        return
    from panels.scheduler import start_scheduler

    handle = await asyncio.to_thread(start_scheduler)
    try:
        yield
    finally:
        # Lets a job that is running finish, then releases the lock for another worker.
        await asyncio.to_thread(handle.stop)
