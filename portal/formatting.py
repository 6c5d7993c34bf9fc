"""Turning domain values into text people read (times in the portal's time zone)."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from sharing.config import get_settings

ACTION_LABELS = {
    "auth:signin:succeeded": "Signed in",
    "auth:signin:failed": "Sign-in failed",
    "auth:totp:failed": "Wrong authenticator code",
    "auth:account:locked": "Account locked",
    "auth:totp:enrolled": "Authenticator set up",
    "auth:signout:completed": "Signed out",
    "auth:session:expired": "Session ended",
    "auth:sso:refused": "Single sign-on refused",
    "auth:sso:linked": "Single sign-on linked",
    "auth:sso:provisioned": "Account created by single sign-on",
    "access:permission:denied": "Permission denied",
    "admin:organisation:created": "Organisation added",
    "admin:organisation:sso_configured": "Single sign-on set up",
    "admin:user:created": "Account created",
    "admin:user:deactivated": "Account deactivated",
    "admin:user:reactivated": "Account reactivated",
    "admin:user:password_reset": "Password reset",
    "admin:user:totp_reset": "Authenticator reset",
    "system:demo:seeded": "Demo data added",
}


def local_time(moment: datetime | None, empty: str = "Never") -> str:
    if moment is None:
        return empty
    return moment.astimezone(ZoneInfo(get_settings().timezone)).strftime("%-d %b %Y, %H:%M")


def day_text(day: date | None, empty: str = "Not set") -> str:
    """A calendar day in words, e.g. "21 Nov 2026"."""
    return f"{day.day} {day:%b %Y}" if day is not None else empty


def action_label(action: str) -> str:
    return ACTION_LABELS.get(action, action)
