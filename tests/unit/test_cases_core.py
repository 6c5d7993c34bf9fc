"""Opening a case, who may change it, and how partners see it (through the sharing rules)."""

from __future__ import annotations

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from panels.case_models import CaseEvent
from panels.cases import CaseInput, case_for_update, open_case, read_case
from sharing.db import transaction
from sharing.errors import InvalidInput, PermissionDenied
from sharing.models import AccessLog
from tests.unit.case_helpers import CaseWorld, case_world, make_case
from tests.unit.helpers import audit_events, last_audit_id

__all__ = ["case_world"]


def test_opening_a_case_gives_it_a_reference_a_summary_item_and_a_chronology(
    engine: Engine, case_world: CaseWorld
) -> None:
    since = last_audit_id(engine)
    case = make_case(engine, case_world.officer, types=["noise", "harassment"])
    assert case.reference.startswith("ASB-")
    assert case.lead_organisation_id == case_world.council_id
    assert case.lead_officer_user_id == case_world.officer.user_id
    with Session(engine) as session:
        events = session.exec(select(CaseEvent).where(CaseEvent.case_id == case.id)).all()
        assert [e.kind for e in events] == ["case_opened"]
        _, view = read_case(session, case_world.officer, case.id, via="test")
    fields = {f.key: f.value for f in view.fields}
    assert fields["reference"] == case.reference
    assert fields["types"] == "Harassment or intimidation, Noise"
    assert view.access == "owner"
    assert [e.action for e in audit_events(engine, since=since, subject_type="case")] == ["cases:case:opened"]


def test_references_count_up(engine: Engine, case_world: CaseWorld) -> None:
    first = make_case(engine, case_world.officer)
    second = make_case(engine, case_world.officer)
    assert int(second.reference.rsplit("-", 1)[1]) == int(first.reference.rsplit("-", 1)[1]) + 1


def test_a_case_needs_category_types_and_location(engine: Engine, case_world: CaseWorld) -> None:
    with pytest.raises(InvalidInput) as error, transaction(engine) as session:
        open_case(session=session, actor=case_world.officer, data=CaseInput(category="odd", types=[], location=" "))
    assert set(error.value.field_errors) == {"category", "types", "location"}


def test_a_partner_cannot_change_or_read_an_undisclosed_case(engine: Engine, case_world: CaseWorld) -> None:
    case = make_case(engine, case_world.officer)
    since = last_audit_id(engine)
    with pytest.raises(PermissionDenied), transaction(engine) as session:
        case_for_update(session, case_world.police, case.id)
    with pytest.raises(PermissionDenied), transaction(engine) as session:
        read_case(session, case_world.police, case.id, via="case page")
    actions = [e.action for e in audit_events(engine, since=since)]
    assert "access:permission:denied" in actions
    assert "sharing:item:read_denied" in actions
    with Session(engine) as session:
        denied = session.exec(
            select(AccessLog).where(AccessLog.item_id == case.summary_item_id, AccessLog.outcome == "denied")
        ).all()
    assert denied
