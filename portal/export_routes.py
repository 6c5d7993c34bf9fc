"""Plain HTTP downloads beside the Reflex app, for the signed-in person: the agency's actions
as CSV and an incident's evidence files.  No Reflex import; every file comes from a service,
which checks, logs and audits."""

from __future__ import annotations

import re
from urllib.parse import quote

from sqlmodel import Session
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from panels.action_plans import export_agency_actions_csv
from panels.incidents import download_evidence
from portal import routes
from portal.downloads import as_signed_in, attachment
from sharing.db import utcnow
from sharing.permissions import Actor


async def agency_actions_csv(request: Request) -> Response:
    """The signed-in manager's organisation's actions (``?closed=1``: closed ones too)."""
    include_closed = request.query_params.get("closed") == "1"

    def _csv(session: Session, actor: Actor) -> Response:
        body = export_agency_actions_csv(session=session, actor=actor, include_closed=include_closed)
        return attachment(
            body.encode("utf-8"),
            "text/csv; charset=utf-8",
            f'attachment; filename="agency-actions-{utcnow():%Y-%m-%d}.csv"',
        )

    return as_signed_in(request, _csv)


def _attachment_name(filename: str) -> str:
    """A ``Content-Disposition`` value for a name someone uploaded: a plain ASCII fallback
    and the real name percent-encoded (RFC 6266), so no quote or newline reaches the header."""
    fallback = re.sub(r"[^A-Za-z0-9._ -]", "_", filename).strip() or "evidence"
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"


async def evidence_file(request: Request) -> Response:
    """An incident's evidence file, for a signed-in reader the service allows."""
    evidence_id = int(request.path_params["evidence_id"])

    def _file(session: Session, actor: Actor) -> Response:
        file = download_evidence(session=session, actor=actor, evidence_id=evidence_id)
        return attachment(file.content, file.content_type, _attachment_name(file.filename))

    return as_signed_in(request, _file)


def export_routes() -> list[Route]:
    return [
        Route(routes.AGENCY_ACTIONS_CSV, agency_actions_csv, methods=["GET"]),
        Route(routes.EVIDENCE_FILE, evidence_file, methods=["GET"]),
    ]
