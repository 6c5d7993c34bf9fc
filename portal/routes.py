"""Every path the portal serves, in one place."""

HOME = "/"
SIGN_IN = "/signin"
PANELS = "/panels"
ADMIN_ORGANISATIONS = "/admin/organisations"
ADMIN_USERS = "/admin/users"
AUDIT = "/admin/audit"

# Plain HTTP routes (Starlette), outside the Reflex event system.
AUTH_COMPLETE = "/auth/complete"
AUTH_SIGN_OUT = "/auth/signout"


def sso_login(slug: str) -> str:
    return f"/auth/sso/{slug}/login"
