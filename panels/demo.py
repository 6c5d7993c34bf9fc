"""The fictional demo partnership (Eastbrook and Eastshire).  Every name here is invented.

Seeding is idempotent: running it again adds only what is missing and never changes
what people have since edited.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlmodel import Session, select

from panels.models import Panel, PanelMember, PanelOrganisation
from panels.panel_config import CCP_DECISION_TYPES, PSG_DECISION_TYPES, TEP_DECISION_TYPES
from panels.working_days import local_date
from sharing.accounts import hash_password
from sharing.audit import AuditAction, Outcome, record_event
from sharing.db import utcnow
from sharing.directory import slugify
from sharing.models import Organisation, OrganisationType, Role, User, UserRole
from sharing.permissions import SYSTEM_ACTOR
from sharing.vocabulary import Purpose

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
        (Role.PANEL_MEMBER, Role.MANAGER),
        "chairs the Problem Solving Group; approves case closures",
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
    deputy_email: str | None = None
    cadence_rrule: str = "FREQ=MONTHLY;BYDAY=2TU"
    start_time: str = "10:00"
    duration_minutes: int = 120
    venue: str = ""
    video_link: str = ""
    quorum_min_organisations: int = 2
    quorum_required: tuple[str, ...] = ()
    sharing_purpose: Purpose = Purpose.ASB_CASE_MANAGEMENT
    decision_types: tuple[str, ...] = ()


DEMO_PANELS: list[DemoPanel] = [
    DemoPanel(
        "Problem Solving Group",
        "Monthly multi-agency meeting that agrees action plans for anti-social behaviour cases, "
        "escalates and closes them.",
        "psg.chair@eastbrook.demo",
        (ASB, HOMES, POLICE, ADULTS, CHILDREN, HEALTH, RIVERSIDE),
        deputy_email="pc.jones@police.demo",
        cadence_rrule="FREQ=MONTHLY;BYDAY=2TU",  # the second Tuesday of each month
        start_time="10:00",
        duration_minutes=150,
        venue="Committee Room 2, Eastbrook Civic Centre",
        video_link="https://meet.eastbrook.demo/psg",
        quorum_min_organisations=3,
        quorum_required=(ASB, POLICE),
        sharing_purpose=Purpose.ASB_CASE_MANAGEMENT,
        decision_types=PSG_DECISION_TYPES,
    ),
    DemoPanel(
        "Complex Case Panel",
        "Plans for tenants where anti-social behaviour is a factor and possession proceedings put "
        "them at risk of homelessness.",
        "ccp.chair@eastbrook.demo",
        (HOMES, SOLUTIONS, POLICE),
        deputy_email="solutions@eastbrook.demo",
        cadence_rrule="FREQ=MONTHLY;BYDAY=3WE",  # the third Wednesday
        start_time="14:00",
        duration_minutes=90,
        video_link="https://meet.eastbrook.demo/ccp",
        quorum_min_organisations=2,
        quorum_required=(HOMES, SOLUTIONS),
        sharing_purpose=Purpose.HOMELESSNESS_PREVENTION,
        decision_types=CCP_DECISION_TYPES,
    ),
    DemoPanel(
        "Tenancy Enforcement Panel",
        "Senior officers and legal advisers authorise Notices of Seeking Possession and demotion, "
        "and restore demoted tenancies.",
        "tep.chair@eastbrook.demo",
        (HOMES, LEGAL),
        cadence_rrule="FREQ=MONTHLY;BYDAY=4TH",  # the fourth Thursday
        start_time="10:00",
        duration_minutes=60,
        venue="Room 4.12, Eastbrook City Homes, Station Road",
        quorum_min_organisations=2,
        quorum_required=(HOMES, LEGAL),
        sharing_purpose=Purpose.TENANCY_ENFORCEMENT,
        decision_types=TEP_DECISION_TYPES,
    ),
]


def seed_demo(session: Session, *, now: datetime | None = None) -> dict[str, int]:
    """Create whatever part of the demo partnership is missing.  Returns what was added.

    ``now`` is the demo clock of the case records (``panels.case_demo``); default: now.
    """
    from panels.case_demo import seed_case_demo

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
        else:
            # A role the demo has gained since this account was made (the team manager's).
            assert user.id is not None
            held = {str(r) for r in session.exec(select(UserRole.role).where(UserRole.user_id == user.id))}
            for role in account.roles:
                if str(role) not in held and user.is_demo:
                    session.add(UserRole(user_id=user.id, role=role))
        users[account.email] = user
    for spec in DEMO_PANELS:
        panel = session.exec(select(Panel).where(Panel.name == spec.name)).first()
        if panel is None:
            panel = Panel(
                name=spec.name,
                slug=slugify(spec.name),
                purpose=spec.purpose,
                chair_user_id=users[spec.chair_email].id,
                deputy_chair_user_id=users[spec.deputy_email].id if spec.deputy_email else None,
                cadence_rrule=spec.cadence_rrule,
                start_time=spec.start_time,
                duration_minutes=spec.duration_minutes,
                venue=spec.venue,
                video_link=spec.video_link,
                quorum_min_organisations=spec.quorum_min_organisations,
                quorum_required_organisation_ids=sorted(orgs[n].id for n in spec.quorum_required),  # type: ignore[misc]
                sharing_purpose=spec.sharing_purpose,
                decision_types=list(spec.decision_types),
            )
            session.add(panel)
            session.flush()
            assert panel.id is not None
            for org_name in spec.organisations:
                organisation_id = orgs[org_name].id
                assert organisation_id is not None
                session.add(PanelOrganisation(panel_id=panel.id, organisation_id=organisation_id))
            # Named members: the demo's panel members from the organisations that sit on it.
            for account in DEMO_ACCOUNTS:
                if account.organisation in spec.organisations and Role.PANEL_MEMBER in account.roles:
                    session.add(PanelMember(panel_id=panel.id, user_id=users[account.email].id))  # type: ignore[arg-type]
            added["panels"] += 1
    session.flush()
    if any(added.values()):
        record_event(session, action=AuditAction.DEMO_SEEDED, outcome=Outcome.SUCCESS, actor=SYSTEM_ACTOR, detail=added)
    added["sharing"] = int(seed_sharing_demo(session))
    added["cases"] = int(seed_case_demo(session, now=now))
    added["meetings"] = int(_seed_meetings(session))
    added["actions"] = _seed_actions(session, now)
    return added


def _seed_actions(session: Session, now: datetime | None) -> int:
    """The demo cases' actions (after the cases and meetings they belong to), on the same clock."""
    from panels.action_demo import seed_action_demo

    return seed_action_demo(session, now=now)


def _seed_meetings(session: Session) -> bool:
    from panels.meeting_demo import seed_meeting_demo

    return seed_meeting_demo(session)


# --- The information-sharing demo: an agreement, people, consent and disclosures -----------

AGREEMENT_REFERENCE = "ECSP-ISA-2026"
HEALTH_SHARERS = (ASB, ADULTS, HEALTH)
SIGNATORIES = {
    ASB: ("Helen Marsh", "Head of Community Safety"),
    HOMES: ("Owen Price", "Director of Housing"),
    LEGAL: ("Amara Cole", "Head of Legal Services"),
    SOLUTIONS: ("Grace Idowu", "Housing Solutions Manager"),
    POLICE: ("Chief Inspector Mark Dale", "Neighbourhood Policing Lead"),
    ADULTS: ("Sunita Rao", "Principal Social Worker"),
    CHILDREN: ("Tom Ashworth", "Head of Children's Safeguarding"),
    HEALTH: ("Dr Ellen Park", "Caldicott Guardian"),
    RIVERSIDE: ("Neil Burton", "Head of Neighbourhoods"),
}


def _actor(session: Session, email: str) -> Any:
    from sharing.accounts import actor_for_user

    user = session.exec(select(User).where(User.email == email)).one()
    return actor_for_user(session, user)


def seed_sharing_demo(session: Session, *, today: date | None = None) -> bool:
    """The Eastbrook Community Safety Partnership agreement, four fictional people, consent
    and disclosures, so that pc.jones@police.demo sees some cases' details and not others.
    Everything goes through the real services, so the audit trail tells the same story."""
    from sharing.disclosures import DisclosureRequest, decide_disclosure, request_disclosure
    from sharing.models import SharingAgreement
    from sharing.register import (
        AgreementInput,
        ConsentInput,
        ItemField,
        PersonInput,
        create_agreement,
        create_item,
        create_person,
        person_details_item,
        record_consent,
        set_agreement_status,
    )
    from sharing.vocabulary import (
        AgreementStatus,
        ConsentMethod,
        DataCategory,
        ItemKind,
        LawfulBasis,
        Marking,
        Purpose,
    )

    if session.exec(select(SharingAgreement).where(SharingAgreement.reference == AGREEMENT_REFERENCE)).first():
        return False
    today = today or local_date(utcnow())  # the portal's calendar day, not the machine's
    start_year = today.year if today.month >= 4 else today.year - 1
    orgs = {o.name: o for o in session.exec(select(Organisation)).all()}
    iso = _actor(session, "iso@eastbrook.demo")
    asb_officer = _actor(session, "asb.officer@eastbrook.demo")
    housing_officer = _actor(session, "housing.officer@eastbrook.demo")
    police = orgs[POLICE]

    agreement = create_agreement(
        session=session,
        actor=iso,
        data=AgreementInput(
            title="Eastbrook Community Safety Partnership Information Sharing Agreement",
            reference=AGREEMENT_REFERENCE,
            party_ids=[orgs[name].id for name, _ in DEMO_ORGANISATIONS],  # type: ignore[misc]
            purposes=list(Purpose),
            categories=list(DataCategory),
            category_restrictions={str(DataCategory.HEALTH): [orgs[n].id for n in HEALTH_SHARERS]},  # type: ignore[misc]
            lawful_bases=list(LawfulBasis),
            # Three financial years from the April that began this one: on any day the demo is
            # seeded, its end is more than the warning window away and its review is inside it.
            starts_on=date(start_year, 4, 1),
            ends_on=date(start_year + 3, 3, 31),
            review_on=today + timedelta(days=21),  # inside the warning window, so the demo shows it
            signatories={orgs[name].id: sig for name, sig in SIGNATORIES.items()},  # type: ignore[misc]
        ),
    )
    assert agreement.id is not None
    set_agreement_status(session=session, actor=iso, agreement_id=agreement.id, status=AgreementStatus.ACTIVE)

    # Case ASB-2026-0001: a victim who consented to the police knowing about her case.
    carter = create_person(
        session=session,
        actor=asb_officer,
        data=PersonInput("Jamie", "Carter", date(1984, 3, 12), "14 Willow Court, Eastbrook", "EB4 2QT", "07700 900123"),
    )
    record_consent(
        session=session,
        actor=asb_officer,
        data=ConsentInput(
            person_id=carter.id,  # type: ignore[arg-type]
            method=ConsentMethod.VERBAL,
            purposes=[Purpose.ASB_CASE_MANAGEMENT],
            categories=[DataCategory.IDENTITY, DataCategory.CONTACT, DataCategory.ASB_HISTORY],
            organisation_types=[OrganisationType.POLICE, OrganisationType.COUNCIL_HOUSING],
            given_on=today - timedelta(days=30),
        ),
    )
    note_1 = create_item(
        session=session,
        actor=asb_officer,
        kind=ItemKind.CASE_NOTE,
        title="ASB-2026-0001: repeated loud music and shouting at night",
        category=DataCategory.ASB_HISTORY,
        person_id=carter.id,
        case_reference="ASB-2026-0001",
        fields=[
            ItemField(
                "summary",
                "What happened",
                "Loud music and shouting from the flat above most nights "
                "between 11pm and 3am since September; diary sheets returned for six weeks.",
                DataCategory.ASB_HISTORY,
            ),
            ItemField(
                "impact", "Effect on the victim", "Not sleeping; has asked her GP for help.", DataCategory.HEALTH
            ),
        ],
    )
    request_disclosure(
        session=session,
        actor=asb_officer,
        request=DisclosureRequest(
            item_ids=[person_details_item(session, carter.id).id, note_1.id],  # type: ignore[arg-type, list-item]
            recipient_organisation_id=police.id,  # type: ignore[arg-type]
            purpose=Purpose.ASB_CASE_MANAGEMENT,
            basis=LawfulBasis.CONSENT,
            categories=[DataCategory.IDENTITY, DataCategory.CONTACT, DataCategory.ASB_HISTORY],
        ),
    )

    # Case ASB-2026-0002: an alleged perpetrator; shared with the police under s.115, approved.
    moss = create_person(
        session=session,
        actor=housing_officer,
        data=PersonInput("Dylan", "Moss", date(1991, 7, 2), "Flat 6, 22 Marsh Lane, Eastbrook", "EB2 7HD"),
    )
    note_2 = create_item(
        session=session,
        actor=housing_officer,
        kind=ItemKind.CASE_SUMMARY,
        title="ASB-2026-0002: intimidation of neighbours, suspected drug dealing",
        category=DataCategory.ALLEGATIONS_OF_CRIME,
        person_id=moss.id,
        case_reference="ASB-2026-0002",
        marking=Marking.OFFICIAL_SENSITIVE,
        fields=[
            ItemField(
                "summary",
                "Summary",
                "Neighbours report visitors at all hours and threats when challenged. "
                "Two reports of suspected dealing from the stairwell.",
                DataCategory.ALLEGATIONS_OF_CRIME,
            ),
            ItemField(
                "tenancy", "Tenancy", "Secure tenant since 2019; warning letter sent in October.", DataCategory.HOUSING
            ),
        ],
    )
    pending = request_disclosure(
        session=session,
        actor=housing_officer,
        request=DisclosureRequest(
            item_ids=[person_details_item(session, moss.id).id, note_2.id],  # type: ignore[arg-type, list-item]
            recipient_organisation_id=police.id,  # type: ignore[arg-type]
            purpose=Purpose.ASB_CASE_MANAGEMENT,
            basis=LawfulBasis.CRIME_AND_DISORDER_S115,
            justification="Police need the tenant's identity and the pattern of reports to assess the suspected "
            "drug dealing and plan a joint visit; the tenant has refused consent and asking again would "
            "prejudice the investigation.",
        ),
    )
    assert pending.id is not None
    decide_disclosure(
        session=session,
        actor=iso,
        disclosure_id=pending.id,
        approve=True,
        note="Necessary and proportionate for the prevention of crime.",
    )

    # Case ASB-2026-0003: held by the council ASB team and not shared with the police.
    vance = create_person(
        session=session,
        actor=asb_officer,
        data=PersonInput("Terry", "Vance", date(1976, 11, 23), "3 Orchard Row, Eastbrook", "EB1 5LP"),
    )
    create_item(
        session=session,
        actor=asb_officer,
        kind=ItemKind.CASE_NOTE,
        title="ASB-2026-0003: dispute over garden fires and rubbish",
        category=DataCategory.ASB_HISTORY,
        person_id=vance.id,
        case_reference="ASB-2026-0003",
        fields=[
            ItemField(
                "summary",
                "What happened",
                "Bonfires of household rubbish most weekends; smoke entering neighbouring homes.",
                DataCategory.ASB_HISTORY,
            )
        ],
    )

    # A confidential complainant: her identity stays with the council.
    create_person(
        session=session,
        actor=asb_officer,
        data=PersonInput("Ruth", "Okonjo", address="Willow Court, Eastbrook", is_confidential_complainant=True),
    )
    return True
