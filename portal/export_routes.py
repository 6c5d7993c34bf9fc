"""Plain HTTP downloads beside the Reflex app, authorised by the session cookie like
``portal.http_routes``: the agency's actions as CSV.  No Reflex import."""

from __future__ import annotations

from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from panels.action_plans import export_agency_actions_csv
from portal import routes
from portal.session_cookie import client_ip, session_token
from sharing.accounts import resolve_session
from sharing.db import transaction, utcnow
from sharing.errors import DomainError, PermissionDenied, SessionExpired


async def agency_actions_csv(request: Request) -> Response:
    """The signed-in manager's organisation's actions (``?closed=1``: closed ones too)."""
    include_closed = request.query_params.get("closed") == "1"
    try:
        with transaction() as session:
            actor = resolve_session(session=session, token=session_token(request), ip_address=client_ip(request))
            body = export_agency_actions_csv(session=session, actor=actor, include_closed=include_closed)
    except SessionExpired as error:
        return RedirectResponse(f"{routes.SIGN_IN}?notice={quote(error.message)}", status_code=303)
    except PermissionDenied as error:
        return Response(error.message, status_code=403, media_type="text/plain; charset=utf-8")
    except DomainError as error:
        return Response(error.message, status_code=400, media_type="text/plain; charset=utf-8")
    filename = f"agency-actions-{utcnow():%Y-%m-%d}.csv"
    return Response(
        body,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"', "Cache-Control": "no-store"},
    )


def export_routes() -> list[Route]:
    return [Route(routes.AGENCY_ACTIONS_CSV, agency_actions_csv, methods=["GET"])]
