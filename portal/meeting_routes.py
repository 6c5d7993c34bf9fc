"""Plain HTTP routes for a meeting's files: its calendar entry, the meeting pack and the
minutes as watermarked PDFs (for the signed-in person, through the session cookie), and each
person's calendar feed (for calendar programs: the secret token in the address is the key).
No Reflex import; every file comes from a service, which checks, logs and audits."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import quote

from sqlmodel import Session
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from panels.meetings import calendar_feed, download_meeting_ics
from panels.minutes import minutes_pdf
from panels.packs import pack_pdf
from portal import routes
from portal.session_cookie import client_ip, session_token
from sharing.accounts import resolve_session
from sharing.db import transaction
from sharing.errors import DomainError, NotFound, PermissionDenied, SessionExpired
from sharing.permissions import Actor

ICS = "text/calendar; charset=utf-8"
PDF = "application/pdf"


def _file(content: bytes, media_type: str, filename: str) -> Response:
    return Response(
        content,
        media_type=media_type,
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            "Cache-Control": "no-store",
            "X-Content-Type-Options": "nosniff",
        },
    )


def _refusal(error: DomainError) -> Response:
    status = 403 if isinstance(error, PermissionDenied) else 404 if isinstance(error, NotFound) else 409
    return Response(error.message, status_code=status, media_type="text/plain; charset=utf-8")


def _as_signed_in(
    request: Request, make: Callable[[Session, Actor, int], bytes], media_type: str, filename: str
) -> Response:
    meeting_id = int(request.path_params["meeting_id"])
    try:
        with transaction() as session:
            actor = resolve_session(session=session, token=session_token(request), ip_address=client_ip(request))
            content = make(session, actor, meeting_id)
    except SessionExpired as error:
        return RedirectResponse(f"{routes.SIGN_IN}?notice={quote(error.message)}", status_code=303)
    except DomainError as error:
        return _refusal(error)
    return _file(content, media_type, filename.format(meeting_id=meeting_id))


async def meeting_ics_route(request: Request) -> Response:
    return _as_signed_in(
        request,
        lambda session, actor, meeting_id: download_meeting_ics(session=session, actor=actor, meeting_id=meeting_id),
        ICS,
        "meeting-{meeting_id}.ics",
    )


async def pack_pdf_route(request: Request) -> Response:
    return _as_signed_in(
        request,
        lambda session, actor, meeting_id: pack_pdf(session=session, actor=actor, meeting_id=meeting_id),
        PDF,
        "meeting-{meeting_id}-pack.pdf",
    )


async def minutes_pdf_route(request: Request) -> Response:
    return _as_signed_in(
        request,
        lambda session, actor, meeting_id: minutes_pdf(session=session, actor=actor, meeting_id=meeting_id),
        PDF,
        "meeting-{meeting_id}-minutes.pdf",
    )


async def calendar_feed_route(request: Request) -> Response:
    token = str(request.path_params["token"])
    try:
        with transaction() as session:
            content = calendar_feed(session=session, token=token)
    except DomainError as error:
        return _refusal(error)
    return Response(content, media_type=ICS, headers={"Cache-Control": "no-store"})


def meeting_file_routes() -> list[Route]:
    return [
        Route(routes.MEETING_ICS, meeting_ics_route, methods=["GET"]),
        Route(routes.MEETING_PACK_PDF, pack_pdf_route, methods=["GET"]),
        Route(routes.MEETING_MINUTES_PDF, minutes_pdf_route, methods=["GET"]),
        Route(routes.CALENDAR_FEED, calendar_feed_route, methods=["GET"]),
    ]
