"""A scheduler process for the multi-process tests (run as a script, not collected).

It joins the election like a portal worker would, with one probe job instead of the
built-in ones, and runs until SIGTERM (a clean stop) or SIGKILL (a crash).  Settings come
from the environment (``PORTAL_DATABASE_URL``, ``PORTAL_SCHEDULER_LOCK_NAME``,
``PORTAL_SCHEDULER_LEASE_SECONDS``); the probe from ``PROBE_*``:

* ``PROBE_JOB``: the job id; its effects are ``reminder`` rows keyed ``<job>:<slot>:<random>``,
  so a slot run twice shows as two rows.
* ``PROBE_MODE=tick``: every second, one slot per second.
* ``PROBE_MODE=once``: every second, one slot for ever ("once"); with ``PROBE_HANG_FILE``
  the run writes its effect, creates that file and hangs before committing (to be killed).
"""

from __future__ import annotations

import os
import signal
import sys
import threading
import time
import uuid
from datetime import datetime
from pathlib import Path
from typing import Any


def main() -> int:
    from apscheduler.triggers.cron import CronTrigger
    from sqlmodel import Session

    from panels import scheduler
    from panels.action_models import Reminder

    job_id = os.environ["PROBE_JOB"]
    mode = os.environ.get("PROBE_MODE", "tick")
    hang_file = os.environ.get("PROBE_HANG_FILE")

    def run(*, session: Session, now: datetime) -> dict[str, Any]:
        slot = JOB.slot(now, scheduler.get_settings())
        session.add(Reminder(dedupe_key=f"{job_id}:{slot}:{uuid.uuid4().hex}", kind="probe"))
        session.flush()
        if hang_file:
            Path(hang_file).write_text(str(os.getpid()))
            time.sleep(600)
        return {"effects": 1}

    def slot(now: datetime, settings: Any) -> str:
        return "once" if mode == "once" else now.strftime("%Y-%m-%dT%H:%M:%S")

    scheduler.JOBS.clear()  # only the probe: the built-in jobs are tested elsewhere
    JOB = scheduler.register_job(
        scheduler.JobSpec(id=job_id, name="Probe", trigger=lambda s: CronTrigger(second="*"), slot=slot, run=run)
    )
    handle = scheduler.start_scheduler(
        holder_id=os.environ["PROBE_HOLDER"], poll_seconds=float(os.environ.get("PROBE_POLL", "0.3"))
    )
    stopped = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopped.set())
    print("started", flush=True)
    stopped.wait()
    handle.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
