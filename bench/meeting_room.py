"""How fast does the live meeting room reach everyone, and what does each participant cost?

Builds a fresh benchmark database (a SQLite file in a temporary folder unless
``--database-url`` names another), seeds the demo partnership, adds ``--participants - 1``
panel members to the Problem Solving Group's organisations (PC Jones is the first), and
schedules a meeting with ``--decisions + 1`` new cases on its agenda; the chair opens it
and everyone joins (through the services).  Then it starts the real portal
(``reflex run --env prod``, one worker; with ``--redis URL`` Reflex keeps state in Redis and
runs several workers) and opens the room in one headless Chromium browser context per person:
the chair and every participant, each signed in with a session of their own.

For each decision the chair, in the browser, moves the meeting to the next item and records
a decision on it.  Each participant's page notes (``Date.now()`` in a ``MutationObserver``)
when the new item and then the decision's headline appear in its room; the time is measured
from the moment the click reaches the chair's page (all the browsers share the machine's
clock).  The first item is a warm-up and is not
counted.  Memory is the resident set size of the portal's processes (all its workers) with
only the chair in the room, and again with every participant in it.

    .venv/bin/python bench/meeting_room.py                        # 30 participants, 20 decisions
    .venv/bin/python bench/meeting_room.py --redis redis://127.0.0.1:6379/7
    .venv/bin/python bench/meeting_room.py --participants 10 --decisions 5

It builds the frontend into this checkout's ``.web`` like the browser tests do: do not run it
while they (or ``make run``) use that folder.
"""

from __future__ import annotations

import argparse
import os
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

_TMP = Path(tempfile.mkdtemp(prefix="portal-bench-room-"))
# The portal's settings are read on import; keep them away from any real data folder.
os.environ["PORTAL_DATA_DIR"] = str(_TMP / "data")
os.environ.setdefault("PORTAL_SECRET_KEY", "benchmark-only-" + secrets.token_urlsafe(32))
os.environ["PORTAL_SCHEDULER_ENABLED"] = "false"
os.environ.pop("PORTAL_REDIS_URL", None)
os.environ.pop("REFLEX_REDIS_URL", None)

import httpx  # noqa: E402
from playwright.sync_api import Browser, BrowserContext, Page, sync_playwright  # noqa: E402
from sqlmodel import select  # noqa: E402

from panels.agenda import agenda_items, build_agenda, publish_agenda  # noqa: E402
from panels.case_models import Case  # noqa: E402
from panels.cases import CaseInput, open_case  # noqa: E402
from panels.demo import seed_demo  # noqa: E402
from panels.meeting_room import join_meeting, open_meeting  # noqa: E402
from panels.meetings import add_meeting  # noqa: E402
from panels.models import Panel  # noqa: E402
from portal import routes  # noqa: E402
from portal.session_cookie import SESSION_COOKIE  # noqa: E402
from sharing.accounts import actor_for_user, start_session  # noqa: E402
from sharing.db import make_engine, transaction  # noqa: E402
from sharing.directory import create_user  # noqa: E402
from sharing.migrations import upgrade_to_head  # noqa: E402
from sharing.models import Organisation, Role, User  # noqa: E402
from sharing.permissions import SYSTEM_ACTOR  # noqa: E402

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-renderer-backgrounding",
    "--disable-background-timer-throttling",
    "--disable-backgrounding-occluded-windows",
]
CHAIR = "psg.chair@eastbrook.demo"
PLAN = "Agree a multi-agency action plan"
MEMBER_ORGANISATIONS = (
    "Eastshire Police",
    "Eastshire Adult Social Care",
    "Eastshire Children's Services",
    "Eastbrook Mental Health Trust",
    "Riverside Homes",
    "Eastbrook City Homes",
)

# Resolves (with Date.now()) once the element's text contains the expected words.
WATCH = """([selector, words]) => {
  window.__seen = new Promise((resolve) => {
    const seen = () => (document.querySelector(selector)?.textContent || "").includes(words);
    if (seen()) { resolve(Date.now()); return; }
    const observer = new MutationObserver(() => {
      if (seen()) { observer.disconnect(); resolve(Date.now()); }
    });
    observer.observe(document.body, { subtree: true, childList: true, characterData: true });
  });
}"""


# Notes (with Date.now()) when the next click reaches the page: the clock starts there, so the
# benchmark's own driving of the browser (Playwright's checks before it clicks) is not counted.
CLICKED = """() => {
  window.__clicked = null;
  document.addEventListener("click", () => { window.__clicked = Date.now(); }, { capture: true, once: true });
}"""


@dataclass(frozen=True)
class World:
    meeting_id: int
    references: list[str]
    chair_token: str
    participant_tokens: list[str]


def build(database_url: str, participants: int, items: int) -> World:
    upgrade_to_head(database_url)
    engine = make_engine(database_url)
    with transaction(engine) as session:
        seed_demo(session)
    starts_at = datetime.now(UTC).replace(microsecond=0) + timedelta(days=60)
    referred_at = starts_at - timedelta(days=20)
    with transaction(engine) as session:
        panel = session.exec(select(Panel).where(Panel.name == "Problem Solving Group")).one()
        orgs = {o.name: o.id for o in session.exec(select(Organisation))}
        users = {u.email: u for u in session.exec(select(User))}
        officer = actor_for_user(session, users["asb.officer@eastbrook.demo"])
        chair = actor_for_user(session, users[CHAIR])
        meeting = add_meeting(
            session=session, actor=SYSTEM_ACTOR, panel_id=panel.id, starts_at=starts_at,  # type: ignore[arg-type]
            now=referred_at - timedelta(days=1),
        )  # fmt: skip
        assert meeting.id is not None
        case_ids: list[int] = []
        for number in range(items):
            case = open_case(
                session=session,
                actor=officer,
                data=CaseInput(category="nuisance", types=["noise"], location=f"{number + 1} Bench Road", area="East"),
            )
            assert case.id is not None
            case_ids.append(case.id)
        # Put on this meeting's agenda directly: a referral lands on the panel's next meeting
        # with agenda time, which may be one of the demo's.
        build_agenda(session=session, actor=chair, meeting_id=meeting.id, carried_forward=case_ids)
        # The agenda's order (the demo's cases due back for review may come first).
        references = [
            session.get(Case, item.case_id).reference  # type: ignore[union-attr]
            for item in agenda_items(session, meeting.id)
        ][:items]
        publish_agenda(session=session, actor=chair, meeting_id=meeting.id)
        open_meeting(session=session, actor=chair, meeting_id=meeting.id)
        people = [users["pc.jones@police.demo"]]
        for number in range(participants - 1):
            organisation = MEMBER_ORGANISATIONS[number % len(MEMBER_ORGANISATIONS)]
            created = create_user(
                session=session, actor=SYSTEM_ACTOR, email=f"member{number + 1}@bench.example",
                full_name=f"Member {number + 1:02d}", organisation_id=orgs[organisation],
                roles=[str(Role.PANEL_MEMBER)], password=None,
            )  # fmt: skip
            user = session.get(User, created.id)
            assert user is not None
            people.append(user)
        tokens = []
        for user in [users[CHAIR], *people]:
            join_meeting(
                session=session, actor=actor_for_user(session, user), meeting_id=meeting.id, accept_confidentiality=True
            )
            tokens.append(start_session(session, user=user, method="password").token)
    engine.dispose()
    return World(meeting.id, references, tokens[0], tokens[1:])


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def portal(database_url: str, redis_url: str | None) -> Iterator[tuple[str, int]]:
    port = free_port()
    url = f"http://localhost:{port}"
    env = dict(os.environ)
    env.update(
        {
            "PORTAL_DATABASE_URL": database_url,
            "PORTAL_PUBLIC_URL": url,
            "REFLEX_CHECK_LATEST_VERSION": "0",
            "REFLEX_TELEMETRY_ENABLED": "false",
        }
    )
    if redis_url:
        env["PORTAL_REDIS_URL"] = redis_url
    env.setdefault("REFLEX_BUN_PATH", str(ROOT / "tools" / "node_modules" / "@oven" / "bun-linux-x64" / "bin" / "bun"))
    log = (_TMP / "portal.log").open("w")
    process = subprocess.Popen(
        [
            str(ROOT / ".venv" / "bin" / "reflex"), "run", "--env", "prod", "--single-port",
            "--frontend-port", str(port), "--backend-port", str(port), "--loglevel", "warning",
        ],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 300
        while True:
            if process.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"The portal did not start:\n{(_TMP / 'portal.log').read_text()[-3000:]}")
            try:
                if (
                    httpx.get(f"{url}/ping", timeout=2).status_code == 200
                    and httpx.get(f"{url}/signin/", timeout=5).status_code == 200
                ):
                    break
            except httpx.HTTPError:
                pass
            time.sleep(1)
        yield url, process.pid
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
        log.close()


def _processes() -> list[tuple[int, int, int]]:
    """(pid, parent pid, process group) of every process."""
    rows = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        rows.append((int(entry.name), int(fields[1]), int(fields[2])))
    return rows


def _pss_kib(pid: int) -> int:
    """Proportional set size: resident memory, with pages shared between processes (forked
    workers, Chromium's renderers) divided among them rather than counted in each."""
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def group_memory_mib(group: int) -> float:
    """Memory (PSS) of every process in a process group (the portal and its workers)."""
    return sum(_pss_kib(pid) for pid, _, pgid in _processes() if pgid == group) / 1024


def tree_memory_mib(root: int, name: str) -> float:
    """Memory (PSS) of the descendants of ``root`` whose command name contains ``name``."""
    children: dict[int, list[int]] = {}
    for pid, parent, _ in _processes():
        children.setdefault(parent, []).append(pid)
    total, todo = 0, list(children.get(root, []))
    while todo:
        pid = todo.pop()
        todo.extend(children.get(pid, []))
        try:
            if name in Path(f"/proc/{pid}/comm").read_text():
                total += _pss_kib(pid)
        except OSError:
            continue
    return total / 1024


def open_room(browser: Browser, url: str, token: str, meeting_id: int) -> tuple[BrowserContext, Page]:
    context = browser.new_context(base_url=url, viewport={"width": 1280, "height": 900}, locale="en-GB")
    context.set_default_timeout(60_000)
    context.add_cookies([{"name": SESSION_COOKIE, "value": token, "url": url}])
    page = context.new_page()
    page.goto(routes.meeting_room(meeting_id))
    page.locator("#meeting-status").filter(has_text="In progress").wait_for()
    return context, page


def timed(chair: Page, pages: list[Page], selector: str, words: str, click: str) -> list[float]:
    """Click the chair's button; how long each page took to show ``words`` in ``selector``,
    in milliseconds from the moment the click reached the chair's page."""
    for page in pages:
        page.evaluate(WATCH, [selector, words])
    chair.evaluate(CLICKED)
    chair.get_by_role("button", name=click, exact=True).click()
    started = chair.evaluate("() => window.__clicked")
    seen = [page.evaluate("() => window.__seen") for page in pages]
    if started is None or None in seen:  # a page was reloaded under the benchmark
        lost = [page.url for page, at in zip(pages, seen, strict=True) if at is None]
        raise SystemExit(f"A page lost its watch (clicked at {started}): {lost}")
    return [at - started for at in seen]


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(share * len(ordered)) - 1))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--participants", type=int, default=30, help="people in the room besides the chair")
    parser.add_argument("--decisions", type=int, default=20, help="decisions timed (after one warm-up)")
    parser.add_argument("--database-url", default="", help="a database of its own (default: a temporary SQLite file)")
    parser.add_argument("--redis", default="", help="Redis URL: state in Redis, several workers")
    args = parser.parse_args()
    database_url = args.database_url or f"sqlite:///{(_TMP / 'bench.db').as_posix()}"
    os.environ["PORTAL_DATABASE_URL"] = database_url

    print(f"Building the meeting ({args.participants} participants, {args.decisions + 1} items)…", flush=True)
    world = build(database_url, args.participants, args.decisions + 1)
    with portal(database_url, args.redis or None) as (url, group), sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        _, chair = open_room(browser, url, world.chair_token, world.meeting_id)
        time.sleep(2)  # let the first room reads settle before measuring memory
        rss_before = group_memory_mib(group)
        browser_before = tree_memory_mib(os.getpid(), "chrom")
        print(f"Opening the room in {args.participants} more browsers…", flush=True)
        opened_at = time.monotonic()
        pages = [open_room(browser, url, token, world.meeting_id)[1] for token in world.participant_tokens]
        opened = time.monotonic() - opened_at
        time.sleep(5)  # every watcher has read the room and is waiting
        rss_after = group_memory_mib(group)
        browser_after = tree_memory_mib(os.getpid(), "chrom")

        item_ms: list[list[float]] = []
        decision_ms: list[list[float]] = []
        chair_ms: list[float] = []
        load: list[float] = []
        for number, reference in enumerate(world.references, start=1):
            print(f"  item {number}…", flush=True)
            load.append(os.getloadavg()[0])
            items = timed(chair, pages, "#current-item", f"case {reference}", f"Discuss now: item {number}")
            form = chair.locator("#decision-form")
            form.get_by_label("Decision").select_option(label=PLAN)
            form.get_by_label("Reasons").fill("Noise continues; the partners act together.")
            headline = f"Item {number}, case {reference}: {PLAN}"
            decisions = timed(chair, [chair, *pages], "#decisions", headline, "Record the decision")
            if number > 1:  # the first is a warm-up
                item_ms.append(items)
                chair_ms.append(decisions[0])
                decision_ms.append(decisions[1:])
        rss_end = group_memory_mib(group)
        workers = sum(1 for _, _, pgid in _processes() if pgid == group)
        browser.close()

    every_decision = [ms for run in decision_ms for ms in run]
    last_decision = [max(run) for run in decision_ms]
    every_item = [ms for run in item_ms for ms in run]
    last_item = [max(run) for run in item_ms]
    mode = f"Redis, {workers} processes" if args.redis else f"in memory, {workers} processes"
    print()
    print(f"Live meeting room: {args.participants} participants + the chair, {len(decision_ms)} decisions ({mode})")
    print()
    print("| update reaching the participants        | median ms | p95 ms | max ms |")
    print("|-----------------------------------------|-----------|--------|--------|")
    for label, values in (
        ("decision: the chair's own page", chair_ms),
        ("decision: each participant", every_decision),
        ("decision: the last participant", last_decision),
        ("next item (reads each pack): each", every_item),
        ("next item: the last participant", last_item),
    ):
        print(
            f"| {label:<39} | {statistics.median(values):>9.0f} | {percentile(values, 0.95):>6.0f} "
            f"| {max(values):>6.0f} |"
        )
    print()
    print("| memory (PSS: resident, shared pages split) | MiB    |")
    print("|--------------------------------------------|--------|")
    print(f"| portal, chair only in the room             | {rss_before:>6.1f} |")
    print(f"| portal, everyone in the room               | {rss_after:>6.1f} |")
    print(f"| portal, after the decisions                | {rss_end:>6.1f} |")
    per_participant = (rss_after - rss_before) / args.participants
    per_context = (browser_after - browser_before) / args.participants
    print(f"| portal, per participant                    | {per_participant:>6.2f} |")
    print(f"| Chromium, per participant (context)        | {per_context:>6.1f} |")
    print()
    print(f"Opening the room in {args.participants} browsers took {opened:.1f} s.")
    print(
        f"One-minute load average during the decisions: median {statistics.median(load):.1f}, "
        f"max {max(load):.1f} ({os.cpu_count()} CPUs; the browsers run on the same machine)."
    )
    if not args.database_url and not os.environ.get("KEEP"):
        shutil.rmtree(_TMP, ignore_errors=True)


if __name__ == "__main__":
    main()
