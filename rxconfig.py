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

config = rx.Config(
    app_name="portal",
    redis_url=settings.redis_url,
    telemetry_enabled=False,
    show_built_with_reflex=False,
    deploy_url=settings.public_url,
    api_url=settings.public_url,
    plugins=[
        rx.plugins.RadixThemesPlugin(
            theme=rx.theme(appearance="light", accent_color="indigo", gray_color="slate", radius="medium")
        ),
    ],
    disable_plugins=[rx.plugins.SitemapPlugin],
)
