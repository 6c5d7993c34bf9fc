"""Single sign-on end to end against a real OpenID provider on loopback.

The provider is node-oidc-provider (tools/node_modules, see tests/oidc_provider/provider.mjs)
with its development login and consent pages; the portal side is the real
``portal.oidc_routes`` (Authlib) served by uvicorn.  An httpx client plays the browser:
it follows the redirects and submits the provider's login and consent forms.
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import parse_qs, unquote, urlencode, urljoin, urlsplit, urlunsplit

import httpx
import pytest
import uvicorn
from sqlalchemy import update
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from portal.oidc_routes import OIDC_COOKIE, callback_path, clear_client_cache, login_path, oidc_middleware, oidc_routes
from portal.session_cookie import SESSION_COOKIE, session_token
from sharing.accounts import resolve_session
from sharing.audit import AuditAction
from sharing.config import get_settings
from sharing.db import transaction
from sharing.directory import configure_sso, create_organisation, create_user
from sharing.errors import SessionExpired
from sharing.models import AuditEvent, ExternalIdentity, OrganisationType, Role, User, UserRole
from sharing.permissions import SYSTEM_ACTOR
from tests.oidc_provider import NODE, PROVIDER_PACKAGE, free_port, start_provider, stop

ORGANISATION_SLOTS = 8

pytestmark = pytest.mark.skipif(
    NODE is None or not PROVIDER_PACKAGE.exists(),
    reason="needs node and oidc-provider (npm install --prefix tools)",
)


def _home(request: Request) -> Response:
    """Stands in for the portal's home page: who does the session cookie belong to?"""
    try:
        with transaction() as session:
            actor = resolve_session(session=session, token=session_token(request))
    except SessionExpired as error:
        return PlainTextResponse(error.message, status_code=401)
    return PlainTextResponse(actor.email)


@dataclass
class Slot:
    organisation_id: int
    name: str
    slug: str
    client_id: str
    client_secret: str


@dataclass
class SsoWorld:
    portal_url: str
    issuer: str
    slots: list[Slot]
    used: set[int] = field(default_factory=set)

    def take(self) -> Slot:
        for index, slot in enumerate(self.slots):
            if index not in self.used:
                self.used.add(index)
                return slot
        raise RuntimeError("raise ORGANISATION_SLOTS: every pre-registered organisation is used")


@pytest.fixture(scope="module")
def world(engine: Engine, tmp_path_factory: pytest.TempPathFactory) -> Iterator[SsoWorld]:
    """A real OpenID provider and the portal's SSO routes, each on a free loopback port.

    The provider needs its clients' redirect URIs up front, so the organisations (one per
    test) are made first and registered as clients of their own.
    """
    portal_port, provider_port = free_port(), free_port()
    portal_url = f"http://127.0.0.1:{portal_port}"
    issuer = f"http://127.0.0.1:{provider_port}"

    saved_public_url = os.environ.get("PORTAL_PUBLIC_URL")
    os.environ["PORTAL_PUBLIC_URL"] = portal_url
    get_settings.cache_clear()
    clear_client_cache()

    slots: list[Slot] = []
    for _ in range(ORGANISATION_SLOTS):
        with transaction(engine) as session:
            org = create_organisation(
                session=session,
                actor=SYSTEM_ACTOR,
                name=f"SSO Police {uuid.uuid4().hex[:10]}",
                type=str(OrganisationType.POLICE),
            )
        slots.append(
            Slot(
                organisation_id=org.id,
                name=org.name,
                slug=org.slug,
                client_id=f"portal-{org.slug}",
                client_secret=uuid.uuid4().hex + uuid.uuid4().hex,
            )
        )
    clients = [
        {
            "client_id": slot.client_id,
            "client_secret": slot.client_secret,
            "redirect_uris": [f"{portal_url}{callback_path(slot.slug)}"],
        }
        for slot in slots
    ]

    provider_log = tmp_path_factory.mktemp("oidc-provider") / "provider.log"
    provider = start_provider(provider_port, issuer, clients, provider_log)
    server: uvicorn.Server | None = None
    thread: threading.Thread | None = None
    try:
        app = Starlette(
            routes=[*oidc_routes(), Route("/", _home)],
            middleware=oidc_middleware(),
        )
        config = uvicorn.Config(
            app, host="127.0.0.1", port=portal_port, log_level="warning", lifespan="off", ws="none", http="h11"
        )
        server = uvicorn.Server(config)
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        deadline = time.monotonic() + 15
        while not server.started:
            if time.monotonic() > deadline or not thread.is_alive():
                raise RuntimeError("the portal test server did not start")
            time.sleep(0.02)

        yield SsoWorld(portal_url=portal_url, issuer=issuer, slots=slots)
    finally:
        if server is not None and thread is not None:
            server.should_exit = True
            thread.join(timeout=10)
        stop(provider)
        if saved_public_url is None:
            os.environ.pop("PORTAL_PUBLIC_URL", None)
        else:
            os.environ["PORTAL_PUBLIC_URL"] = saved_public_url
        get_settings.cache_clear()
        clear_client_cache()


@pytest.fixture
def organisation(world: SsoWorld, engine: Engine) -> Callable[..., Slot]:
    """A fresh organisation whose SSO points at the test provider."""

    def _configure(*, allow_provisioning: bool = False) -> Slot:
        slot = world.take()
        with transaction(engine) as session:
            configure_sso(
                session=session,
                actor=SYSTEM_ACTOR,
                organisation_id=slot.organisation_id,
                enabled=True,
                discovery_url=f"{world.issuer}/.well-known/openid-configuration",
                client_id=slot.client_id,
                client_secret=slot.client_secret,
                allow_provisioning=allow_provisioning,
            )
        return slot

    return _configure


def _person(engine: Engine, slot: Slot) -> tuple[int, str]:
    email = f"officer-{uuid.uuid4().hex[:10]}@example.com"
    with transaction(engine) as session:
        user = create_user(
            session=session,
            actor=SYSTEM_ACTOR,
            email=email,
            full_name="Known Officer",
            organisation_id=slot.organisation_id,
            roles=[str(Role.PANEL_MEMBER)],
            password=None,
        )
    return user.id, email


# --- The browser ------------------------------------------------------------------------


class _FormParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.action: str | None = None
        self.fields: dict[str, str] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {k: v or "" for k, v in attrs}
        if tag == "form" and self.action is None:
            self.action = values.get("action", "")
        elif tag == "input" and values.get("name"):
            self.fields[values["name"]] = values.get("value", "")


def _browser() -> httpx.Client:
    return httpx.Client(follow_redirects=False, timeout=15)


def _to_callback(browser: httpx.Client, world: SsoWorld, slot: Slot, login: str) -> str:
    """Start at the portal's SSO link and go through the provider's login and consent pages
    until the provider redirects back to the portal; returns that callback URL unopened."""
    response = browser.get(world.portal_url + login_path(slot.slug))
    assert response.status_code in (302, 303, 307), response.text
    authorize = urlsplit(response.headers["location"])
    assert f"{authorize.scheme}://{authorize.netloc}" == world.issuer
    query = parse_qs(authorize.query)
    assert query["code_challenge_method"] == ["S256"]
    assert query["code_challenge"][0] and query["state"][0] and query["nonce"][0]
    assert query["redirect_uri"] == [world.portal_url + callback_path(slot.slug)]
    assert set(query["scope"][0].split()) == {"openid", "email", "profile"}
    assert OIDC_COOKIE in browser.cookies

    callback_prefix = world.portal_url + callback_path(slot.slug)
    method, url, data = "GET", response.headers["location"], None
    for _ in range(20):
        response = browser.request(method, url, data=data)
        if response.is_redirect:
            url = urljoin(url, response.headers["location"])
            if url.startswith(callback_prefix):
                return url
            method, data = "GET", None
            continue
        assert response.status_code == 200, f"{response.status_code} from {url}: {response.text[:2000]}"
        form = _FormParser()
        form.feed(response.text)
        assert form.action is not None, response.text[:2000]
        prompt = form.fields.get("prompt")
        if prompt == "login":
            data = {"prompt": "login", "login": login, "password": "anything"}
        elif prompt == "consent":
            data = {"prompt": "consent"}
        else:
            raise AssertionError(f"unexpected provider page: {response.text[:2000]}")
        method, url = "POST", urljoin(url, form.action)
    raise AssertionError("the provider never sent the browser back to the portal")


@dataclass
class Outcome:
    location: str
    session_cookie: str | None

    @property
    def error(self) -> str | None:
        parts = urlsplit(self.location)
        if parts.path != "/signin":
            return None
        return unquote(parse_qs(parts.query)["error"][0])


def _open_callback(browser: httpx.Client, url: str) -> Outcome:
    response = browser.get(url)
    assert response.status_code == 303, response.text
    cookie = None
    for header in response.headers.get_list("set-cookie"):
        if header.startswith(f"{SESSION_COOKIE}="):
            cookie = header.split(";", 1)[0].split("=", 1)[1]
            assert "HttpOnly" in header and "SameSite=lax" in header and "Path=/" in header
            assert "Max-Age" not in header and "expires" not in header.lower()
    return Outcome(location=response.headers["location"], session_cookie=cookie)


def _sign_in(world: SsoWorld, slot: Slot, login: str, browser: httpx.Client | None = None) -> Outcome:
    with contextlib.ExitStack() as stack:
        if browser is None:
            browser = stack.enter_context(_browser())
        return _open_callback(browser, _to_callback(browser, world, slot, login))


def _whoami(world: SsoWorld, token: str) -> str:
    response = httpx.get(world.portal_url + "/", cookies={SESSION_COOKIE: token})
    assert response.status_code == 200, response.text
    return response.text


def _events(db: Session, action: AuditAction, subject_type: str, subject_id: int) -> list[AuditEvent]:
    db.expire_all()
    return list(
        db.exec(
            select(AuditEvent)
            .where(
                AuditEvent.action == str(action),
                AuditEvent.subject_type == subject_type,
                AuditEvent.subject_id == str(subject_id),
            )
            .order_by(col(AuditEvent.id))
        ).all()
    )


# --- Tests ------------------------------------------------------------------------------


def test_known_person_signs_in_and_is_linked(
    world: SsoWorld, organisation: Callable[..., Slot], engine: Engine, db: Session
) -> None:
    slot = organisation()
    user_id, email = _person(engine, slot)

    with _browser() as browser:
        outcome = _sign_in(world, slot, login=email, browser=browser)
        # The state, nonce and PKCE verifier are spent: the short-lived cookie is gone.
        assert OIDC_COOKIE not in browser.cookies

    assert outcome.error is None and outcome.location == "/"
    assert outcome.session_cookie
    assert _whoami(world, outcome.session_cookie) == email
    links = db.exec(select(ExternalIdentity).where(ExternalIdentity.user_id == user_id)).all()
    assert [(link.issuer, link.subject) for link in links] == [(world.issuer, email)]
    [linked] = _events(db, AuditAction.SSO_IDENTITY_LINKED, "user", user_id)
    assert linked.detail == {"issuer": world.issuer, "subject": email}
    [succeeded] = _events(db, AuditAction.SIGNIN_SUCCEEDED, "user", user_id)
    assert succeeded.detail["method"] == "sso"
    assert succeeded.ip_address == "127.0.0.1"


def test_second_sign_in_matches_by_issuer_and_subject(
    world: SsoWorld, organisation: Callable[..., Slot], engine: Engine, db: Session
) -> None:
    slot = organisation()
    user_id, email = _person(engine, slot)
    first = _sign_in(world, slot, login=email)
    assert first.session_cookie
    # The portal's copy of the email changes: the link, not the email, must find the person.
    renamed = f"renamed-{uuid.uuid4().hex[:8]}@example.com"
    with transaction(engine) as session:
        session.execute(update(User).where(col(User.id) == user_id).values(email=renamed))

    second = _sign_in(world, slot, login=email)

    assert second.error is None and second.session_cookie
    assert second.session_cookie != first.session_cookie
    assert _whoami(world, second.session_cookie) == renamed
    assert len(db.exec(select(ExternalIdentity).where(ExternalIdentity.user_id == user_id)).all()) == 1
    assert len(_events(db, AuditAction.SSO_IDENTITY_LINKED, "user", user_id)) == 1
    assert len(_events(db, AuditAction.SIGNIN_SUCCEEDED, "user", user_id)) == 2


def test_a_stranger_is_refused_with_a_clear_message(
    world: SsoWorld, organisation: Callable[..., Slot], db: Session
) -> None:
    slot = organisation()
    login = f"stranger-{uuid.uuid4().hex[:8]}"

    outcome = _sign_in(world, slot, login=login)

    assert outcome.session_cookie is None
    assert outcome.error is not None
    assert "no portal account" in outcome.error
    assert f"{login}@police.demo" in outcome.error and slot.name in outcome.error
    assert db.exec(select(User).where(User.email == f"{login}@police.demo")).first() is None
    refused = _events(db, AuditAction.SSO_SIGNIN_REFUSED, "organisation", slot.organisation_id)
    assert [(e.reason, e.actor_label, e.detail) for e in refused] == [
        ("no account and provisioning not allowed", f"{login}@police.demo", {"issuer": world.issuer, "subject": login})
    ]


def test_a_stranger_is_provisioned_as_panel_member_when_allowed(
    world: SsoWorld, organisation: Callable[..., Slot], db: Session
) -> None:
    slot = organisation(allow_provisioning=True)
    login = f"newcomer-{uuid.uuid4().hex[:8]}"
    email = f"{login}@police.demo"

    outcome = _sign_in(world, slot, login=login)

    assert outcome.error is None and outcome.session_cookie
    assert _whoami(world, outcome.session_cookie) == email
    user = db.exec(select(User).where(User.email == email)).one()
    assert user.organisation_id == slot.organisation_id
    assert user.full_name == f"Test {login}"
    assert user.password_hash is None
    assert db.exec(select(UserRole.role).where(UserRole.user_id == user.id)).all() == [Role.PANEL_MEMBER]
    link = db.exec(select(ExternalIdentity).where(ExternalIdentity.user_id == user.id)).one()
    assert (link.issuer, link.subject) == (world.issuer, login)
    assert user.id is not None
    [provisioned] = _events(db, AuditAction.SSO_USER_PROVISIONED, "user", user.id)
    assert provisioned.detail["roles"] == [str(Role.PANEL_MEMBER)]


def _with_state(url: str, state: str) -> str:
    parts = urlsplit(url)
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    query["state"] = state
    return urlunsplit(parts._replace(query=urlencode(query)))


def test_a_tampered_state_is_refused(
    world: SsoWorld, organisation: Callable[..., Slot], engine: Engine, db: Session
) -> None:
    slot = organisation()
    user_id, email = _person(engine, slot)
    with _browser() as browser:
        callback = _to_callback(browser, world, slot, login=email)
        outcome = _open_callback(browser, _with_state(callback, "tampered-" + uuid.uuid4().hex))

    assert outcome.session_cookie is None
    assert outcome.error == f"Signing in with {slot.name} did not complete. Please try again."
    assert not db.exec(select(ExternalIdentity).where(ExternalIdentity.user_id == user_id)).all()
    assert not _events(db, AuditAction.SIGNIN_SUCCEEDED, "user", user_id)
    refused = _events(db, AuditAction.SSO_SIGNIN_REFUSED, "organisation", slot.organisation_id)
    assert [e.reason for e in refused] == ["OpenID Connect check failed: mismatching_state"]


def test_a_callback_in_another_browser_is_refused(
    world: SsoWorld, organisation: Callable[..., Slot], engine: Engine, db: Session
) -> None:
    """Login CSRF: a genuine code and state, delivered to a browser that did not start the
    sign-in (no state cookie), must not sign that browser in."""
    slot = organisation()
    user_id, email = _person(engine, slot)
    with _browser() as victim_of_attack, _browser() as attacker:
        callback = _to_callback(attacker, world, slot, login=email)
        outcome = _open_callback(victim_of_attack, callback)

    assert outcome.session_cookie is None
    assert outcome.error is not None and "did not complete" in outcome.error
    assert not _events(db, AuditAction.SIGNIN_SUCCEEDED, "user", user_id)


def test_sign_in_for_an_organisation_without_sso_is_explained(world: SsoWorld, engine: Engine) -> None:
    with transaction(engine) as session:
        org = create_organisation(
            session=session,
            actor=SYSTEM_ACTOR,
            name=f"No SSO {uuid.uuid4().hex[:8]}",
            type=str(OrganisationType.POLICE),
        )
    with _browser() as browser:
        response = browser.get(world.portal_url + login_path(org.slug))
    assert response.status_code == 303
    error = Outcome(location=response.headers["location"], session_cookie=None).error
    assert error is not None and "not set up" in error
