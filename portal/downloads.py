"""Plain HTTP downloads for the signed-in person (the session cookie, as the Reflex pages
use it): one way to resolve the person, run one service in one transaction and turn its
domain errors into plain answers.  No Reflex import."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import quote

from sqlmodel import Session
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from portal import routes
from portal.session_cookie import client_ip, session_token
from sharing.accounts import resolve_session
from sharing.db import transaction
from sharing.errors import DomainError, NotFound, PermissionDenied, SessionExpired
from sharing.permissions import Actor


def attachment(content: bytes, media_type: str, disposition: str) -> Response:
    """A file to save, never to be cached or sniffed as another type."""
    return Response(
        content,
        media_type=media_type,
        headers={
            "Content-Disposition": disposition,
            "Cache-Control": "no-store",
            "X-Content-Type-Options": "nosniff",
        },
    )


def refusal(error: DomainError) -> Response:
    status = 403 if isinstance(error, PermissionDenied) else 404 if isinstance(error, NotFound) else 409
    return Response(error.message, status_code=status, media_type="text/plain; charset=utf-8")


def as_signed_in(request: Request, make: Callable[[Session, Actor], Response]) -> Response:
    """``make``'s response for the signed-in person; to sign-in when their session ended."""
    try:
        with transaction() as session:
            actor = resolve_session(session=session, token=session_token(request), ip_address=client_ip(request))
            return make(session, actor)
    except SessionExpired as error:
        return RedirectResponse(f"{routes.SIGN_IN}?notice={quote(error.message)}", status_code=303)
    except DomainError as error:
        return refusal(error)
