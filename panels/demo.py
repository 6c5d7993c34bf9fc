"""The fictional demo partnership (Eastbrook and Eastshire).  Every name here is invented.

Seeding is idempotent: running it again adds only what is missing and never changes
what people have since edited.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session, select

from panels.models import Panel, PanelOrganisation
from sharing.accounts import hash_password
from sharing.audit import AuditAction, Outcome, record_event
from sharing.directory import slugify
from sharing.models import Organisation, OrganisationType, Role, User, UserRole
from sharing.permissions import SYSTEM_ACTOR

DEMO_PASSWORD = "demo-pass-2026"

ASB = "Eastbrook City Council ASB Team"
HOMES = "Eastbrook City Homes"
LEGAL = "Eastbrook Legal Services"
SOLUTIONS = "Eastbrook Housing Solutions"
POLICE = "Eastshire Police"
ADULTS = "Eastshire Adult Social Care"
CHILDREN = "Eastshire Children's Services"
HEALTH = "Eastbrook Mental Health Trust"
RIVERSIDE = "Riverside Homes"

DEMO_ORGANISATIONS: list[tuple[str, OrganisationType]] = [
    (ASB, OrganisationType.COUNCIL_ASB_TEAM),
    (HOMES, OrganisationType.COUNCIL_HOUSING),
    (LEGAL, OrganisationType.LEGAL_SERVICES),
    (SOLUTIONS, OrganisationType.HOUSING_SOLUTIONS),
    (POLICE, OrganisationType.POLICE),
    (ADULTS, OrganisationType.ADULT_SOCIAL_CARE),
    (CHILDREN, OrganisationType.CHILDRENS_SOCIAL_CARE),
    (HEALTH, OrganisationType.HEALTH),
    (RIVERSIDE, OrganisationType.HOUSING_ASSOCIATION),
]


@dataclass(frozen=True)
class DemoAccount:
    email: str
    full_name: str
    job_title: str
    organisation: str
    roles: tuple[Role, ...]
    note: str = ""


DEMO_ACCOUNTS: list[DemoAccount] = [
    DemoAccount("asb.officer@eastbrook.demo", "Alex Morgan", "ASB Officer", ASB, (Role.LEAD_OFFICER,)),
    DemoAccount("housing.officer@eastbrook.demo", "Priya Shah", "Housing Officer", HOMES, (Role.LEAD_OFFICER,)),
    DemoAccount(
        "psg.chair@eastbrook.demo",
        "Morgan Ellis",
        "ASB Team Manager",
        ASB,
        (Role.PANEL_MEMBER,),
        "chairs the Problem Solving Group",
    ),
    DemoAccount(
        "ccp.chair@eastbrook.demo",
        "Sam Whitfield",
        "Tenancy Services Manager",
        HOMES,
        (Role.PANEL_MEMBER,),
        "chairs the Complex Case Panel",
    ),
    DemoAccount(
        "tep.chair@eastbrook.demo",
        "Jordan Blake",
        "Head of Housing Management",
        HOMES,
        (Role.PANEL_MEMBER,),
        "chairs the Tenancy Enforcement Panel",
    ),
    DemoAccount("legal@eastbrook.demo", "Casey Lin", "Housing Solicitor", LEGAL, (Role.PANEL_MEMBER,)),
    DemoAccount(
        "solutions@eastbrook.demo", "Robin Adeyemi", "Housing Options Officer", SOLUTIONS, (Role.PANEL_MEMBER,)
    ),
    DemoAccount(
        "pc.jones@police.demo", "PC Taylor Jones", "Neighbourhood Police Constable", POLICE, (Role.PANEL_MEMBER,)
    ),
    DemoAccount("sw.patel@adultcare.demo", "Nina Patel", "Social Worker", ADULTS, (Role.PANEL_MEMBER,)),
    DemoAccount("cs.okafor@childrens.demo", "Chidi Okafor", "Children's Social Worker", CHILDREN, (Role.PANEL_MEMBER,)),
    DemoAccount("nurse.reid@health.demo", "Fiona Reid", "Community Mental Health Nurse", HEALTH, (Role.PANEL_MEMBER,)),
    DemoAccount(
        "ha.officer@riverside.demo",
        "Lee Hart",
        "Neighbourhood Officer",
        RIVERSIDE,
        (Role.LEAD_OFFICER, Role.PANEL_MEMBER),
    ),
    DemoAccount(
        "iso@eastbrook.demo", "Dana Fox", "Information Governance Officer", ASB, (Role.INFORMATION_SHARING_OFFICER,)
    ),
    DemoAccount("admin@eastbrook.demo", "Kit Harper", "Systems Administrator", ASB, (Role.ADMINISTRATOR,)),
]


@dataclass(frozen=True)
class DemoPanel:
    name: str
    purpose: str
    chair_email: str
    organisations: tuple[str, ...]


DEMO_PANELS: list[DemoPanel] = [
    DemoPanel(
        "Problem Solving Group",
        "Monthly multi-agency meeting that agrees action plans for anti-social behaviour cases, "
        "escalates and closes them.",
        "psg.chair@eastbrook.demo",
        (ASB, HOMES, POLICE, ADULTS, CHILDREN, HEALTH, RIVERSIDE),
    ),
    DemoPanel(
        "Complex Case Panel",
        "Plans for tenants where anti-social behaviour is a factor and possession proceedings put "
        "them at risk of homelessness.",
        "ccp.chair@eastbrook.demo",
        (HOMES, SOLUTIONS, POLICE),
    ),
    DemoPanel(
        "Tenancy Enforcement Panel",
        "Senior officers and legal advisers authorise Notices of Seeking Possession and demotion, "
        "and restore demoted tenancies.",
        "tep.chair@eastbrook.demo",
        (HOMES, LEGAL),
    ),
]


def seed_demo(session: Session) -> dict[str, int]:
    """Create whatever part of the demo partnership is missing.  Returns what was added."""
    added = {"organisations": 0, "users": 0, "panels": 0}
    orgs: dict[str, Organisation] = {}
    for name, org_type in DEMO_ORGANISATIONS:
        org = session.exec(select(Organisation).where(Organisation.name == name)).first()
        if org is None:
            org = Organisation(name=name, slug=slugify(name), type=org_type)
            session.add(org)
            session.flush()
            added["organisations"] += 1
        orgs[name] = org
    password_hash: str | None = None
    users: dict[str, User] = {}
    for account in DEMO_ACCOUNTS:
        user = session.exec(select(User).where(User.email == account.email)).first()
        if user is None:
            password_hash = password_hash or hash_password(DEMO_PASSWORD)
            organisation_id = orgs[account.organisation].id
            assert organisation_id is not None
            user = User(
                organisation_id=organisation_id,
                email=account.email,
                full_name=account.full_name,
                job_title=account.job_title,
                password_hash=password_hash,
                is_demo=True,
            )
            session.add(user)
            session.flush()
            assert user.id is not None
            for role in account.roles:
                session.add(UserRole(user_id=user.id, role=role))
            added["users"] += 1
        users[account.email] = user
    for spec in DEMO_PANELS:
        panel = session.exec(select(Panel).where(Panel.name == spec.name)).first()
        if panel is None:
            panel = Panel(
                name=spec.name, slug=slugify(spec.name), purpose=spec.purpose, chair_user_id=users[spec.chair_email].id
            )
            session.add(panel)
            session.flush()
            assert panel.id is not None
            for org_name in spec.organisations:
                organisation_id = orgs[org_name].id
                assert organisation_id is not None
                session.add(PanelOrganisation(panel_id=panel.id, organisation_id=organisation_id))
            added["panels"] += 1
    session.flush()
    if any(added.values()):
        record_event(session, action=AuditAction.DEMO_SEEDED, outcome=Outcome.SUCCESS, actor=SYSTEM_ACTOR, detail=added)
    return added
