"""Building blocks for the panel meeting tests: a council that leads cases, the police, legal
services and housing solutions, a chair and deputy; panels made through the real service; and
a meeting taken from scheduling to an open, attended meeting with a case on its agenda."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session

from panels.agenda import build_agenda, publish_agenda
from panels.case_models import Case
from panels.meeting_room import join_meeting, open_meeting, record_attendance
from panels.meetings import add_meeting
from panels.models import AgendaItem, Meeting
from panels.panel_config import PSG_DECISION_TYPES, TEP_DECISION_TYPES, PanelInput, create_panel
from panels.referrals import decide_referral, refer_case
from sharing.db import transaction
from sharing.models import OrganisationType, Role
from sharing.permissions import SYSTEM_ACTOR, Actor
from tests.conftest import unique
from tests.unit.case_helpers import make_case
from tests.unit.sharing_helpers import Agency, Org, make_actor, make_agency_in

# A meeting far enough ahead that "now" (the real clock some services read) is before it.
MEETING_AT = datetime(2030, 6, 11, 9, 0, tzinfo=UTC)  # Tuesday 11 June 2030, 10:00 in London


@dataclass
class MeetingWorld:
    council: Agency  # leads the cases
    police: Agency
    legal: Agency
    solutions: Agency
    chair: Actor  # a panel member at the council
    deputy: Actor  # a panel member at the police
    admin: Actor
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def orgs(self) -> list[Org]:
        return [self.council.org, self.police.org, self.legal.org, self.solutions.org]


@pytest.fixture
def meeting_world(engine: Engine) -> MeetingWorld:
    with transaction(engine) as session:
        council = make_agency_in(session, OrganisationType.COUNCIL_ASB_TEAM, "Council")
        police = make_agency_in(session, OrganisationType.POLICE, "Police")
        legal = make_agency_in(session, OrganisationType.LEGAL_SERVICES, "Legal")
        solutions = make_agency_in(session, OrganisationType.HOUSING_SOLUTIONS, "Solutions")
        chair = make_actor(session, council.org, Role.PANEL_MEMBER, name="Chair Person")
        deputy = make_actor(session, police.org, Role.PANEL_MEMBER, name="Deputy Person")
        admin = make_actor(session, council.org, Role.ADMINISTRATOR, name="Admin Person")
    return MeetingWorld(council, police, legal, solutions, chair, deputy, admin)


def panel_input(world: MeetingWorld, **overrides: Any) -> PanelInput:
    data = PanelInput(
        name=unique("Panel"),
        purpose="Test panel",
        organisation_ids=[world.council.org.id, world.police.org.id, world.legal.org.id, world.solutions.org.id],
        chair_user_id=world.chair.user_id,
        deputy_chair_user_id=world.deputy.user_id,
        cadence_rrule="FREQ=MONTHLY;BYDAY=2TU",
        start_time="10:00",
        duration_minutes=120,
        venue="Committee Room 1",
        quorum_min_organisations=2,
        quorum_required_organisation_ids=[world.legal.org.id],
        decision_types=[*PSG_DECISION_TYPES, *TEP_DECISION_TYPES],
    )
    for key, value in overrides.items():
        setattr(data, key, value)
    return data


def make_panel(engine: Engine, world: MeetingWorld, **overrides: Any) -> int:
    with transaction(engine) as session:
        panel = create_panel(session=session, actor=SYSTEM_ACTOR, data=panel_input(world, **overrides))
        assert panel.id is not None
        return panel.id


def make_meeting(engine: Engine, panel_id: int, starts_at: datetime = MEETING_AT, **kwargs: Any) -> int:
    with transaction(engine) as session:
        meeting = add_meeting(
            session=session, actor=SYSTEM_ACTOR, panel_id=panel_id, starts_at=starts_at,
            now=kwargs.pop("now", datetime(2020, 1, 1, tzinfo=UTC)), **kwargs,
        )  # fmt: skip
        assert meeting.id is not None
        return meeting.id


def load_meeting(engine: Engine, meeting_id: int) -> Meeting:
    with Session(engine) as session:
        meeting = session.get(Meeting, meeting_id)
        assert meeting is not None
        return meeting


def refer(engine: Engine, world: MeetingWorld, case: Case, panel_id: int, now: datetime | None = None) -> int:
    with transaction(engine) as session:
        referral = refer_case(
            session=session, actor=world.council.officer, case_id=case.id, panel_id=panel_id,  # type: ignore[arg-type]
            reason="Repeated noise and threats despite warnings.", decision_sought="Agree an action plan.",
            evidence="Diary sheets, two police logs.", now=now,
        )  # fmt: skip
        assert referral.id is not None
        return referral.id


@dataclass(frozen=True)
class HeldMeeting:
    panel_id: int
    meeting_id: int
    case: Case
    agenda_item_id: int


def meeting_with_case(
    engine: Engine,
    world: MeetingWorld,
    *,
    panel_id: int | None = None,
    publish: bool = True,
    open_it: bool = True,
    present: tuple[Actor, ...] = (),
    **panel_overrides: Any,
) -> HeldMeeting:
    """A panel, a meeting, a council case referred and accepted onto its agenda; published,
    opened, and joined by ``present`` (each accepting the confidentiality statement)."""
    panel_id = panel_id or make_panel(engine, world, **panel_overrides)
    meeting_id = make_meeting(engine, panel_id)
    case = make_case(engine, world.council.officer)
    referral_id = refer(engine, world, case, panel_id, now=MEETING_AT - timedelta(days=30))
    with transaction(engine) as session:
        decide_referral(session=session, actor=world.chair, referral_id=referral_id, decision="accept")
        items = build_agenda(session=session, actor=world.chair, meeting_id=meeting_id)
        item_id = next(i.id for i in items if i.case_id == case.id)
        assert item_id is not None
        if publish:
            publish_agenda(session=session, actor=world.chair, meeting_id=meeting_id)
        if open_it:
            open_meeting(session=session, actor=world.chair, meeting_id=meeting_id)
    for actor in present:
        with transaction(engine) as session:
            join_meeting(session=session, actor=actor, meeting_id=meeting_id, accept_confidentiality=True)
    return HeldMeeting(panel_id, meeting_id, case, item_id)


def attend(engine: Engine, world: MeetingWorld, meeting_id: int, *actors: Actor, status: str = "present") -> None:
    with transaction(engine) as session:
        for actor in actors:
            assert actor.user_id is not None
            record_attendance(
                session=session, actor=world.chair, meeting_id=meeting_id, user_id=actor.user_id, status=status
            )


def agenda_item(engine: Engine, agenda_item_id: int) -> AgendaItem:
    with Session(engine) as session:
        item = session.get(AgendaItem, agenda_item_id)
        assert item is not None
        return item
