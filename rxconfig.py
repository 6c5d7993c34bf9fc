"""Reflex configuration.  Deployment settings come from ``PORTAL_*`` variables (see
``sharing/config.py``); a bad value stops start-up here with a message naming it."""

import sys

import reflex as rx

from sharing.config import ConfigError, get_settings

try:
    settings = get_settings()
except ConfigError as error:
    print(error, file=sys.stderr)
    raise SystemExit(2) from None

# Where the browser sends its events: the public address when it is fixed (PORTAL_PUBLIC_URL, or
# PORTAL_PORT as `make run PORT=8080` sets it); otherwise Reflex derives it from the port it is
# started on (`reflex run --frontend-port 8080 --backend-port 8080`), as the settings do.
addresses = {"deploy_url": settings.public_url, "api_url": settings.public_url} if settings.public_url_is_fixed else {}

config = rx.Config(
    app_name="portal",
    redis_url=settings.redis_url,
    telemetry_enabled=False,
    show_built_with_reflex=False,
    **addresses,
    plugins=[
        rx.plugins.RadixThemesPlugin(
            theme=rx.theme(appearance="light", accent_color="indigo", gray_color="slate", radius="medium")
        ),
    ],
    disable_plugins=[rx.plugins.SitemapPlugin],
)
