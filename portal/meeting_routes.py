"""Plain HTTP routes for a meeting's files: its calendar entry, the meeting pack and the
minutes as watermarked PDFs (for the signed-in person, through the session cookie), and each
person's calendar feed (for calendar programs: the secret token in the address is the key).
No Reflex import; every file comes from a service, which checks, logs and audits."""

from __future__ import annotations

from collections.abc import Callable

from sqlmodel import Session
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from panels.meetings import calendar_feed, download_meeting_ics
from panels.minutes import minutes_pdf
from panels.packs import pack_pdf
from portal import routes
from portal.downloads import as_signed_in, attachment, refusal
from sharing.db import transaction
from sharing.errors import DomainError
from sharing.permissions import Actor

ICS = "text/calendar; charset=utf-8"
PDF = "application/pdf"


def _as_signed_in(
    request: Request, make: Callable[[Session, Actor, int], bytes], media_type: str, filename: str
) -> Response:
    meeting_id = int(request.path_params["meeting_id"])
    disposition = f'attachment; filename="{filename.format(meeting_id=meeting_id)}"'
    return as_signed_in(
        request, lambda session, actor: attachment(make(session, actor, meeting_id), media_type, disposition)
    )


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
        return refusal(error)
    return Response(content, media_type=ICS, headers={"Cache-Control": "no-store"})


def meeting_file_routes() -> list[Route]:
    return [
        Route(routes.MEETING_ICS, meeting_ics_route, methods=["GET"]),
        Route(routes.MEETING_PACK_PDF, pack_pdf_route, methods=["GET"]),
        Route(routes.MEETING_MINUTES_PDF, minutes_pdf_route, methods=["GET"]),
        Route(routes.CALENDAR_FEED, calendar_feed_route, methods=["GET"]),
    ]
