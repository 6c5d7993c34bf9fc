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

# Plain HTTP routes (Starlette), outside the Reflex event system.
AUTH_COMPLETE = "/auth/complete"
AUTH_SIGN_OUT = "/auth/signout"
AGENCY_ACTIONS_CSV = "/export/agency-actions.csv"


def item(item_id: int | str) -> str:
    return f"/sharing/information/{item_id}"


def case(case_id: int | str) -> str:
    return f"/cases/{case_id}"


def case_plan(case_id: int | str) -> str:
    return f"/cases/{case_id}/plan"


def action(action_id: int | str) -> str:
    return f"/actions/{action_id}"


def sso_login(slug: str) -> str:
    return f"/auth/sso/{slug}/login"
