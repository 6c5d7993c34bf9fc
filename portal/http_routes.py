"""Plain HTTP routes beside the Reflex app: finishing a password sign-in (exchanging the
one-time ticket for an HttpOnly session cookie) and signing out.  No Reflex import."""

from __future__ import annotations

from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from portal import routes
from portal.session_cookie import clear_session_cookie, client_ip, session_token, set_session_cookie
from sharing.accounts import redeem_ticket, sign_out
from sharing.config import get_settings
from sharing.db import transaction
from sharing.errors import DomainError


def _to_sign_in(message: str) -> RedirectResponse:
    return RedirectResponse(f"{routes.SIGN_IN}?notice={quote(message)}", status_code=303)


async def complete_sign_in(request: Request) -> Response:
    ticket = request.query_params.get("ticket", "")
    try:
        with transaction() as session:
            started = redeem_ticket(
                session=session,
                ticket=ticket,
                ip_address=client_ip(request),
                user_agent=request.headers.get("user-agent"),
            )
    except DomainError as error:
        return _to_sign_in(error.message)
    response = RedirectResponse(routes.HOME, status_code=303)
    set_session_cookie(response, started.token)
    response.headers["Cache-Control"] = "no-store"
    return response


def _same_origin(request: Request) -> bool:
    """Refuse cross-site form posts (belt and braces over SameSite=Lax)."""
    origin = request.headers.get("origin")
    if not origin or origin == "null":
        return True
    allowed = {get_settings().public_url, f"{request.url.scheme}://{request.url.netloc}"}
    return origin.rstrip("/") in allowed


async def sign_out_route(request: Request) -> Response:
    if not _same_origin(request):
        return Response("Cross-site sign-out refused.", status_code=403)
    with transaction() as session:
        sign_out(session=session, token=session_token(request), ip_address=client_ip(request))
    response = _to_sign_in("You have signed out.")
    clear_session_cookie(response)
    return response


def auth_routes() -> list[Route]:
    return [
        Route(routes.AUTH_COMPLETE, complete_sign_in, methods=["GET"]),
        Route(routes.AUTH_SIGN_OUT, sign_out_route, methods=["POST"]),
    ]
