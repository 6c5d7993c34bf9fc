"""Every path the portal serves, in one place."""

HOME = "/"
SIGN_IN = "/signin"
PANELS = "/panels"
ADMIN_ORGANISATIONS = "/admin/organisations"
ADMIN_USERS = "/admin/users"
AUDIT = "/admin/audit"
INFORMATION = "/sharing/information"
ITEM = "/sharing/information/[item_id]"
SHARE = "/sharing/share"
PEOPLE = "/sharing/people"
RECORDS = "/sharing/records"
CONSOLE = "/sharing/console"
AGREEMENTS = "/sharing/agreements"
CASES = "/cases"
CASE = "/cases/[case_id]"
REPORTS = "/cases/reports"
MEETING_ROOM = "/meetings/[meeting_id]/room"

# Plain HTTP routes (Starlette), outside the Reflex event system.
AUTH_COMPLETE = "/auth/complete"
AUTH_SIGN_OUT = "/auth/signout"


def item(item_id: int | str) -> str:
    return f"/sharing/information/{item_id}"


def case(case_id: int | str) -> str:
    return f"/cases/{case_id}"


def meeting_room(meeting_id: int | str) -> str:
    return f"/meetings/{meeting_id}/room"


def sso_login(slug: str) -> str:
    return f"/auth/sso/{slug}/login"
