"""The portal's session cookie, shared by every way of signing in (password and SSO).

The browser only ever holds a random token; the server-side session row behind it carries
the idle timeout, so the cookie itself has no lifetime (it ends with the browser session).
This module must not import Reflex: plain Starlette routes use it too.
"""

from __future__ import annotations

from starlette.requests import HTTPConnection
from starlette.responses import Response

from sharing.config import get_settings

SESSION_COOKIE = "portal_session"
COOKIE_PATH = "/"


def set_session_cookie(response: Response, token: str) -> None:
    """Attach the session token: HttpOnly, SameSite=Lax, Secure when the portal is on https."""
    response.set_cookie(
        SESSION_COOKIE,
        token,
        path=COOKIE_PATH,
        httponly=True,
        samesite="lax",
        secure=get_settings().cookies_secure,
    )


def clear_session_cookie(response: Response) -> None:
    """Tell the browser to forget the session token (same attributes, so it really goes)."""
    response.delete_cookie(
        SESSION_COOKIE,
        path=COOKIE_PATH,
        httponly=True,
        samesite="lax",
        secure=get_settings().cookies_secure,
    )


def session_token(request: HTTPConnection) -> str | None:
    """The session token the browser sent, if any."""
    return request.cookies.get(SESSION_COOKIE) or None


def client_ip(request: HTTPConnection) -> str | None:
    """The peer address for the audit trail.  Behind a reverse proxy, run uvicorn with
    ``--proxy-headers --forwarded-allow-ips=...`` so this is the person's address."""
    if request.client is None or not request.client.host:
        return None
    return request.client.host[:64]
