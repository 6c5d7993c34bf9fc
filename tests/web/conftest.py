"""Browser journeys: the real portal (``reflex run --env prod``) on a free loopback port,
driven by Playwright in Debian's Chromium, against a database of their own: a second SQLite
file, or a schema of its own in the PostgreSQL test database.  The unit tests add thousands of
organisations, people and records to theirs; the journeys see the demo partnership as a
council would, plus what the journeys themselves add."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, Page, WebSocket, sync_playwright
from sqlalchemy import text
from sqlalchemy.engine import Engine

from panels.demo import seed_demo
from panels.working_days import local_date
from sharing.db import get_engine, transaction, utcnow
from sharing.migrations import upgrade_to_head
from tests.conftest import TEST_DATABASE_URL

JOURNEY_SCHEMA = "journeys"


def journey_database_url(url: str) -> str:
    """The journeys' database beside the unit tests' ``url``."""
    if url.startswith("postgresql"):
        return f"{url}{'&' if '?' in url else '?'}options=-csearch_path%3D{JOURNEY_SCHEMA}"
    return "sqlite:///" + Path(url.split("///", 1)[1]).with_name("journeys.db").as_posix()


JOURNEY_DATABASE_URL = journey_database_url(TEST_DATABASE_URL)

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "docs" / "screenshots"
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
]
AXE = ROOT / "tools" / "node_modules" / "axe-core" / "axe.min.js"
DEMO_PASSWORD = "demo-pass-2026"


@dataclass(frozen=True)
class RunningPortal:
    url: str
    port: int
    log_path: Path  # what `make run` printed: the banner, warnings, the server's log


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="session")
def engine() -> Iterator[Engine]:
    """The journeys' migrated, demo-seeded database (this folder's tests use it instead of the
    unit tests' one)."""
    if JOURNEY_DATABASE_URL.startswith("postgresql"):
        with get_engine(TEST_DATABASE_URL).begin() as conn:
            conn.execute(text(f"DROP SCHEMA IF EXISTS {JOURNEY_SCHEMA} CASCADE"))
            conn.execute(text(f"CREATE SCHEMA {JOURNEY_SCHEMA}"))
    else:
        path = Path(JOURNEY_DATABASE_URL.split("///", 1)[1])
        for suffix in ("", "-wal", "-shm"):
            Path(str(path) + suffix).unlink(missing_ok=True)
    upgrade_to_head(JOURNEY_DATABASE_URL)
    eng = get_engine(JOURNEY_DATABASE_URL)
    with transaction(eng) as session:
        seed_demo(session)
    yield eng


@pytest.fixture(scope="session")
def portal(engine: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningPortal]:
    """Start the portal in production mode once for all browser tests, as the README says:
    ``make run PORT=<a free port>``, with no ``PORTAL_PUBLIC_URL``, so the address the browser
    is sent to follows the port.  When the suite's clock is moved (``PORTAL_TEST_TODAY``), the
    portal's follows it (``tests/clock``)."""
    port = free_port()
    url = f"http://localhost:{port}"
    env = dict(os.environ)
    env.pop("PORTAL_PUBLIC_URL", None)
    env.pop("PORTAL_PORT", None)
    env.update(
        {
            "PORTAL_DATABASE_URL": JOURNEY_DATABASE_URL,
            "PORTAL_DEMO_MODE": "true",
            # Fewer than the demo has, so the panel set-up form asks to find the rest by name.
            "PORTAL_PANEL_FORM_PEOPLE_LISTED": "10",
        }
    )
    log_path = tmp_path_factory.mktemp("portal") / "portal.log"
    log = log_path.open("w")
    process = subprocess.Popen(
        ["make", "--no-print-directory", "run", f"PORT={port}"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    deadline = time.monotonic() + 300
    ready = False
    while time.monotonic() < deadline and process.poll() is None:
        try:
            if (
                httpx.get(f"{url}/ping", timeout=2).status_code == 200
                and httpx.get(f"{url}/signin/", timeout=5).status_code == 200
            ):
                ready = True
                break
        except httpx.HTTPError:
            pass
        time.sleep(1)
    if not ready:
        os.killpg(process.pid, signal.SIGTERM)
        pytest.fail(f"The portal did not start. Its output:\n{log_path.read_text()[-4000:]}")
    try:
        yield RunningPortal(url=url, port=port, log_path=log_path)
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
        log.close()


@pytest.fixture(scope="session")
def portal_url(portal: RunningPortal) -> str:
    return portal.url


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium not found at {CHROMIUM}; `make test` installs Debian's chromium package.")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser: Browser, portal_url: str) -> Iterator[Page]:
    context = browser.new_context(base_url=portal_url, viewport={"width": 1280, "height": 900}, locale="en-GB")
    context.set_default_timeout(20_000)
    page = context.new_page()
    yield page
    context.close()


def goto_when_ready(page: Page, path: str, *, wait_ms: int = 10_000) -> None:
    """Open ``path`` and wait until the portal has answered the page over its event websocket
    (its state is loaded), so what is typed next is not overwritten by the page's first draw.
    On a busy machine a form filled before that could be submitted empty.  Gives up waiting
    quietly after ``wait_ms``: the steps that follow then say what is wrong."""
    answered: list[bool] = []

    def watch(socket: WebSocket) -> None:
        socket.on(
            "framereceived", lambda payload: answered.append(True) if str(payload).startswith("42/_event") else None
        )

    page.on("websocket", watch)
    try:
        page.goto(path)
        deadline = time.monotonic() + wait_ms / 1000
        while not answered and time.monotonic() < deadline:
            page.wait_for_timeout(50)
    finally:
        page.remove_listener("websocket", watch)


def portal_today() -> date:
    """Today on the portal's calendar (its time zone; the suite's clock, moved or not)."""
    return local_date(utcnow())


def sign_in(page: Page, email: str, password: str = DEMO_PASSWORD) -> None:
    goto_when_ready(page, "/signin/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in", exact=True).click()


def wait_for_my_work(page: Page) -> None:
    page.get_by_role("heading", name="My work", level=1).wait_for()


def axe_violations(page: Page) -> list[dict[str, Any]]:
    """Serious and critical accessibility problems axe-core finds on the page."""
    page.mouse.move(0, 0)  # hover styles are not what a reader sees at rest
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    return [
        {"id": v["id"], "impact": v["impact"], "help": v["help"], "nodes": [n["target"] for n in v["nodes"]][:5]}
        for v in result["violations"]
        if v["impact"] in ("serious", "critical")
    ]


def screenshot(page: Page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / name), full_page=True)
