"""Signing in with an organisation's own identity provider, through the real portal, in a
real browser, against a real OpenID provider started here on loopback."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from portal.oidc_routes import callback_path
from sharing.db import transaction
from sharing.directory import configure_sso, create_organisation, create_user
from sharing.models import ExternalIdentity, OrganisationType, Role
from sharing.permissions import SYSTEM_ACTOR
from tests.oidc_provider import free_port, start_provider, stop
from tests.web.conftest import axe_violations, wait_for_my_work

pytestmark = pytest.mark.browser


@dataclass(frozen=True)
class Agency:
    name: str
    email: str
    user_id: int
    issuer: str


@pytest.fixture(scope="module")
def agency_with_sso(engine: Engine, portal_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Agency]:
    suffix = uuid.uuid4().hex[:6]
    with transaction(engine) as session:
        org = create_organisation(
            session=session, actor=SYSTEM_ACTOR, name=f"Northshire Police {suffix}", type=str(OrganisationType.POLICE)
        )
        email = f"pc.north.{suffix}@police.demo"
        user = create_user(
            session=session,
            actor=SYSTEM_ACTOR,
            email=email,
            full_name="PC Sam North",
            organisation_id=org.id,
            roles=[str(Role.PANEL_MEMBER)],
            password=None,
        )
    port = free_port()
    issuer = f"http://127.0.0.1:{port}"
    secret = uuid.uuid4().hex * 2
    client = {
        "client_id": f"portal-{org.slug}",
        "client_secret": secret,
        "redirect_uris": [portal_url + callback_path(org.slug)],
    }
    provider = start_provider(port, issuer, [client], tmp_path_factory.mktemp("idp") / "provider.log")
    try:
        with transaction(engine) as session:
            configure_sso(
                session=session,
                actor=SYSTEM_ACTOR,
                organisation_id=org.id,
                enabled=True,
                discovery_url=f"{issuer}/.well-known/openid-configuration",
                client_id=client["client_id"],
                client_secret=secret,
                allow_provisioning=False,
            )
        yield Agency(name=org.name, email=email, user_id=user.id, issuer=issuer)
    finally:
        stop(provider)


def _through_the_provider(page: Page, login: str) -> None:
    page.locator("input[name=login]").fill(login)
    page.locator("input[name=password]").fill("any password the test provider accepts")
    page.locator("button[type=submit]").click()
    page.get_by_role("button", name="Continue").click()  # the provider's consent page


def test_signing_in_with_the_agency_identity_provider(page: Page, agency_with_sso: Agency, engine: Engine) -> None:
    page.goto("/signin/")
    button = page.get_by_role("link", name=f"Sign in with {agency_with_sso.name}")
    expect(button).to_be_visible()
    assert axe_violations(page) == []
    button.click()
    _through_the_provider(page, agency_with_sso.email)
    wait_for_my_work(page)
    expect(page.locator("#my-name")).to_have_text("PC Sam North")
    expect(page.locator("#my-organisation")).to_have_text(agency_with_sso.name)
    with Session(engine) as session:
        link = session.exec(select(ExternalIdentity).where(ExternalIdentity.user_id == agency_with_sso.user_id)).one()
    assert (link.issuer, link.subject) == (agency_with_sso.issuer, agency_with_sso.email)


def test_someone_the_portal_does_not_know_is_refused(page: Page, agency_with_sso: Agency) -> None:
    page.goto("/signin/")
    page.get_by_role("link", name=f"Sign in with {agency_with_sso.name}").click()
    _through_the_provider(page, "visitor-without-account")
    expect(page.get_by_text("there is no portal account for visitor-without-account@police.demo")).to_be_visible()
    expect(page.get_by_role("heading", name="My work")).to_have_count(0)
