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
CASE_PLAN = "/cases/[case_id]/plan"
MY_ACTIONS = "/actions"
ACTION = "/actions/[action_id]"
ACTIONS_AGENCY = "/actions/agency"
NOTIFICATIONS = "/notifications"
ADMIN_SCHEDULER = "/admin/scheduler"
ADMIN_OUTBOX = "/admin/outbox"
PANEL = "/panels/[panel_id]"
MEETING = "/meetings/[meeting_id]"
MEETING_ROOM = "/meetings/[meeting_id]/room"
ROOM = MEETING_ROOM

# Plain HTTP routes (Starlette), outside the Reflex event system.
AUTH_COMPLETE = "/auth/complete"
AUTH_SIGN_OUT = "/auth/signout"
AGENCY_ACTIONS_CSV = "/export/agency-actions.csv"
MEETING_ICS = "/meetings/{meeting_id:int}.ics"
MEETING_PACK_PDF = "/meetings/{meeting_id:int}/pack.pdf"
MEETING_MINUTES_PDF = "/meetings/{meeting_id:int}/minutes.pdf"
CALENDAR_FEED = "/calendar/{token}.ics"
EVIDENCE_FILE = "/evidence/{evidence_id:int}"


def item(item_id: int | str) -> str:
    return f"/sharing/information/{item_id}"


def case(case_id: int | str) -> str:
    return f"/cases/{case_id}"


def case_plan(case_id: int | str) -> str:
    return f"/cases/{case_id}/plan"


def evidence_file(evidence_id: int | str) -> str:
    return f"/evidence/{evidence_id}"


def action(action_id: int | str) -> str:
    return f"/actions/{action_id}"


def sso_login(slug: str) -> str:
    return f"/auth/sso/{slug}/login"


def panel(panel_id: int | str) -> str:
    return f"/panels/{panel_id}"


def meeting(meeting_id: int | str) -> str:
    return f"/meetings/{meeting_id}"


def meeting_room(meeting_id: int | str) -> str:
    return f"/meetings/{meeting_id}/room"


def meeting_ics(meeting_id: int | str) -> str:
    return f"/meetings/{meeting_id}.ics"


def meeting_pack_pdf(meeting_id: int | str) -> str:
    return f"/meetings/{meeting_id}/pack.pdf"


def meeting_minutes_pdf(meeting_id: int | str) -> str:
    return f"/meetings/{meeting_id}/minutes.pdf"


def calendar_feed(token: str) -> str:
    return f"/calendar/{token}.ics"
