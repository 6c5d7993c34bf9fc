"""How Reflex State reaches the domain: one transaction per action, the actor from the
session cookie, and domain errors turned into words for the page.  No database work
happens in State outside these helpers."""

from __future__ import annotations

from collections.abc import Callable
from http.cookies import SimpleCookie
from typing import TypeVar

from sqlmodel import Session

from portal.session_cookie import SESSION_COOKIE
from sharing.accounts import resolve_session
from sharing.db import transaction
from sharing.permissions import Actor

T = TypeVar("T")


def session_token_from_cookie_header(cookie_header: str) -> str | None:
    """The session token from a raw ``Cookie`` header (Reflex gives State the header only)."""
    if not cookie_header:
        return None
    jar: SimpleCookie = SimpleCookie()
    try:
        jar.load(cookie_header)
    except Exception:  # a malformed cookie from another app on the same host
        return None
    morsel = jar.get(SESSION_COOKIE)
    return morsel.value if morsel else None


def run_as(cookie_header: str, ip_address: str | None, action: Callable[[Session, Actor], T]) -> T:
    """Resolve the signed-in person and run ``action`` in one transaction.

    Raises ``SessionExpired`` when there is nobody signed in (after recording why)."""
    token = session_token_from_cookie_header(cookie_header)
    with transaction() as session:
        actor = resolve_session(session=session, token=token, ip_address=ip_address)
        return action(session, actor)
