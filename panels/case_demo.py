"""The demo's case records: thirty fictional anti-social behaviour cases led by the council's
ASB team, Eastbrook City Homes and Riverside Homes.  Every name, address and event is
invented; phone numbers are from the range set aside for drama (07700 900xxx).

Everything goes through the real services (reports and triage, parties, risk assessment,
first contact, incidents, stages and reviews, interventions with their legal clocks, closure,
disclosures), so the audit trail, the chronology and the case list tell the same story:

* ASB-2026-0001..0003 are the cases the sharing demo already filed notes under (Jamie Carter,
  Dylan Moss, Terry Vance); their cases are opened with those references;
* several cases are past their first-contact deadline with no contact recorded, one meets the
  ASB Case Review threshold, one has a Notice of Seeking Possession about to expire, one is a
  demoted tenancy in its year of monitoring, two are closed, one awaits the team manager's
  approval to close and one has been proposed for closure after three quiet months;
* Riverside Homes uses Welwyn's Priority 1-4 risk scheme (set as its policy: schemes are data);
* the summaries of seven cases are disclosed to Eastshire Police (approved by the
  information-sharing officer); an eighth request is still awaiting approval, so
  pc.jones@police.demo sees exactly those seven in the case list.

The demo clock.  The story is told relative to ``now`` (default: the current time): a case
"opened 62 days ago" is opened 62 days before it.  Services that take the time (``now`` or
``today``) are given the moment in the story.  A few stamp the real time on rows the story
places in the past (opening a case, adding a party, creating an information item, asking for
closure, proposing closure, recording an intervention, ``updated_at``); after each step,
:meth:`_Seeder.settle` moves the timestamps the step stamped with the real clock to the
story's moment.  The audit trail keeps the real time (it records when the seeding was done
and is never rewritten), and disclosures are made on the real day (the sharing services
have no clock).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import partial
from typing import Any

from sqlmodel import Session, col, select

from panels.case_models import Case, CaseEvent, CaseParty, Intervention, StageMove
from panels.cases import CaseInput, next_case_reference, open_case, refresh_case_summary
from panels.demo import POLICE, RIVERSIDE
from panels.incidents import IncidentInput, record_incident
from panels.parties import PartyInput, add_party
from panels.policy import WELWYN_SCHEME, CasePolicy, OrganisationPolicy, get_case_policy, set_case_policy
from panels.remedies import InterventionInput, record_intervention
from panels.risk import assess_risk, record_first_contact
from panels.stages import (
    approve_closure,
    move_stage,
    propose_quiet_cases_for_closure,
    record_stage_review,
    request_closure,
)
from panels.triage import ReportInput, TriageDecision, record_report, triage_report
from panels.vocabulary import (
    CaseCategory,
    CaseStage,
    CaseType,
    ClosureReason,
    InterventionKind,
    InterventionStatus,
    PartyRole,
    ReportChannel,
    Tenure,
    TriageOutcome,
)
from panels.working_days import local_zone
from sharing.accounts import actor_for_user
from sharing.audit import AuditAction, Outcome, record_event
from sharing.db import utcnow
from sharing.disclosures import DisclosureRequest, decide_disclosure, request_disclosure
from sharing.models import InformationItem, Organisation, OrganisationType, Person, User
from sharing.permissions import Actor
from sharing.register import ConsentInput, PersonInput, create_person, record_consent
from sharing.vocabulary import ConsentMethod, DataCategory, LawfulBasis, Purpose

FIRST_REFERENCE = "ASB-2026-0001"
RIVERSIDE_PREFIX = "RH"

OFFICERS = {
    "asb": "asb.officer@eastbrook.demo",  # Alex Morgan, ASB Officer
    "manager": "psg.chair@eastbrook.demo",  # Morgan Ellis, ASB Team Manager
    "homes": "housing.officer@eastbrook.demo",  # Priya Shah, Housing Officer
    "riverside": "ha.officer@riverside.demo",  # Lee Hart, Neighbourhood Officer
    "police": "pc.jones@police.demo",
    "iso": "iso@eastbrook.demo",
    "admin": "admin@eastbrook.demo",
}

# --- Risk answers (the questionnaire of ``panels.policy``) -----------------------------------

THREATS = {"type": "threats", "duration": "months", "frequency": "several_weekly", "impact": "severe",
           "vulnerability": "some"}  # fmt: skip  # 36: High / Priority 1
NUISANCE_DAILY = {"type": "nuisance", "duration": "months", "frequency": "daily", "impact": "significant",
                  "vulnerability": "none"}  # fmt: skip  # 22: Medium / Priority 2
TARGETED = {"type": "personal", "duration": "weeks", "frequency": "several_weekly", "impact": "moderate",
            "vulnerability": "some"}  # fmt: skip  # 22: Medium / Priority 2
CRIMINAL = {"type": "criminal", "duration": "months", "frequency": "several_weekly", "impact": "moderate",
            "vulnerability": "none"}  # fmt: skip  # 20: Medium / Priority 2
TARGETED_ONCE = {"type": "personal", "duration": "weeks", "frequency": "once", "impact": "moderate",
                 "vulnerability": "none"}  # fmt: skip  # 15: Standard / Priority 3 by score alone
NUISANCE_WEEKLY = {"type": "nuisance", "duration": "weeks", "frequency": "weekly", "impact": "moderate",
                   "vulnerability": "none"}  # fmt: skip  # 12: Standard / Priority 3
ENVIRONMENTAL = {"type": "environmental", "duration": "weeks", "frequency": "weekly", "impact": "little",
                 "vulnerability": "none"}  # fmt: skip  # 7: Standard / Priority 4


# --- The people ------------------------------------------------------------------------------


@dataclass(frozen=True)
class DemoPerson:
    given_name: str
    family_name: str
    born: date | None
    address: str
    postcode: str
    phone: str = ""
    held_by: str = "asb"  # the officer (OFFICERS key) whose organisation records them
    vulnerable_adult: bool = False


# Already on record from the sharing demo (``panels.demo.seed_sharing_demo``).
EXISTING_PEOPLE = {"carter": ("Jamie", "Carter"), "moss": ("Dylan", "Moss"), "vance": ("Terry", "Vance")}

P = DemoPerson
DEMO_PEOPLE: dict[str, DemoPerson] = {
    # Held by the council's ASB team.
    "brennan": P("Kyle", "Brennan", date(1995, 2, 8), "Flat 9, 14 Willow Court, Eastbrook", "EB4 2QT"),
    "ashdown": P("Helen", "Ashdown", date(1958, 6, 30), "5 Orchard Row, Eastbrook", "EB1 5LP", "07700 900201"),
    "haddad": P("Amira", "Haddad", date(1989, 9, 14), "22 Station Road, Eastbrook", "EB3 1RS", "07700 900202"),
    "pike": P("Graham", "Pike", date(1967, 4, 3), "11 Beacon Rise, Eastbrook", "EB6 4TN", "07700 900203"),
    "lindqvist": P("Sophie", "Lindqvist", date(1993, 12, 1), "Flat 3, 40 Hawthorn Way, Eastbrook", "EB2 8JW",
                   "07700 900204"),
    "fenwick": P("Ross", "Fenwick", date(1988, 3, 22), "Flat 4, 40 Hawthorn Way, Eastbrook", "EB2 8JW"),
    "olawale": P("Derek", "Olawale", date(1979, 7, 19), "7 Priory Gardens, Eastbrook", "EB5 2AX", "07700 900205"),
    "kaur": P("Jasdeep", "Kaur", date(1972, 10, 5), "18 Mill Street, Eastbrook", "EB1 3MS", "07700 900206"),
    "barnes": P("Lorraine", "Barnes", date(1961, 1, 17), "3 Kingsmead Close, Eastbrook", "EB6 2KC", "07700 900207"),
    "stokes": P("Gary", "Stokes", date(1970, 5, 2), "5 Kingsmead Close, Eastbrook", "EB6 2KC"),
    "hollis": P("Peter", "Hollis", date(1969, 8, 9), "Flat 12, Foundry House, Foundry Lane, Eastbrook", "EB7 3DN",
                "07700 900213", vulnerable_adult=True),
    "nash": P("Callum", "Nash", date(2001, 5, 30), "No fixed address", ""),
    "coates": P("Brian", "Coates", date(1955, 11, 11), "2 Foundry Lane, Eastbrook", "EB7 3DL", "07700 900208"),
    "yusuf": P("Hana", "Yusuf", date(1998, 2, 14), "Flat 1, 9 Station Road, Eastbrook", "EB3 1RT", "07700 900209"),
    "moreton": P("Ian", "Moreton", date(1975, 3, 28), "Linden Stores, 1 Linden Avenue, Eastbrook", "EB4 5LA",
                 "07700 900210"),
    "ellery": P("Margaret", "Ellery", date(1950, 9, 21), "6 Common Lane, Eastbrook", "EB6 1CL", "07700 900211"),
    "greaves": P("Tom", "Greaves", date(1983, 6, 12), "41 Ring Road, Hillcrest, Eastbrook", "EB6 7RR",
                 "07700 900212"),
    # Held by Eastbrook City Homes.
    "jennings": P("Carol", "Jennings", date(1949, 3, 3), "Flat 5, 22 Marsh Lane, Eastbrook", "EB2 7HD",
                  "07700 900301", held_by="homes"),
    "fletcher": P("Wayne", "Fletcher", date(1985, 6, 6), "31 Elm Park Estate, Eastbrook", "EB8 1PL", held_by="homes"),
    "osei": P("Linda", "Osei", date(1976, 9, 9), "29 Elm Park Estate, Eastbrook", "EB8 1PL", "07700 900302",
              held_by="homes"),
    "patterson": P("Rita", "Patterson", date(1957, 2, 19), "33 Elm Park Estate, Eastbrook", "EB8 1PL",
                   "07700 900303", held_by="homes"),
    "whitby": P("Carl", "Whitby", date(1990, 1, 25), "Flat 8, Kingfisher House, Kingfisher Close, Eastbrook",
                "EB4 6GH", held_by="homes"),
    "price": P("Janet", "Price", date(1982, 4, 12), "Flat 7, Kingfisher House, Kingfisher Close, Eastbrook",
               "EB4 6GH", "07700 900304", held_by="homes"),
    "rahim": P("Mohammed", "Rahim", date(1987, 8, 30), "Flat 2, 5 Linden Avenue, Eastbrook", "EB4 5LB",
               "07700 900305", held_by="homes"),
    "doyle": P("Stacey", "Doyle", date(1996, 11, 3), "Flat 4, 5 Linden Avenue, Eastbrook", "EB4 5LB",
               held_by="homes"),
    "grant": P("Eileen", "Grant", date(1938, 7, 7), "Flat 1, Priory Court, Eastbrook", "EB5 2PC", "07700 900306",
               held_by="homes", vulnerable_adult=True),
    "karen": P("Karen", "Grant", date(1966, 10, 14), "14 Abbey Road, Eastbrook", "EB5 4AR", "07700 900307",
               held_by="homes"),
    "ahmed": P("Yusuf", "Ahmed", date(1980, 12, 9), "12 Chapel Yard, Eastbrook", "EB3 2CY", "07700 900308",
               held_by="homes"),
    "kowalski": P("Marek", "Kowalski", date(1974, 4, 27), "Flat 10, Kingfisher House, Kingfisher Close, Eastbrook",
                  "EB4 6GH", "07700 900309", held_by="homes"),
    "bell": P("Naomi", "Bell", date(1991, 7, 16), "4 Priory Gardens, Eastbrook", "EB5 2AX", "07700 900310",
              held_by="homes"),
    "tanner": P("Jason", "Tanner", date(1993, 9, 1), "6 Priory Gardens, Eastbrook", "EB5 2AX", held_by="homes"),
    "moody": P("Frank", "Moody", date(1952, 5, 5), "20 Elm Park Estate, Eastbrook", "EB8 1PL", "07700 900311",
               held_by="homes"),
    # Held by Riverside Homes.
    "nowicki": P("Tomasz", "Nowicki", date(1984, 1, 30), "Flat 3, Riverside Court, Canal Walk, Eastbrook",
                 "EB9 2RC", "07700 900401", held_by="riverside"),
    "bello": P("Aisha", "Bello", date(1990, 6, 18), "Flat 8, Riverside Court, Canal Walk, Eastbrook", "EB9 2RC",
               "07700 900402", held_by="riverside"),
    "shaw": P("Dean", "Shaw", date(1997, 3, 11), "Flat 11, Riverside Court, Canal Walk, Eastbrook", "EB9 2RC",
              held_by="riverside"),
    "holt": P("Gemma", "Holt", date(1985, 8, 8), "14 Mill Meadows, Eastbrook", "EB9 4MM", "07700 900403",
              held_by="riverside"),
    "pearce": P("Ryan", "Pearce", date(1992, 2, 2), "16 Mill Meadows, Eastbrook", "EB9 4MM", held_by="riverside"),
    "hughes": P("Stanley", "Hughes", date(1946, 12, 24), "2 Weir Cottages, Eastbrook", "EB9 6WC", "07700 900404",
                held_by="riverside"),
    "simmons": P("Leah", "Simmons", date(1999, 10, 10), "Flat 6, Riverside Court, Canal Walk, Eastbrook", "EB9 2RC",
                 "07700 900405", held_by="riverside"),
    "clarke": P("Owen", "Clarke", date(1970, 4, 4), "3 Weir Cottages, Eastbrook", "EB9 6WC", "07700 900406",
                held_by="riverside"),
    "fisher": P("Dawn", "Fisher", date(1968, 11, 29), "5 Weir Cottages, Eastbrook", "EB9 6WC", held_by="riverside"),
}  # fmt: skip


# --- The cases -------------------------------------------------------------------------------


@dataclass(frozen=True)
class DemoParty:
    person: str
    role: PartyRole
    tenure: Tenure = Tenure.NOT_KNOWN
    landlord: str = ""
    vulnerability: str = ""
    support: tuple[str, ...] = ()


@dataclass(frozen=True)
class DemoIncident:
    """Happened ``days_ago`` at ``hour`` (local); reported ``reported_after`` days later (0: an
    hour later)."""

    days_ago: int
    what: str
    reporter: str  # a person's key, or a name
    perpetrator: str | None = None
    reported_after: int = 0
    hour: int = 21
    hate: bool = False
    police: bool = False
    crime_reference: str = ""
    effect: str = ""
    entered_by: str = ""  # an OFFICERS key; default: the lead officer


@dataclass(frozen=True)
class DemoIntervention:
    kind: InterventionKind
    served_days_ago: int
    subject: str | None = None  # a person's key
    details: str = ""
    authorised_by: str = ""


@dataclass(frozen=True)
class DemoClosure:
    reason: ClosureReason
    note: str
    requested_days_ago: int
    approved_days_ago: int | None = None  # None: awaiting the team manager


@dataclass(frozen=True)
class DemoCase:
    key: str
    lead: str  # an OFFICERS key
    category: CaseCategory
    types: tuple[CaseType, ...]
    location: str
    area: str
    opened_days_ago: int
    channel: ReportChannel
    report: str
    reporter: str | None  # a person's key; None with a reporter_name, or for an anonymous report
    parties: tuple[DemoParty, ...] = ()
    reporter_name: str = ""
    on_behalf_of: str | None = None  # a third-party report: the victim's key
    reference: str = ""  # a reference the records already carry
    risk: Mapping[str, str] | None = None
    contact_after_hours: int | None = None  # first contact, after the case opened; None: not yet
    contact_note: str = ""
    incidents: tuple[DemoIncident, ...] = ()
    police: str = ""  # "shared" (approved) or "awaiting" (asked for, not yet approved)
    stages: tuple[tuple[int, CaseStage, str], ...] = ()  # (days ago, stage, reason)
    reviews: tuple[tuple[int, str], ...] = ()  # (days ago, what the review found)
    interventions: tuple[DemoIntervention, ...] = ()
    closure: DemoClosure | None = None
    report_hour: int = 10


V, W, AP = PartyRole.VICTIM, PartyRole.WITNESS, PartyRole.ALLEGED_PERPETRATOR
COUNCIL, HA = Tenure.COUNCIL_TENANT, Tenure.HOUSING_ASSOCIATION_TENANT
INV, REVIEW, INTERVENE, LEGAL = (
    CaseStage.INVESTIGATION,
    CaseStage.REVIEW,
    CaseStage.INTERVENTIONS,
    CaseStage.LEGAL_REMEDIES,
)
C = CaseType
I = DemoIncident  # noqa: E741

DEMO_CASES: tuple[DemoCase, ...] = (
    # --- The three cases the sharing demo filed notes under ----------------------------------
    DemoCase(
        "carter", "asb", CaseCategory.NUISANCE, (C.NOISE, C.HARASSMENT), "14 Willow Court, Eastbrook",
        "Eastbrook North", 62, ReportChannel.PHONE,
        "Loud music and shouting from the flat above most nights between 11pm and 3am; when she knocked to "
        "complain she was sworn at.", "carter",
        (DemoParty("carter", V, COUNCIL, "Eastbrook City Homes", "Lives alone; not sleeping."),
         DemoParty("brennan", AP, COUNCIL, "Eastbrook City Homes")),
        reference="ASB-2026-0001", risk=NUISANCE_DAILY, contact_after_hours=22,
        contact_note="Home visit to Ms Carter; diary sheets and the noise app explained.",
        incidents=(I(48, "Music and shouting until 3am; banging on the ceiling when asked to stop.", "carter",
                     "brennan", 1, hour=23),
                   I(15, "Party in the flat above until 4am; Ms Carter's door kicked on the way out.", "carter",
                     "brennan", 2, hour=2, effect="Frightened to open her door.")),
        police="shared", stages=((55, INV, "Diary sheets issued; noise recording equipment installed."),),
    ),
    DemoCase(
        "vance", "asb", CaseCategory.ENVIRONMENTAL, (C.FLY_TIPPING,), "Orchard Row, Eastbrook", "Old Town", 24,
        ReportChannel.EMAIL, "Bonfires of household rubbish in the garden of number 3 most weekends; smoke "
        "comes into the house and washing has been ruined.", "ashdown",
        (DemoParty("ashdown", V, Tenure.OWNER_OCCUPIER), DemoParty("vance", AP, Tenure.OWNER_OCCUPIER)),
        reference="ASB-2026-0003", risk=ENVIRONMENTAL, contact_after_hours=50,
        contact_note="Phone call with Mrs Ashdown; Environmental Health told about the fires.",
        incidents=(I(10, "Another bonfire of bin bags and a mattress; thick smoke over three gardens.", "ashdown",
                     "vance", hour=15),),
    ),
    DemoCase(
        "moss", "homes", CaseCategory.PERSONAL, (C.DRUGS, C.HARASSMENT), "22 Marsh Lane, Eastbrook", "Marsh End", 48,
        ReportChannel.PHONE, "Visitors to Flat 6 at all hours; when Mrs Jennings asked them to stop propping the "
        "door open she was threatened.", "jennings",
        (DemoParty("jennings", V, COUNCIL, "Eastbrook City Homes", "Aged 77, lives alone, uses a walking frame.",
                   ("Eastshire Adult Social Care",)),
         DemoParty("moss", AP, COUNCIL, "Eastbrook City Homes")),
        reference="ASB-2026-0002", risk=THREATS, contact_after_hours=24,
        contact_note="Visited Mrs Jennings with the neighbourhood police officer.",
        incidents=(I(40, "Three men on the stairwell outside Flat 6 at 1am; one told Mrs Jennings to 'keep her "
                     "nose out'.", "jennings", "moss", 1, hour=1),
                   I(10, "Police attended a report of suspected dealing from the stairwell; two people searched.",
                     "PC Taylor Jones", "moss", hour=19, police=True, crime_reference="EP/26/40312",
                     entered_by="police")),
        police="shared", stages=((40, INV, "Evidence gathering with the police."),
                                 (31, INTERVENE, "Tenancy warning agreed with the team leader.")),
        interventions=(DemoIntervention(InterventionKind.WARNING_LETTER, 30, "moss",
                                        "Written warning of the tenancy conditions on nuisance and visitors."),),
    ),
    # --- The council's ASB team ---------------------------------------------------------------
    DemoCase(
        "haddad", "asb", CaseCategory.PERSONAL, (C.HATE_INCIDENT, C.HARASSMENT), "Station Road, Eastbrook",
        "Eastbrook Central", 9, ReportChannel.IN_PERSON,
        "A group of young men shouted racist abuse at Ms Haddad outside her home and threw an egg at her window.",
        "haddad", (DemoParty("haddad", V, Tenure.PRIVATE_TENANT, "Station Road Lettings"),),
        risk=TARGETED_ONCE, contact_after_hours=3,
        contact_note="Met Ms Haddad at the Civic Centre; safety plan agreed.",
        incidents=(I(8, "Racist abuse shouted from the street; egg thrown at the front window.", "haddad", hour=20,
                     hate=True, police=True, crime_reference="EP/26/41877", effect="Afraid to go out after dark."),
                   I(3, "The same group followed her from the bus stop, shouting abuse.", "haddad", hour=18,
                     hate=True, police=True, crime_reference="EP/26/42210")),
        police="shared",
    ),
    DemoCase(
        "pike", "asb", CaseCategory.NUISANCE, (C.VEHICLE_NUISANCE, C.NOISE), "Beacon Rise car park, Eastbrook",
        "Hillcrest", 160, ReportChannel.ONLINE,
        "Car meets in the Beacon Rise car park most Friday nights: revving, wheel spins and music until 2am.",
        "pike", (DemoParty("pike", V, Tenure.OWNER_OCCUPIER),),
        risk=NUISANCE_DAILY, contact_after_hours=30, contact_note="Phone call with Mr Pike; log sheets sent.",
        incidents=(I(140, "About forty cars; wheel spins and fireworks until 2am.", "pike", None, 1, hour=23),
                   I(85, "Car meet again; a car mounted the pavement outside number 11.", "pike", None, 2, hour=22),
                   I(21, "Revving and horns until 1am; Mr Pike says nothing has changed.", "pike", None, 1, hour=23)),
        stages=((150, INV, "Log sheets returned; car park owner contacted."),
                (100, REVIEW, "Two months: reviewed at the Problem Solving Group.")),
        reviews=((99, "Barrier at the car park entrance asked of the landowner; police patrols on Fridays."),),
    ),
    DemoCase(
        "lindqvist", "asb", CaseCategory.PERSONAL, (C.VIOLENCE_OR_THREATS,), "40 Hawthorn Way, Eastbrook",
        "Marsh End", 5, ReportChannel.PHONE,
        "Neighbour across the landing threatened to 'smash her face in' after an argument about the shared hallway.",
        "lindqvist",
        (DemoParty("lindqvist", V, COUNCIL, "Eastbrook City Homes"),
         DemoParty("fenwick", AP, COUNCIL, "Eastbrook City Homes")),
        risk=THREATS,
        incidents=(I(6, "Threatened on the landing; he punched the wall next to her.", "lindqvist", "fenwick", 1,
                     hour=19),),
    ),
    DemoCase(
        "olawale", "asb", CaseCategory.NUISANCE, (C.NOISE,), "Priory Gardens, Eastbrook", "Eastbrook South", 15,
        ReportChannel.EMAIL, "Dog barking and loud televisions from the flat below late into the night.", "olawale",
        (DemoParty("olawale", V, Tenure.LEASEHOLDER),), risk=NUISANCE_WEEKLY,
    ),
    DemoCase(
        "kaur", "asb", CaseCategory.ENVIRONMENTAL, (C.CRIMINAL_DAMAGE,), "Chapel Yard underpass, Eastbrook",
        "Eastbrook Central", 150, ReportChannel.ONLINE, "Graffiti tags covering the underpass and the shop shutters "
        "next to it; some of it offensive.", "kaur", (DemoParty("kaur", W, Tenure.OWNER_OCCUPIER),),
        risk=ENVIRONMENTAL, contact_after_hours=26, contact_note="Email reply to Ms Kaur; Clean Team booked.",
        incidents=(I(140, "New tags on the underpass walls and two shop shutters.", "kaur", None, 1, hour=7),),
        stages=((140, INV, "CCTV footage requested."),),
        closure=DemoClosure(ClosureReason.RESOLVED, "Graffiti removed by the Clean Team; a camera now covers the "
                            "underpass and no new tags have been reported for three months.", 40, 38),
    ),
    DemoCase(
        "barnes", "asb", CaseCategory.NUISANCE, (C.ANIMALS, C.NOISE), "Kingsmead Close, Eastbrook", "Hillcrest",
        210, ReportChannel.PHONE, "Two dogs left in the garden of number 5 barking for hours every day.", "barnes",
        (DemoParty("barnes", V, Tenure.OWNER_OCCUPIER), DemoParty("stokes", AP, Tenure.OWNER_OCCUPIER)),
        risk=NUISANCE_WEEKLY, contact_after_hours=24, contact_note="Phone call with Mrs Barnes.",
        incidents=(I(200, "Dogs barking from 7am to 6pm while the owner was out.", "barnes", "stokes", 1, hour=12),),
        stages=((195, INV, "Noise diary and a visit to Mr Stokes."), (181, INTERVENE, "Warning agreed.")),
        interventions=(DemoIntervention(InterventionKind.COMMUNITY_PROTECTION_WARNING, 180, "stokes",
                                        "Keep the dogs from barking for long periods; a dog walker to be arranged."),),
        closure=DemoClosure(ClosureReason.NO_FURTHER_INCIDENTS, "No barking reported since the warning; Mrs Barnes "
                            "agrees the case can close.", 65, 63),
    ),
    DemoCase(
        "moreton", "asb", CaseCategory.NUISANCE, (C.NOISE, C.CRIMINAL_DAMAGE), "Linden Avenue shops, Eastbrook",
        "Eastbrook North", 130, ReportChannel.IN_PERSON, "Young people gathering outside the shops every evening, "
        "shouting at customers and kicking the shutters.", "moreton", (DemoParty("moreton", V),),
        risk=NUISANCE_WEEKLY, contact_after_hours=4, contact_note="Met Mr Moreton at the shop.",
        incidents=(I(120, "Shutters kicked and a bin set alight outside the shop.", "moreton", None, hour=21),),
        stages=((120, INV, "Youth outreach team asked to attend the shops."),),
        closure=DemoClosure(ClosureReason.RESOLVED, "Youth outreach sessions at the shops since the summer; no "
                            "reports for four months.", 6),
    ),
    DemoCase(
        "ellery", "asb", CaseCategory.NUISANCE, (C.VEHICLE_NUISANCE,), "Eastbrook Common", "Hillcrest", 170,
        ReportChannel.PHONE, "Off-road motorbikes ridden across the common in the evenings, close to dog walkers.",
        "ellery", (DemoParty("ellery", V, Tenure.OWNER_OCCUPIER),),
        risk=NUISANCE_WEEKLY, contact_after_hours=28, contact_note="Phone call with Mrs Ellery.",
        incidents=(I(160, "Three motorbikes on the common at dusk.", "ellery", None, 1, hour=19),
                   I(125, "Motorbike rode through the children's play area.", "ellery", None, 1, hour=18)),
        stages=((158, INV, "Police and parks team told; patrols asked for."),),
    ),
    DemoCase(
        "hollis", "asb", CaseCategory.PERSONAL, (C.EXPLOITATION, C.DRUGS), "Foundry House, Foundry Lane, Eastbrook",
        "Marsh End", 20, ReportChannel.PHONE, "Social worker concerned that Mr Hollis's flat is being used by people "
        "dealing drugs; he seems frightened and his benefits are being taken.", None,
        (DemoParty("hollis", V, COUNCIL, "Eastbrook City Homes", "Learning disability; lives alone.",
                   ("Eastshire Adult Social Care", "Eastbrook Mental Health Trust")),
         DemoParty("nash", AP)),
        reporter_name="Nina Patel (Eastshire Adult Social Care)", risk=THREATS, contact_after_hours=6,
        contact_note="Joint visit with his social worker; Mr Hollis spoke to us alone.",
        incidents=(I(18, "Police called to the flat; four people inside, Mr Hollis in the bedroom.", "Nina Patel",
                     "nash", 1, hour=16, police=True, crime_reference="EP/26/40955"),
                   I(7, "Neighbour saw Mr Nash let himself into the flat with a key.", "coates", "nash",
                     hour=22)),
        police="shared", stages=((14, INV, "Safeguarding referral made; police intelligence shared."),),
    ),
    DemoCase(
        "coates", "asb", CaseCategory.ENVIRONMENTAL, (C.FLY_TIPPING,), "Foundry Lane, Eastbrook", "Marsh End", 16,
        ReportChannel.ONLINE, "Builders' rubble and a sofa dumped at the end of Foundry Lane again.", "coates",
        (DemoParty("coates", W),), risk=ENVIRONMENTAL, contact_after_hours=48,
        contact_note="Phone call with Mr Coates; waste removal booked.",
        incidents=(I(12, "Van seen tipping plasterboard; part of the number plate noted.", "coates", None, hour=6),),
    ),
    DemoCase(
        "canal", "asb", CaseCategory.NUISANCE, (C.DRUGS,), "Canal Walk, Eastbrook", "Canal Quarter", 33,
        ReportChannel.ANONYMOUS, "People dealing drugs from the bench by the lock most afternoons; needles found "
        "in the hedge.", None, risk=CRIMINAL, contact_after_hours=46,
        contact_note="Door-to-door visits on Canal Walk; two residents spoke to us.", police="shared",
        stages=((26, INV, "Police patrols and a needle sweep arranged."),),
    ),
    DemoCase(
        "yusuf", "asb", CaseCategory.PERSONAL, (C.SEXUAL_HARASSMENT, C.HARASSMENT), "Station Road, Eastbrook",
        "Eastbrook Central", 12, ReportChannel.ONLINE, "A man from the car wash makes sexual comments whenever Ms "
        "Yusuf walks past and has followed her home twice.", "yusuf",
        (DemoParty("yusuf", V, Tenure.PRIVATE_TENANT, "Mr R. Lowe (private landlord)"),), risk=TARGETED,
        contact_after_hours=5, contact_note="Phone call with Ms Yusuf; safety advice and a personal alarm.",
        incidents=(I(13, "Followed from the station to her door; comments about her body.", "yusuf", None, 1,
                     hour=18, police=True),),
        police="shared",
    ),
    DemoCase(
        "greaves", "manager", CaseCategory.NUISANCE, (C.VEHICLE_NUISANCE, C.NOISE), "Ring Road lay-by, Hillcrest",
        "Hillcrest", 1, ReportChannel.PHONE, "Cars racing along the Ring Road and meeting in the lay-by late at "
        "night.", "greaves", (DemoParty("greaves", W),), report_hour=9,
    ),
    # --- Eastbrook City Homes -------------------------------------------------------------------
    DemoCase(
        "osei", "homes", CaseCategory.PERSONAL, (C.VIOLENCE_OR_THREATS, C.NOISE), "Elm Park Estate, Eastbrook",
        "Elm Park", 400, ReportChannel.PHONE, "The tenant of number 31 plays music all night and threatened Ms Osei "
        "with a hammer when she complained.", "osei",
        (DemoParty("osei", V, COUNCIL, "Eastbrook City Homes"), DemoParty("fletcher", AP, COUNCIL,
         "Eastbrook City Homes"), DemoParty("patterson", W, COUNCIL, "Eastbrook City Homes")),
        risk=THREATS, contact_after_hours=24, contact_note="Home visit to Ms Osei.",
        incidents=(I(390, "Threatened with a hammer on the path.", "osei", "fletcher", 1, hour=20, police=True,
                     crime_reference="EP/25/33190"),
                   I(370, "Music until 5am three nights running (from the diary sheets).", "patterson", "fletcher",
                     40, hour=3),
                   I(200, "Shouting and banging on Ms Osei's door after the notice was served.", "osei", "fletcher",
                     2, hour=22),
                   I(75, "Music and shouting until 2am.", "patterson", "fletcher", 1, hour=1)),
        police="awaiting",
        stages=((388, INV, "Evidence gathering; witness statements."),
                (352, LEGAL, "Tenancy Enforcement Panel authorised a Notice of Seeking Possession.")),
        reviews=((40, "Witnesses still willing to give evidence; possession claim being prepared."),),
        interventions=(DemoIntervention(InterventionKind.NOTICE_OF_SEEKING_POSSESSION, 350, "fletcher",
                                        "Ground 14: nuisance and annoyance to neighbours.",
                                        "Tenancy Enforcement Panel"),),
    ),
    DemoCase(
        "price", "homes", CaseCategory.PERSONAL, (C.NOISE, C.CRIMINAL_DAMAGE), "Kingfisher House, Kingfisher Close",
        "Kingfisher", 270, ReportChannel.EMAIL, "Loud parties in Flat 8 every weekend; Ms Price's car tyres "
        "slashed after she complained.", "price",
        (DemoParty("price", V, COUNCIL, "Eastbrook City Homes"),
         DemoParty("whitby", AP, COUNCIL, "Eastbrook City Homes")),
        risk=NUISANCE_DAILY, contact_after_hours=24, contact_note="Phone call with Ms Price.",
        incidents=(I(260, "Party until 4am; fight on the landing.", "price", "whitby", 1, hour=3),
                   I(230, "Tyres slashed overnight.", "price", "whitby", 35, hour=2, police=True),
                   I(45, "Music until 1am; first complaint since the order was made.", "price", "whitby", 1, hour=1)),
        stages=((255, INV, "Noise recording and a visit to Mr Whitby."),
                (201, LEGAL, "Tenancy Enforcement Panel authorised demotion.")),
        reviews=((30, "Demoted tenancy: monitoring visits monthly."),),
        interventions=(DemoIntervention(InterventionKind.NOTICE_OF_INTENTION_DEMOTION, 200, "whitby",
                                        authorised_by="Tenancy Enforcement Panel"),
                       DemoIntervention(InterventionKind.DEMOTION_ORDER, 150, "whitby",
                                        "Demotion Order made at Eastbrook County Court.")),
    ),
    DemoCase(
        "rahim", "homes", CaseCategory.NUISANCE, (C.NOISE,), "5 Linden Avenue, Eastbrook", "Eastbrook North", 26,
        ReportChannel.PHONE, "Loud music and slamming doors from Flat 4 late at night.", "rahim",
        (DemoParty("rahim", V, COUNCIL, "Eastbrook City Homes"), DemoParty("doyle", AP, COUNCIL,
         "Eastbrook City Homes")),
        risk=NUISANCE_WEEKLY, contact_after_hours=30, contact_note="Phone call with Mr Rahim.",
        incidents=(I(20, "Music until midnight on a weeknight.", "rahim", "doyle", 1, hour=23),),
    ),
    DemoCase(
        "grant", "homes", CaseCategory.PERSONAL, (C.HARASSMENT,), "Priory Court, Eastbrook", "Eastbrook South", 8,
        ReportChannel.THIRD_PARTY, "Her mother is being called names and has had her door knocked late at night by "
        "teenagers visiting the block.", "karen",
        (DemoParty("grant", V, COUNCIL, "Eastbrook City Homes", "Aged 88; hard of hearing."),),
        on_behalf_of="grant", risk=TARGETED,
    ),
    DemoCase(
        "ahmed", "homes", CaseCategory.ENVIRONMENTAL, (C.ANIMALS,), "Chapel Yard, Eastbrook", "Eastbrook Central", 35,
        ReportChannel.ONLINE, "Dog mess left in the communal garden every day.", "ahmed",
        (DemoParty("ahmed", V, COUNCIL, "Eastbrook City Homes"),), risk=ENVIRONMENTAL, contact_after_hours=46,
        contact_note="Email to Mr Ahmed; letters to all flats.",
        incidents=(I(30, "Communal garden fouled again; children unable to play.", "ahmed", hour=8),),
        stages=((28, INV, "Letters delivered; dog owners identified."),),
    ),
    DemoCase(
        "kowalski", "homes", CaseCategory.ENVIRONMENTAL, (C.CRIMINAL_DAMAGE,), "Kingfisher House, Kingfisher Close",
        "Kingfisher", 19, ReportChannel.PHONE, "The communal entrance door has been forced and the lock broken.",
        "kowalski", (DemoParty("kowalski", W, COUNCIL, "Eastbrook City Homes"),), risk=ENVIRONMENTAL,
        contact_after_hours=26, contact_note="Phone call with Mr Kowalski; repair ordered.",
    ),
    DemoCase(
        "bell", "homes", CaseCategory.NUISANCE, (C.NOISE,), "Priory Gardens, Eastbrook", "Eastbrook South", 70,
        ReportChannel.EMAIL, "Drum practice and loud music from number 6 most evenings until late.", "bell",
        (DemoParty("bell", V, Tenure.LEASEHOLDER), DemoParty("tanner", AP, COUNCIL, "Eastbrook City Homes")),
        risk=NUISANCE_DAILY, contact_after_hours=22, contact_note="Phone call with Ms Bell.",
        incidents=(I(60, "Drumming until 11pm.", "bell", "tanner", 1, hour=22),
                   I(25, "Music until 1am after the warning.", "bell", "tanner", 1, hour=1)),
        stages=((62, INV, "Noise app recordings received."), (51, INTERVENE, "Warning letter agreed.")),
        interventions=(DemoIntervention(InterventionKind.WARNING_LETTER, 50, "tanner"),
                       DemoIntervention(InterventionKind.ACCEPTABLE_BEHAVIOUR_CONTRACT, 20, "tanner",
                                        "No drumming after 8pm; music kept low after 11pm.")),
    ),
    DemoCase(
        "moody", "homes", CaseCategory.NUISANCE, (C.VEHICLE_NUISANCE,), "Elm Park Estate, Eastbrook", "Elm Park", 40,
        ReportChannel.PHONE, "Cars being repaired and sold from the estate car park; oil on the ground.", "moody",
        (DemoParty("moody", W, COUNCIL, "Eastbrook City Homes"),), risk=NUISANCE_WEEKLY, contact_after_hours=50,
        contact_note="Phone call with Mr Moody.",
        incidents=(I(38, "Three cars with no tax parked for repairs; engine left running.", "moody", None, 2,
                     hour=10),),
        stages=((35, INV, "Vehicles reported to the DVLA; owner identified."),),
    ),
    # --- Riverside Homes (Welwyn's Priority 1-4) -----------------------------------------------------
    DemoCase(
        "nowicki", "riverside", CaseCategory.PERSONAL, (C.HATE_INCIDENT,), "Riverside Court, Canal Walk, Eastbrook",
        "Canal Quarter", 11, ReportChannel.PHONE, "Anti-Polish graffiti sprayed on Mr Nowicki's door and a note "
        "telling him to 'go home'.", "nowicki", (DemoParty("nowicki", V, HA, "Riverside Homes"),),
        risk=TARGETED_ONCE, contact_after_hours=4, contact_note="Visited Mr Nowicki the same day; graffiti removed.",
        incidents=(I(11, "Graffiti on the front door and a note through the letterbox.", "nowicki", hour=8, hate=True,
                     police=True, crime_reference="EP/26/41650"),
                   I(4, "Shouted at in the car park by two men from the block.", "nowicki", hour=19, hate=True)),
        police="shared",
    ),
    DemoCase(
        "bello", "riverside", CaseCategory.NUISANCE, (C.DRUGS,), "Riverside Court, Canal Walk, Eastbrook",
        "Canal Quarter", 27, ReportChannel.ONLINE, "Visitors to Flat 11 day and night; cannabis smoke in the "
        "stairwell.", "bello", (DemoParty("bello", V, HA, "Riverside Homes"), DemoParty("shaw", AP, HA,
         "Riverside Homes")),
        risk=NUISANCE_DAILY, contact_after_hours=30, contact_note="Phone call with Ms Bello.",
        incidents=(I(20, "Smoke in the stairwell; visitors buzzing all flats to get in.", "bello", "shaw", hour=23),),
    ),
    DemoCase(
        "holt", "riverside", CaseCategory.NUISANCE, (C.NOISE,), "Mill Meadows, Eastbrook", "Mill Meadows", 22,
        ReportChannel.EMAIL, "Shouting and loud music from number 16 at weekends.", "holt",
        (DemoParty("holt", V, HA, "Riverside Homes"), DemoParty("pearce", AP, HA, "Riverside Homes")),
        risk=NUISANCE_WEEKLY, contact_after_hours=72, contact_note="Email to Ms Holt; diary sheets sent.",
    ),
    DemoCase(
        "hughes", "riverside", CaseCategory.ENVIRONMENTAL, (C.FLY_TIPPING,), "Weir Cottages, Eastbrook", "Riverside",
        18, ReportChannel.PHONE, "Rubbish bags left by the bin store and split by foxes.", "hughes",
        (DemoParty("hughes", V, HA, "Riverside Homes"),), risk=ENVIRONMENTAL, contact_after_hours=144,
        contact_note="Phone call with Mr Hughes; bulky waste collection arranged.",
    ),
    DemoCase(
        "simmons", "riverside", CaseCategory.NUISANCE, (C.NOISE, C.CRIMINAL_DAMAGE),
        "Riverside Court, Canal Walk, Eastbrook", "Canal Quarter", 16, ReportChannel.ONLINE,
        "Parties in the flat above every weekend; her car's mirrors were broken after she complained.", "simmons",
        (DemoParty("simmons", V, HA, "Riverside Homes"),), risk=NUISANCE_DAILY,
    ),
    DemoCase(
        "clarke", "riverside", CaseCategory.NUISANCE, (C.ANIMALS, C.NOISE), "Weir Cottages, Eastbrook", "Riverside",
        60, ReportChannel.PHONE, "Dogs barking in the next garden and music late on summer evenings.", "clarke",
        (DemoParty("clarke", V, HA, "Riverside Homes"), DemoParty("fisher", AP, HA, "Riverside Homes")),
        risk=NUISANCE_WEEKLY, contact_after_hours=48, contact_note="Visited Mr Clarke and Ms Fisher.",
        incidents=(I(55, "Dogs barking for two hours from 6am.", "clarke", "fisher", 1, hour=6),),
        stages=((50, INV, "Both neighbours willing to meet."), (31, INTERVENE, "Mediation meeting held.")),
        interventions=(DemoIntervention(InterventionKind.GOOD_NEIGHBOUR_AGREEMENT, 30, None,
                                        "Dogs inside by 9pm; music off the patio by 10pm; a call before any party."),),
    ),
)  # fmt: skip

POLICE_JUSTIFICATION = (
    "Eastshire Police need the case summary to plan patrols and joint visits and to link it with crime reports; "
    "asking everyone involved for consent would put the victim or the investigation at risk."
)


# --- Seeding ---------------------------------------------------------------------------------


@dataclass
class _Seeder:
    """What seeding keeps as it goes: the clocks, the actors and the people made."""

    session: Session
    now: datetime  # the demo clock
    real_start: datetime  # the real time seeding started: later stamps are the real clock's
    actors: dict[str, Actor] = field(default_factory=dict)
    people: dict[str, int] = field(default_factory=dict)

    # -- time --

    def at(self, days_ago: int, hour: int, minute: int = 0) -> datetime:
        """``days_ago`` days before the demo clock's day, at ``hour:minute`` local time."""
        zone = local_zone()
        day = self.now.astimezone(zone).date() - timedelta(days=days_ago)
        return datetime.combine(day, time(hour, minute), tzinfo=zone).astimezone(UTC)

    def settle(self, case: Case, moment: datetime) -> None:
        """Give the rows of ``case`` that the last step stamped with the real clock the story's
        ``moment`` (the services that take no time; see the module's docstring)."""
        session, since = self.session, self.real_start
        session.flush()
        for event in session.exec(
            select(CaseEvent).where(CaseEvent.case_id == case.id, col(CaseEvent.occurred_at) >= since)
        ):
            event.occurred_at = moment
            session.add(event)
        for party in session.exec(
            select(CaseParty).where(CaseParty.case_id == case.id, col(CaseParty.added_at) >= since)
        ):
            party.added_at = moment
            session.add(party)
        for move in session.exec(
            select(StageMove).where(StageMove.case_id == case.id, col(StageMove.moved_at) >= since)
        ):
            move.moved_at = moment
            session.add(move)
        for intervention in session.exec(
            select(Intervention).where(Intervention.case_id == case.id, col(Intervention.created_at) >= since)
        ):
            intervention.created_at = moment
            session.add(intervention)
        for item in session.exec(
            select(InformationItem).where(
                InformationItem.case_reference == case.reference, col(InformationItem.created_at) >= since
            )
        ):
            item.created_at = moment
            session.add(item)
        for name in ("opened_at", "stage_changed_at", "closure_requested_at", "closure_proposed_at"):
            stamped = getattr(case, name)
            if stamped is not None and stamped >= since:
                setattr(case, name, moment)
        case.updated_at = moment
        session.add(case)
        session.flush()

    # -- who --

    def actor(self, key: str) -> Actor:
        if key not in self.actors:
            user = self.session.exec(select(User).where(User.email == OFFICERS[key])).one()
            self.actors[key] = actor_for_user(self.session, user)
        return self.actors[key]

    def person(self, key: str) -> int:
        if key in self.people:
            return self.people[key]
        if key in EXISTING_PEOPLE:
            given, family = EXISTING_PEOPLE[key]
            found = self.session.exec(
                select(Person).where(Person.given_name == given, Person.family_name == family)
            ).first()
            if found is None or found.id is None:
                raise LookupError(f"the sharing demo's {given} {family} is missing")
            self.people[key] = found.id
            return found.id
        spec = DEMO_PEOPLE[key]
        person = create_person(
            session=self.session,
            actor=self.actor(spec.held_by),
            data=PersonInput(
                spec.given_name, spec.family_name, spec.born, spec.address, spec.postcode, spec.phone,
                is_vulnerable_adult=spec.vulnerable_adult,
            ),
        )  # fmt: skip
        assert person.id is not None
        self.people[key] = person.id
        return person.id

    def organisation_id(self, name: str) -> int:
        org = self.session.exec(select(Organisation).where(Organisation.name == name)).one()
        assert org.id is not None
        return org.id


def _adopt_reference(session: Session, actor: Actor, case: Case, reference: str) -> None:
    """Give a case just opened the reference its records already carry (or the one of the
    year it was opened in the story): the case row and every item of the lead organisation
    filed under the provisional reference, audited."""
    provisional = case.reference
    if reference == provisional:
        return
    items = session.exec(
        select(InformationItem).where(
            InformationItem.owner_organisation_id == case.lead_organisation_id,
            InformationItem.case_reference == provisional,
        )
    ).all()
    for item in items:
        item.case_reference = reference
        session.add(item)
    case.reference = reference
    refresh_case_summary(session, case)
    record_event(
        session, action=AuditAction.CASE_UPDATED, outcome=Outcome.SUCCESS, actor=actor,
        subject_type="case", subject_id=case.id, reason="Demo case takes the reference its records are filed under",
        detail={"change": "reference", "from": provisional, "to": reference,
                "items": sorted(i.id for i in items if i.id is not None)},
    )  # fmt: skip


def _open(seeder: _Seeder, spec: DemoCase) -> Case:
    """Record the first report, open the case with its parties and triage the report to it."""
    session = seeder.session
    lead = seeder.actor(spec.lead)
    received = seeder.at(spec.opened_days_ago, spec.report_hour, 15)
    opened = received + timedelta(minutes=40)
    victim = seeder.person(spec.on_behalf_of) if spec.on_behalf_of else None
    if victim is not None:
        # A third party reports for the victim, who agreed to the council discussing it with them.
        record_consent(
            session=session,
            actor=seeder.actor(DEMO_PEOPLE[spec.on_behalf_of or ""].held_by),
            data=ConsentInput(
                person_id=victim, method=ConsentMethod.VERBAL, purposes=[Purpose.ASB_CASE_MANAGEMENT],
                categories=[DataCategory.IDENTITY, DataCategory.CONTACT, DataCategory.ASB_HISTORY],
                given_on=received.date() - timedelta(days=1),
                organisation_types=[OrganisationType.COUNCIL_HOUSING, OrganisationType.COUNCIL_ASB_TEAM],
            ),
        )  # fmt: skip
    report = record_report(
        session=session,
        actor=lead,
        data=ReportInput(
            channel=spec.channel,
            what_happened=spec.report,
            received_at=received,
            occurred_at=received - timedelta(hours=14),
            location=spec.location,
            reporter_person_id=seeder.person(spec.reporter) if spec.reporter else None,
            reporter_name=spec.reporter_name,
            victim_person_id=victim,
        ),
        now=received,
    )
    assert report.id is not None and report.item_id is not None
    case_input = CaseInput(category=spec.category, types=list(spec.types), location=spec.location, area=spec.area)
    assert lead.organisation_id is not None
    prefix = get_case_policy(session, lead.organisation_id).reference_prefix
    reference = spec.reference or next_case_reference(session, prefix, opened.year)
    if spec.channel == ReportChannel.ANONYMOUS:
        # Only an anonymous report opens its own case: there is nobody to add as a party.
        triage_report(
            session=session, actor=lead, report_id=report.id,
            decision=TriageDecision(outcome=TriageOutcome.CASE_OPENED, case=case_input), now=opened,
        )  # fmt: skip
        case = session.get(Case, report.case_id)
        assert case is not None
        _adopt_reference(session, lead, case, reference)
    else:
        case = open_case(session=session, actor=lead, data=case_input)
        _adopt_reference(session, lead, case, reference)
        assert case.id is not None
        for party in spec.parties:
            add_party(
                session=session, actor=lead, case_id=case.id,
                data=PartyInput(person_id=seeder.person(party.person), role=party.role, tenure=party.tenure,
                                landlord=party.landlord, vulnerability=party.vulnerability,
                                support_services=list(party.support)),
            )  # fmt: skip
        triage_report(
            session=session, actor=lead, report_id=report.id,
            decision=TriageDecision(outcome=TriageOutcome.ADDED_TO_CASE, case_id=case.id), now=opened,
        )  # fmt: skip
    seeder.settle(case, opened)
    item = session.get(InformationItem, report.item_id)
    assert item is not None
    item.created_at = received
    session.add(item)
    return case


def _share_with_police(seeder: _Seeder, case: Case, lead: Actor, *, approve: bool) -> None:
    """Disclose the case's summary to Eastshire Police under s.115 (a legal gateway: the ISO
    approves it, or has not yet)."""
    assert case.summary_item_id is not None
    disclosure = request_disclosure(
        session=seeder.session,
        actor=lead,
        request=DisclosureRequest(
            item_ids=[case.summary_item_id],
            recipient_organisation_id=seeder.organisation_id(POLICE),
            purpose=Purpose.ASB_CASE_MANAGEMENT,
            basis=LawfulBasis.CRIME_AND_DISORDER_S115,
            justification=POLICE_JUSTIFICATION,
            categories=[DataCategory.ASB_HISTORY],
        ),
    )
    if approve:
        assert disclosure.id is not None
        decide_disclosure(
            session=seeder.session, actor=seeder.actor("iso"), disclosure_id=disclosure.id, approve=True,
            note="Necessary and proportionate for the prevention of crime and disorder.",
        )  # fmt: skip


def _steps(seeder: _Seeder, spec: DemoCase, case: Case) -> list[tuple[datetime, Callable[[], object]]]:
    """What happens to the case after it opens, each at its moment in the story."""
    lead = seeder.actor(spec.lead)
    assert case.id is not None
    case_id = case.id
    opened = case.opened_at
    steps: list[tuple[datetime, Callable[[], object]]] = []

    def add(moment: datetime, service: Callable[..., object], **arguments: Any) -> None:
        steps.append((moment, partial(service, session=seeder.session, case_id=case_id, **arguments)))

    if spec.risk is not None:
        assessed = opened + timedelta(hours=1)
        add(assessed, assess_risk, actor=lead, answers=spec.risk, now=assessed)
    if spec.contact_after_hours is not None:
        contacted = opened + timedelta(hours=spec.contact_after_hours)
        add(contacted, record_first_contact, actor=lead, contacted_at=contacted, note=spec.contact_note, now=contacted)
    if spec.police:
        shared = partial(_share_with_police, seeder, case, lead, approve=spec.police == "shared")
        steps.append((opened + timedelta(hours=2), shared))
    for incident in spec.incidents:
        occurred = seeder.at(incident.days_ago, incident.hour)
        reported = (
            seeder.at(incident.days_ago - incident.reported_after, 9, 30)
            if incident.reported_after
            else occurred + timedelta(hours=1)
        )
        entered = max(reported, opened + timedelta(hours=3))
        by_person = incident.reporter in DEMO_PEOPLE or incident.reporter in EXISTING_PEOPLE
        data = IncidentInput(
            occurred_at=occurred,
            what_happened=incident.what,
            reported_by_person_id=seeder.person(incident.reporter) if by_person else None,
            reported_by_name="" if by_person else incident.reporter,
            perpetrator_person_id=seeder.person(incident.perpetrator) if incident.perpetrator else None,
            is_hate=incident.hate,
            police_called=incident.police,
            crime_reference=incident.crime_reference,
            effect_on_victim=incident.effect,
            reported_at=reported,
        )
        add(entered, record_incident, actor=seeder.actor(incident.entered_by or spec.lead), data=data, now=entered)
    for days_ago, stage, reason in spec.stages:
        moved = seeder.at(days_ago, 11)
        add(moved, move_stage, actor=lead, to_stage=stage, reason=reason, now=moved)
    for days_ago, note in spec.reviews:
        reviewed = seeder.at(days_ago, 14)
        add(reviewed, record_stage_review, actor=lead, reviewed_on=reviewed.astimezone(local_zone()).date(), note=note)
    for step in spec.interventions:
        served = seeder.at(step.served_days_ago, 11, 30)
        steps.append((served, partial(_intervene, seeder, spec, case_id, step, served)))
    if spec.closure is not None:
        closure = spec.closure
        add(seeder.at(closure.requested_days_ago, 15), request_closure, actor=lead, reason=closure.reason,
            note=closure.note)  # fmt: skip
        if closure.approved_days_ago is not None:
            approved = seeder.at(closure.approved_days_ago, 10)
            add(approved, approve_closure, actor=seeder.actor("manager"), victim_told_of_case_review=True, now=approved)
    return steps


def _intervene(seeder: _Seeder, spec: DemoCase, case_id: int, step: DemoIntervention, served: datetime) -> None:
    """Record an intervention as served on its day, resting on the case's earlier step (a
    Demotion Order on its Notice of Intention)."""
    record_intervention(
        session=seeder.session,
        actor=seeder.actor(spec.lead),
        case_id=case_id,
        data=InterventionInput(
            kind=step.kind,
            status=InterventionStatus.SERVED,
            served_on=served.astimezone(local_zone()).date(),
            subject_person_id=seeder.person(step.subject) if step.subject else None,
            details=step.details,
            authorised_by=step.authorised_by,
        ),
        today=served.astimezone(local_zone()).date(),
    )


def _build(seeder: _Seeder, spec: DemoCase) -> Case:
    case = _open(seeder, spec)
    for moment, step in sorted(_steps(seeder, spec, case), key=lambda s: s[0]):
        step()
        seeder.settle(case, moment)
    return case


def seed_case_demo(session: Session, *, now: datetime | None = None) -> bool:
    """Add the demo's cases, unless they exist.  Returns whether anything was added.

    ``now`` is the demo clock (default: the current time; it cannot be later).  Call after
    :func:`panels.demo.seed_sharing_demo`, whose people and notes the first three cases take up.
    """
    real_start = utcnow()
    now = now or real_start
    if now > real_start:
        raise ValueError("the demo clock cannot be ahead of the real one")
    if session.exec(select(Case.id).where(Case.reference == FIRST_REFERENCE)).first() is not None:
        return False
    seeder = _Seeder(session=session, now=now, real_start=real_start)

    # Riverside Homes prioritises with Welwyn's Priority 1-4 and numbers its own cases.
    riverside = seeder.organisation_id(RIVERSIDE)
    if session.get(OrganisationPolicy, riverside) is None:
        set_case_policy(
            session=session, actor=seeder.actor("admin"), organisation_id=riverside,
            policy=CasePolicy(reference_prefix=RIVERSIDE_PREFIX, risk_scheme=WELWYN_SCHEME),
        )  # fmt: skip

    # The cases with references already on records first; then the rest, oldest first, so
    # references run in the order cases were opened.
    fixed = sorted((s for s in DEMO_CASES if s.reference), key=lambda s: s.reference)
    others = sorted((s for s in DEMO_CASES if not s.reference), key=lambda s: -s.opened_days_ago)
    for spec in (*fixed, *others):
        _build(seeder, spec)

    # The scheduled job, run by the ASB officer for the team: its quiet case is proposed.
    today = now.astimezone(local_zone()).date()
    for case_id in propose_quiet_cases_for_closure(session=session, actor=seeder.actor("asb"), today=today):
        proposed = session.get(Case, case_id)
        assert proposed is not None
        seeder.settle(proposed, now)
    return True
