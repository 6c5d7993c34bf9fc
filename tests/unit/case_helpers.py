"""Building blocks for the case tests: a council ASB team with a lead officer and a manager,
a partner (police) organisation with a panel member, and open cases led by the council."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest
from sqlalchemy.engine import Engine

from panels.case_models import Case
from panels.cases import CaseInput, open_case
from sharing.db import transaction
from sharing.models import OrganisationType, Role
from sharing.permissions import Actor
from tests.conftest import actor_of


@dataclass(frozen=True)
class CaseWorld:
    council_id: int
    police_id: int
    officer: Actor  # lead officer at the council ASB team
    manager: Actor  # team manager at the council ASB team
    police: Actor  # panel member at the police


@pytest.fixture
def case_world(
    engine: Engine, make_organisation: Callable[..., int], make_user: Callable[..., tuple[int, str]]
) -> CaseWorld:
    council = make_organisation(type=OrganisationType.COUNCIL_ASB_TEAM)
    police = make_organisation(type=OrganisationType.POLICE)
    officer, _ = make_user((Role.LEAD_OFFICER,), organisation_id=council, full_name="Lead Officer", password=None)
    manager, _ = make_user((Role.MANAGER,), organisation_id=council, full_name="Team Manager", password=None)
    member, _ = make_user((Role.PANEL_MEMBER,), organisation_id=police, full_name="Police Member", password=None)
    return CaseWorld(council, police, actor_of(engine, officer), actor_of(engine, manager), actor_of(engine, member))


def make_case(engine: Engine, actor: Actor, **overrides: object) -> Case:
    """Open a case as ``actor`` and return it (detached, loaded)."""
    data = CaseInput(category="personal", types=["noise"], location="12 Example Road", area="North")
    for key, value in overrides.items():
        setattr(data, key, value)
    with transaction(engine) as session:
        case = open_case(session=session, actor=actor, data=data)
        session.refresh(case)
        session.expunge(case)
    return case
