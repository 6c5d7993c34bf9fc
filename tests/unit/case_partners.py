"""A council ASB team and a police force under one sharing agreement, for the tests of what
partners see of cases (the case list, the chronology, the case page)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy.engine import Engine

from panels.case_models import Case
from panels.cases import refresh_case_summary
from sharing.db import transaction
from sharing.disclosures import decide_disclosure
from sharing.models import Disclosure, OrganisationType, Role
from sharing.permissions import Actor
from sharing.vocabulary import LawfulBasis
from tests.unit.sharing_helpers import Agency, make_actor, make_agency_in, make_agreement, share


@dataclass(frozen=True)
class Partnership:
    council: Agency  # leads the cases
    manager: Actor  # team manager at the council
    police: Agency


@pytest.fixture
def partnership(engine: Engine) -> Partnership:
    with transaction(engine) as session:
        council = make_agency_in(session, OrganisationType.COUNCIL_ASB_TEAM, "Council")
        manager = make_actor(session, council.org, Role.MANAGER, name="Team Manager")
        police = make_agency_in(session, OrganisationType.POLICE, "Police")
    make_agreement(engine, council.iso, [council.org, police.org])
    return Partnership(council, manager, police)


def share_with_police(engine: Engine, p: Partnership, item_ids: list[int]) -> Disclosure:
    """Share items with the police under s.115, approved by the council's sharing officer."""
    disclosure = share(engine, p.council.officer, item_ids, p.police.org, basis=LawfulBasis.CRIME_AND_DISORDER_S115)
    assert disclosure.id is not None
    with transaction(engine) as session:
        return decide_disclosure(session=session, actor=p.council.iso, disclosure_id=disclosure.id, approve=True)


def set_case(engine: Engine, case_id: int | None, **values: Any) -> None:
    """Change a case row directly (as the services other than these would) and refresh its
    summary item."""
    with transaction(engine) as session:
        case = session.get(Case, case_id)
        assert case is not None
        for name, value in values.items():
            setattr(case, name, value)
        refresh_case_summary(session, case)
