"""The one permission enum, the roles that grant each permission, and the ``Actor`` value.

Permissions are named ``scope:resource:action`` and are checked in services, never only in
the UI: any browser can call any event handler.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from sharing.models import OrganisationType, Role


class Permission(StrEnum):
    """Everything the portal checks.  Later capabilities add members here, not elsewhere."""

    ADMIN_ORGANISATIONS_READ = "admin:organisations:read"
    ADMIN_ORGANISATIONS_WRITE = "admin:organisations:write"
    ADMIN_USERS_READ = "admin:users:read"
    ADMIN_USERS_WRITE = "admin:users:write"
    ADMIN_SSO_WRITE = "admin:sso:write"
    AUDIT_EVENTS_READ = "audit:events:read"
    PANELS_PANELS_READ = "panels:panels:read"
    SHARING_PEOPLE_CREATE = "sharing:people:create"
    SHARING_ITEMS_CREATE = "sharing:items:create"
    SHARING_ITEMS_READ = "sharing:items:read"
    SHARING_AGREEMENTS_READ = "sharing:agreements:read"
    SHARING_AGREEMENTS_MANAGE = "sharing:agreements:manage"
    SHARING_CONSENT_RECORD = "sharing:consent:record"
    SHARING_DISCLOSURES_REQUEST = "sharing:disclosures:request"
    SHARING_DISCLOSURES_APPROVE = "sharing:disclosures:approve"
    SHARING_CONSOLE_READ = "sharing:console:read"
    SHARING_SAR_MANAGE = "sharing:sar:manage"
    SHARING_RETENTION_MANAGE = "sharing:retention:manage"
    ADMIN_POLICY_WRITE = "admin:policy:write"
    CASES_REPORTS_RECORD = "cases:reports:record"
    CASES_CASES_READ = "cases:cases:read"
    CASES_CASES_MANAGE = "cases:cases:manage"
    CASES_INCIDENTS_RECORD = "cases:incidents:record"
    CASES_CLOSURE_APPROVE = "cases:closure:approve"
    CASES_CASE_REVIEW_MANAGE = "cases:case_review:manage"
    # Setting up panels (members, chair, cadence, quorum, decision types) and their meetings.
    PANELS_PANELS_MANAGE = "panels:panels:manage"
    # Referring a case the actor's organisation leads to a panel.
    PANELS_REFERRALS_CREATE = "panels:referrals:create"
    # Joining meetings of panels the actor's organisation sits on, reading their packs.
    PANELS_MEETINGS_ATTEND = "panels:meetings:attend"
    # Chairing: also checked per panel (only the panel's chair or deputy chair may chair it).
    PANELS_MEETINGS_CHAIR = "panels:meetings:chair"
    # Recording what one told a panel meeting, as a disclosure from one's own organisation to
    # those present (decided by the sharing rules like any other).  Narrower than requesting
    # disclosures: it shares only what the person just said, so partners at the panel hold it.
    PANELS_MEETINGS_SHARE_VERBALLY = "panels:meetings:share_verbally"
    ACTIONS_PLANS_MANAGE = "actions:plans:manage"
    ACTIONS_ACTIONS_READ = "actions:actions:read"
    ACTIONS_ACTIONS_UPDATE = "actions:actions:update"
    ACTIONS_AGENCY_READ = "actions:agency:read"
    NOTIFICATIONS_OWN_READ = "notifications:own:read"
    ADMIN_SCHEDULER_READ = "admin:scheduler:read"
    # Running a scheduled job at once ("Run now"); it runs as the system, like every run.
    ADMIN_SCHEDULER_RUN = "admin:scheduler:run"
    ADMIN_OUTBOX_READ = "admin:outbox:read"


ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.ADMINISTRATOR: frozenset(
        {
            Permission.ADMIN_ORGANISATIONS_READ,
            Permission.ADMIN_ORGANISATIONS_WRITE,
            Permission.ADMIN_USERS_READ,
            Permission.ADMIN_USERS_WRITE,
            Permission.ADMIN_SSO_WRITE,
            Permission.AUDIT_EVENTS_READ,
            Permission.PANELS_PANELS_READ,
            Permission.SHARING_AGREEMENTS_READ,
            Permission.SHARING_AGREEMENTS_MANAGE,
            Permission.ADMIN_POLICY_WRITE,
            Permission.PANELS_PANELS_MANAGE,
            Permission.ADMIN_SCHEDULER_READ,
            Permission.ADMIN_SCHEDULER_RUN,
            Permission.ADMIN_OUTBOX_READ,
            Permission.NOTIFICATIONS_OWN_READ,
        }
    ),
    Role.LEAD_OFFICER: frozenset(
        {
            Permission.PANELS_PANELS_READ,
            Permission.PANELS_REFERRALS_CREATE,
            Permission.PANELS_MEETINGS_ATTEND,
            Permission.PANELS_MEETINGS_CHAIR,
            Permission.CASES_REPORTS_RECORD,
            Permission.CASES_CASES_READ,
            Permission.CASES_CASES_MANAGE,
            Permission.CASES_INCIDENTS_RECORD,
            Permission.CASES_CASE_REVIEW_MANAGE,
            Permission.SHARING_PEOPLE_CREATE,
            Permission.SHARING_ITEMS_CREATE,
            Permission.SHARING_ITEMS_READ,
            Permission.SHARING_AGREEMENTS_READ,
            Permission.SHARING_CONSENT_RECORD,
            Permission.SHARING_DISCLOSURES_REQUEST,
            Permission.PANELS_MEETINGS_SHARE_VERBALLY,
            Permission.ACTIONS_PLANS_MANAGE,
            Permission.ACTIONS_ACTIONS_READ,
            Permission.ACTIONS_ACTIONS_UPDATE,
            Permission.NOTIFICATIONS_OWN_READ,
        }
    ),
    # Partners on panels see what is disclosed to them and may add incidents to cases they can see.
    Role.PANEL_MEMBER: frozenset(
        {
            Permission.PANELS_PANELS_READ,
            Permission.SHARING_ITEMS_READ,
            Permission.CASES_CASES_READ,
            Permission.CASES_INCIDENTS_RECORD,
            Permission.PANELS_MEETINGS_ATTEND,
            Permission.PANELS_MEETINGS_CHAIR,
            Permission.PANELS_MEETINGS_SHARE_VERBALLY,
            Permission.ACTIONS_ACTIONS_READ,
            Permission.ACTIONS_ACTIONS_UPDATE,
            Permission.NOTIFICATIONS_OWN_READ,
        }
    ),
    Role.MANAGER: frozenset(
        {
            Permission.PANELS_PANELS_READ,
            Permission.PANELS_REFERRALS_CREATE,
            Permission.PANELS_MEETINGS_ATTEND,
            Permission.PANELS_MEETINGS_CHAIR,
            Permission.SHARING_PEOPLE_CREATE,
            Permission.SHARING_ITEMS_CREATE,
            Permission.SHARING_ITEMS_READ,
            Permission.SHARING_AGREEMENTS_READ,
            Permission.SHARING_CONSENT_RECORD,
            Permission.SHARING_DISCLOSURES_REQUEST,
            Permission.PANELS_MEETINGS_SHARE_VERBALLY,
            Permission.CASES_REPORTS_RECORD,
            Permission.CASES_CASES_READ,
            Permission.CASES_CASES_MANAGE,
            Permission.CASES_INCIDENTS_RECORD,
            Permission.CASES_CLOSURE_APPROVE,
            Permission.CASES_CASE_REVIEW_MANAGE,
            Permission.ACTIONS_PLANS_MANAGE,
            Permission.ACTIONS_ACTIONS_READ,
            Permission.ACTIONS_ACTIONS_UPDATE,
            Permission.ACTIONS_AGENCY_READ,
            Permission.NOTIFICATIONS_OWN_READ,
        }
    ),
    Role.INFORMATION_SHARING_OFFICER: frozenset(
        {
            Permission.AUDIT_EVENTS_READ,
            Permission.PANELS_PANELS_READ,
            Permission.SHARING_ITEMS_READ,
            Permission.SHARING_AGREEMENTS_READ,
            Permission.SHARING_AGREEMENTS_MANAGE,
            Permission.SHARING_CONSENT_RECORD,
            Permission.SHARING_DISCLOSURES_REQUEST,
            Permission.PANELS_MEETINGS_SHARE_VERBALLY,
            Permission.SHARING_DISCLOSURES_APPROVE,
            Permission.SHARING_CONSOLE_READ,
            Permission.SHARING_SAR_MANAGE,
            Permission.CASES_CASES_READ,
            Permission.SHARING_RETENTION_MANAGE,
            Permission.NOTIFICATIONS_OWN_READ,
        }
    ),
}

# Roles whose accounts must use a second factor (a TOTP code) to sign in with a password.
ROLES_REQUIRING_TOTP: frozenset[Role] = frozenset({Role.ADMINISTRATOR, Role.INFORMATION_SHARING_OFFICER})


def permissions_for(roles: frozenset[Role]) -> frozenset[Permission]:
    granted: set[Permission] = set()
    for role in roles:
        granted |= ROLE_PERMISSIONS.get(role, frozenset())
    return frozenset(granted)


@dataclass(frozen=True)
class Actor:
    """Who is acting: what every service receives instead of a raw user id."""

    user_id: int | None
    organisation_id: int | None
    roles: frozenset[Role] = field(default_factory=frozenset)
    email: str = ""
    full_name: str = ""
    organisation_name: str = ""
    organisation_type: OrganisationType | None = None
    session_id: int | None = None
    ip_address: str | None = None
    is_system: bool = False

    @property
    def permissions(self) -> frozenset[Permission]:
        if self.is_system:
            return frozenset(Permission)
        return permissions_for(self.roles)

    def can(self, permission: Permission) -> bool:
        return permission in self.permissions

    @property
    def label(self) -> str:
        if self.is_system:
            return "system"
        return self.email or f"user {self.user_id}"


SYSTEM_ACTOR = Actor(user_id=None, organisation_id=None, is_system=True, full_name="Portal scheduler")
