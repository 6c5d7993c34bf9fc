"""The Reflex app: pages, theme and the plain HTTP routes for signing in and out."""

from __future__ import annotations

import reflex as rx
from starlette.applications import Starlette

from portal.background import run_scheduler
from portal.http_routes import auth_routes
from portal.meeting_routes import meeting_file_routes
from portal.oidc_routes import oidc_middleware, oidc_routes
from portal.pages import (  # noqa: F401  (registers the pages)
    admin_organisations,
    admin_users,
    agreements,
    audit,
    case_detail,
    cases,
    console,
    home,
    information,
    meeting,
    panel,
    panels,
    people,
    records,
    reports,
    share,
    signin,
)

app = rx.App(
    stylesheets=["/portal.css"],
    head_components=[rx.el.meta(name="robots", content="noindex")],
    api_transformer=Starlette(
        routes=[*auth_routes(), *oidc_routes(), *meeting_file_routes()], middleware=oidc_middleware()
    ),
    html_lang="en-GB",
)
app.register_lifespan_task(run_scheduler)
