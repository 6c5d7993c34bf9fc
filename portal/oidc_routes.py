"""Single sign-on per organisation: OpenID Connect authorization code flow with PKCE.

Authlib does the protocol: it keeps ``state``, ``nonce`` and the PKCE ``code_verifier`` in a
short-lived signed cookie (Starlette's ``SessionMiddleware``, see :func:`oidc_middleware`),
checks the state on the way back, exchanges the code with the verifier and validates the ID
token (signature, issuer, audience, expiry, nonce).  :func:`sharing.sso.sign_in_with_claims`
then decides who signs in; the one-time ticket it returns is redeemed at once for the
portal's session cookie.

Plain Starlette routes, outside the Reflex event system: this module must not import Reflex.
"""

from __future__ import annotations

import hashlib
import logging
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from authlib.integrations.starlette_client import StarletteIntegration, StarletteOAuth2App
from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from portal.session_cookie import client_ip, set_session_cookie
from sharing.accounts import redeem_ticket
from sharing.audit import AuditAction, Outcome, record_event
from sharing.config import get_settings
from sharing.db import transaction
from sharing.errors import DomainError, NotFound
from sharing.sso import SsoSettings, get_sso_settings, sign_in_with_claims

log = logging.getLogger(__name__)

OIDC_COOKIE = "portal_oidc"
OIDC_COOKIE_PATH = "/auth/sso"
OIDC_COOKIE_MAX_AGE = 600
SIGN_IN_PATH = "/signin"
HOME_PATH = "/"
SCOPES = "openid email profile"
# Re-read the provider's discovery document (endpoints, signing keys) at most this often.
METADATA_MAX_AGE = 3600.0
HTTP_TIMEOUT = 10.0


def login_path(slug: str) -> str:
    return f"/auth/sso/{slug}/login"


def callback_path(slug: str) -> str:
    return f"/auth/sso/callback/{slug}"


def redirect_uri_for(slug: str) -> str:
    """The redirect URI to register at the organisation's identity provider."""
    return f"{get_settings().public_url}{callback_path(slug)}"


# --- Authlib clients, one per organisation and configuration -------------------------------


@dataclass
class _CachedClient:
    client: StarletteOAuth2App
    created_at: float


_clients: dict[tuple[str, str, str, str], _CachedClient] = {}


def oidc_client(sso: SsoSettings) -> StarletteOAuth2App:
    """The Authlib client for an organisation's identity provider.  Cached per configuration,
    so the discovery document is not fetched on every sign-in; a changed configuration (or an
    hour passing) gives a fresh client."""
    secret_digest = hashlib.sha256(sso.client_secret.encode("utf-8")).hexdigest()
    key = (sso.slug, sso.discovery_url, sso.client_id, secret_digest)
    cached = _clients.get(key)
    now = time.monotonic()
    if cached is not None and now - cached.created_at < METADATA_MAX_AGE:
        return cached.client
    for old in [k for k in _clients if k[0] == sso.slug]:
        del _clients[old]
    # The name keys Authlib's state data in the session cookie: one per organisation, so a
    # flow started with one organisation cannot be completed as another.
    name = f"sso-{sso.slug}"
    client = StarletteOAuth2App(
        StarletteIntegration(name),
        name,
        client_id=sso.client_id,
        client_secret=sso.client_secret,
        server_metadata_url=sso.discovery_url,
        client_kwargs={"scope": SCOPES, "code_challenge_method": "S256", "timeout": HTTP_TIMEOUT},
    )
    _clients[key] = _CachedClient(client=client, created_at=now)
    return client


def clear_client_cache() -> None:
    _clients.clear()


# --- Helpers ----------------------------------------------------------------------------


def _to_sign_in(message: str) -> RedirectResponse:
    response = RedirectResponse(f"{SIGN_IN_PATH}?error={quote(message, safe='')}", status_code=303)
    response.headers["Cache-Control"] = "no-store"
    return response


def _load_settings(slug: str) -> SsoSettings:
    with transaction() as session:
        return get_sso_settings(session=session, slug=slug)


def _audit_protocol_failure(sso: SsoSettings, reason: str, ip_address: str | None) -> None:
    """A sign-in that failed before anyone could be identified (bad state, bad ID token,
    provider error) still belongs in the trail."""
    with transaction() as session:
        record_event(
            session,
            action=AuditAction.SSO_SIGNIN_REFUSED,
            outcome=Outcome.FAILURE,
            subject_type="organisation",
            subject_id=sso.organisation_id,
            reason=reason[:500],
            ip_address=ip_address,
        )


def _sign_in(sso: SsoSettings, claims: dict[str, Any], ip_address: str | None, user_agent: str | None) -> str:
    """Match the claims to an account and start a session; returns the session token."""
    with transaction() as session:
        ticket = sign_in_with_claims(session=session, sso=sso, claims=claims, ip_address=ip_address)
    with transaction() as session:
        started = redeem_ticket(session=session, ticket=ticket, ip_address=ip_address, user_agent=user_agent)
    return started.token


def _settings_or_none(slug: str) -> SsoSettings | None:
    try:
        return _load_settings(slug)
    except NotFound:
        return None
    except ValueError:
        # The stored client secret cannot be decrypted (the secret key changed).
        log.exception("SSO settings for %s cannot be read", slug)
        return None


NOT_SET_UP = "Single sign-on is not set up for that organisation. Sign in with your email and password."


# --- Routes -----------------------------------------------------------------------------


async def sso_login(request: Request) -> Response:
    """Send the person to their organisation's identity provider."""
    slug = str(request.path_params["slug"])
    sso = await run_in_threadpool(_settings_or_none, slug)
    if sso is None:
        return _to_sign_in(NOT_SET_UP)
    client = oidc_client(sso)
    try:
        response: Response = await client.authorize_redirect(request, redirect_uri_for(slug))
    except Exception:
        log.exception("cannot start single sign-on for %s with %s", slug, sso.discovery_url)
        return _to_sign_in(
            f"The sign-in service of {sso.name} cannot be reached just now. "
            "Please try again in a few minutes, or sign in with your email and password."
        )
    return response


async def sso_callback(request: Request) -> Response:
    """Where the identity provider sends the person back with an authorization code."""
    slug = str(request.path_params["slug"])
    ip_address = client_ip(request)
    sso = await run_in_threadpool(_settings_or_none, slug)
    if sso is None:
        return _to_sign_in(NOT_SET_UP)
    client = oidc_client(sso)
    failed = f"Signing in with {sso.name} did not complete. Please try again."

    provider_error = request.query_params.get("error")
    if provider_error:
        await run_in_threadpool(
            _audit_protocol_failure, sso, f"identity provider answered {provider_error}", ip_address
        )
        if provider_error == "access_denied":
            return _to_sign_in(f"Signing in with {sso.name} was cancelled.")
        return _to_sign_in(failed)

    try:
        metadata = await client.load_server_metadata()
        # RFC 9207: when the provider names itself in the response, it must be the one we asked.
        returned_issuer = request.query_params.get("iss")
        if returned_issuer is not None and returned_issuer != metadata.get("issuer"):
            raise ValueError(f"authorization response from issuer {returned_issuer!r}")
        # Checks state, exchanges the code with the PKCE verifier, validates the ID token + nonce.
        token = await client.authorize_access_token(request)
        id_claims = token.get("userinfo")
        if not id_claims:
            raise ValueError("no validated ID token in the token response")
        claims: dict[str, Any] = dict(id_claims)
        if not claims.get("email") and metadata.get("userinfo_endpoint"):
            # Many providers put email and name only in the UserInfo response.
            extra = await client.userinfo(token=token)
            if str(extra.get("sub")) != str(claims.get("sub")):
                raise ValueError("UserInfo subject differs from the ID token subject")
            claims = {**dict(extra), **claims}
    except Exception as error:
        reason = getattr(error, "error", None) or type(error).__name__
        log.warning("single sign-on for %s failed: %s: %s", slug, reason, error)
        await run_in_threadpool(_audit_protocol_failure, sso, f"OpenID Connect check failed: {reason}", ip_address)
        return _to_sign_in(failed)

    try:
        token_value = await run_in_threadpool(_sign_in, sso, claims, ip_address, request.headers.get("user-agent"))
    except DomainError as error:
        return _to_sign_in(error.message)
    response = RedirectResponse(HOME_PATH, status_code=303)
    response.headers["Cache-Control"] = "no-store"
    set_session_cookie(response, token_value)
    return response


def oidc_routes() -> list[Route]:
    """The single sign-on routes, to mount on the portal's Starlette app."""
    return [
        Route("/auth/sso/{slug}/login", sso_login, methods=["GET"], name="sso_login"),
        Route("/auth/sso/callback/{slug}", sso_callback, methods=["GET"], name="sso_callback"),
    ]


def oidc_middleware() -> list[Middleware]:
    """The signed cookie Authlib keeps state, nonce and PKCE verifier in during a sign-in.
    Only sent to the SSO routes, lives ten minutes, signed with a key derived from the
    portal's secret key."""
    settings = get_settings()
    key = hashlib.sha256(b"portal-oidc-state:" + settings.resolved_secret_key().encode("utf-8")).hexdigest()
    return [
        Middleware(
            SessionMiddleware,
            secret_key=key,
            session_cookie=OIDC_COOKIE,
            path=OIDC_COOKIE_PATH,
            same_site="lax",
            https_only=settings.cookies_secure,
            max_age=OIDC_COOKIE_MAX_AGE,
        )
    ]
