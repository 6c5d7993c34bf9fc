"""For administrators: the scheduled jobs (who runs them, each job's next and last run, the
failures), and "Run now" for each job (run as the system, audited as the administrator's)."""

from __future__ import annotations

import json
from typing import Any

import reflex as rx
from sqlmodel import Session

from panels.action_models import JobOutcome
from panels.scheduler import JobRunRead, list_job_runs, run_job_now, scheduler_status
from portal import routes
from portal.auth_state import AuthState
from portal.components.layout import PRODUCT_NAME, empty_state, page_shell
from portal.formatting import local_time
from sharing.errors import DomainError, SessionExpired
from sharing.permissions import Actor

OUTCOME_COLOURS = {
    JobOutcome.SUCCEEDED: "green",
    JobOutcome.FAILED: "red",
    JobOutcome.INTERRUPTED: "orange",
    JobOutcome.RUNNING: "blue",
    JobOutcome.SKIPPED: "gray",
}


def _result_text(run: JobRunRead) -> str:
    done = {k: v for k, v in run.result.items() if v}
    if run.error:
        return run.error.splitlines()[-1][:300]
    if not done:
        return "Nothing to do"
    return ", ".join(f"{k.replace('_', ' ')}: {v}" for k, v in sorted(done.items()))[:600]


def _run_row(run: JobRunRead, names: dict[str, str]) -> dict[str, str]:
    return {
        "id": str(run.id),
        "job": names.get(run.job_id, run.job_id),
        "started": local_time(run.started_at),
        "finished": local_time(run.finished_at, "Not finished"),
        "outcome": run.outcome_label,
        "colour": OUTCOME_COLOURS.get(JobOutcome(run.outcome), "gray"),
        "result": _result_text(run),
        "detail": json.dumps(run.result, sort_keys=True) if run.result else "",
    }


class SchedulerState(AuthState):
    runner: str = ""
    jobs: list[dict[str, str]] = []
    failures: list[dict[str, str]] = []
    recent: list[dict[str, str]] = []

    def _reload(self, session: Session, actor: Actor) -> Actor:
        status = scheduler_status(session=session, actor=actor)
        names = {j.id: j.name for j in status.jobs}
        self.runner = (
            f"Jobs run in {status.holder_id}; its lease runs to {local_time(status.lease_until)} "
            f"(last heard from {local_time(status.heartbeat_at)})."
            if status.holder_id
            else "No process has taken charge of the scheduled jobs yet."
        )
        self.jobs = [
            {
                "id": j.id,
                "name": j.name,
                "next": local_time(j.next_run_at, "Not scheduled"),
                "last": local_time(j.last_run.started_at) if j.last_run else "Never run",
                "outcome": j.last_run.outcome_label if j.last_run else "",
                "colour": OUTCOME_COLOURS.get(JobOutcome(j.last_run.outcome), "gray") if j.last_run else "gray",
                "result": _result_text(j.last_run) if j.last_run else "",
            }
            for j in status.jobs
        ]
        self.failures = [
            _run_row(r, names) for r in list_job_runs(session=session, actor=actor, outcome=JobOutcome.FAILED, limit=20)
        ]
        self.recent = [_run_row(r, names) for r in list_job_runs(session=session, actor=actor, limit=30)]
        return actor

    @rx.event
    def load(self) -> Any:
        return self._load(self._reload)

    @rx.event
    def run_now(self, job_id: str, name: str) -> Any:
        # The run commits its own transactions, so it runs after the session check, outside it.
        try:
            actor = self._actor()
            run = run_job_now(actor=actor, job_id=job_id)
        except SessionExpired as error:
            return self._to_sign_in(error.message)
        except DomainError as error:
            return self._handle(error)
        reloaded = self._load(self._reload)
        if reloaded is not None:
            return reloaded
        if run is None:
            return rx.toast.info(f"{name} has already run for this period; it runs again at its next time.")
        if run.outcome == JobOutcome.FAILED:
            return rx.toast.error(f"{name} failed: {_result_text(run)}", duration=10000)
        return rx.toast.success(f"{name}: {run.outcome_label.lower()}. {_result_text(run)}.")


def _outcome_badge(label: Any, colour: Any) -> rx.Component:
    return rx.cond(label != "", rx.badge(label, color_scheme=colour, variant="soft", high_contrast=True))


def _runs_table(rows: Any, caption: str) -> rx.Component:
    return rx.table.root(
        rx.el.caption(caption, class_name="visually-hidden"),
        rx.table.header(
            rx.table.row(*[rx.table.column_header_cell(h) for h in ("Job", "Started", "Finished", "Outcome", "Result")])
        ),
        rx.table.body(
            rx.foreach(
                rows,
                lambda r: rx.table.row(
                    rx.table.row_header_cell(r["job"]),
                    rx.table.cell(r["started"]),
                    rx.table.cell(r["finished"]),
                    rx.table.cell(_outcome_badge(r["outcome"], r["colour"])),
                    rx.table.cell(rx.text(r["result"], size="2")),
                ),
            )
        ),
        variant="surface",
        width="100%",
    )


@rx.page(route=routes.ADMIN_SCHEDULER, title=f"Scheduler · {PRODUCT_NAME}", on_load=SchedulerState.load)
def scheduler_page() -> rx.Component:
    return page_shell(
        "Scheduled jobs",
        rx.callout(SchedulerState.runner, icon="clock", color_scheme="gray", high_contrast=True, width="100%"),
        rx.table.root(
            rx.el.caption("The scheduled jobs", class_name="visually-hidden"),
            rx.table.header(
                rx.table.row(*[rx.table.column_header_cell(h) for h in ("Job", "Next run", "Last run", "Result", "")])
            ),
            rx.table.body(
                rx.foreach(
                    SchedulerState.jobs,
                    lambda j: rx.table.row(
                        rx.table.row_header_cell(j["name"]),
                        rx.table.cell(j["next"]),
                        rx.table.cell(
                            rx.vstack(
                                rx.text(j["last"], size="2"), _outcome_badge(j["outcome"], j["colour"]), spacing="1"
                            )
                        ),
                        rx.table.cell(rx.text(j["result"], size="2")),
                        rx.table.cell(
                            rx.button(
                                "Run now",
                                size="1",
                                on_click=SchedulerState.run_now(j["id"], j["name"]),
                                aria_label="Run now: " + j["name"],
                                white_space="nowrap",
                            )
                        ),
                    ),
                )
            ),
            variant="surface",
            width="100%",
            id="jobs",
        ),
        rx.heading("Failures", size="5", as_="h2"),
        rx.cond(
            SchedulerState.failures.length() > 0,  # type: ignore[attr-defined]
            _runs_table(SchedulerState.failures, "Runs that failed"),
            empty_state("No run has failed."),
        ),
        rx.heading("Recent runs", size="5", as_="h2"),
        rx.cond(
            SchedulerState.recent.length() > 0,  # type: ignore[attr-defined]
            _runs_table(SchedulerState.recent, "The latest runs"),
            empty_state("No job has run yet."),
        ),
        subtitle="Reminders, email and digests run on their own; here you see how they went.",
    )
