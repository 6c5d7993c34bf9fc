"""Listing panels: the actor's own first, and only for people allowed to see panels."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from panels.demo import DEMO_PANELS
from panels.models import Panel, PanelOrganisation
from panels.panels import PanelRead, list_panels
from sharing.access import DENIED_MESSAGE
from sharing.audit import AuditAction, Outcome
from sharing.db import transaction
from sharing.errors import PermissionDenied
from sharing.models import User
from sharing.permissions import Actor
from tests.conftest import actor_of, unique
from tests.unit.helpers import audit_events, last_audit_id

MakeUser = Callable[..., tuple[int, str]]
MakeOrganisation = Callable[..., int]
DEMO_PANEL_NAMES = {p.name for p in DEMO_PANELS}


def _demo_actor(engine: Engine, email: str) -> Actor:
    with Session(engine) as session:
        user = session.exec(select(User).where(User.email == email)).one()
    assert user.id is not None
    return actor_of(engine, user.id)


def _list(engine: Engine, actor: Actor) -> list[PanelRead]:
    with transaction(engine) as session:
        return list_panels(session=session, actor=actor)


def _make_panel(
    engine: Engine,
    name: str,
    *,
    chair_user_id: int | None = None,
    organisations: tuple[int, ...] = (),
    active: bool = True,
) -> int:
    with transaction(engine) as session:
        panel = Panel(name=name, slug=name.lower(), purpose=f"Purpose of {name}", chair_user_id=chair_user_id)
        panel.active = active
        session.add(panel)
        session.flush()
        assert panel.id is not None
        for organisation_id in organisations:
            session.add(PanelOrganisation(panel_id=panel.id, organisation_id=organisation_id))
        return panel.id


def test_a_chair_sees_the_panel_they_chair_first(engine: Engine) -> None:
    actor = _demo_actor(engine, "ccp.chair@eastbrook.demo")
    panels = [p for p in _list(engine, actor) if p.name in DEMO_PANEL_NAMES]
    # Chairs the Complex Case Panel; their organisation (City Homes) sits on all three.
    assert [p.name for p in panels] == ["Complex Case Panel", "Problem Solving Group", "Tenancy Enforcement Panel"]
    assert [p.actor_is_chair for p in panels] == [True, False, False]
    assert all(p.actor_sits_on for p in panels)
    ccp = panels[0]
    assert ccp.chair_name == "Sam Whitfield"
    assert ccp.chair_organisation == "Eastbrook City Homes"
    assert ccp.organisation_names == ("Eastbrook City Homes", "Eastbrook Housing Solutions", "Eastshire Police")
    assert ccp.purpose


def test_panels_the_organisation_sits_on_come_before_the_rest(engine: Engine) -> None:
    actor = _demo_actor(engine, "legal@eastbrook.demo")
    panels = [p for p in _list(engine, actor) if p.name in DEMO_PANEL_NAMES]
    # Legal Services sits only on the Tenancy Enforcement Panel and chairs nothing.
    assert [p.name for p in panels] == ["Tenancy Enforcement Panel", "Complex Case Panel", "Problem Solving Group"]
    assert [p.actor_sits_on for p in panels] == [True, False, False]
    assert not any(p.actor_is_chair for p in panels)


def test_ordering_is_chair_then_member_then_name(
    engine: Engine, make_user: MakeUser, make_organisation: MakeOrganisation
) -> None:
    org_id = make_organisation()
    other_org = make_organisation()
    user_id, _ = make_user(organisation_id=org_id, password=None)
    someone_else, _ = make_user(organisation_id=other_org, password=None)
    stem = unique("Panel")
    ids = {
        "a-other": _make_panel(engine, f"{stem} A", chair_user_id=someone_else, organisations=(other_org,)),
        "b-member": _make_panel(engine, f"{stem} B", chair_user_id=someone_else, organisations=(org_id, other_org)),
        # Chaired by the actor although their organisation does not sit on it.
        "c-chair": _make_panel(engine, f"{stem} C", chair_user_id=user_id, organisations=(other_org,)),
        "d-member": _make_panel(engine, f"{stem} D", organisations=(org_id,)),
        "e-inactive": _make_panel(engine, f"{stem} E", chair_user_id=user_id, organisations=(org_id,), active=False),
    }
    listed = _list(engine, actor_of(engine, user_id))
    mine = [p for p in listed if p.name.startswith(stem)]
    assert [p.id for p in mine] == [ids["c-chair"], ids["b-member"], ids["d-member"], ids["a-other"]]
    # Everything of the actor's comes before anything else in the whole list.
    flags = [(p.actor_is_chair, p.actor_sits_on) for p in listed]
    assert flags == sorted(flags, reverse=True)
    without_chair = next(p for p in mine if p.id == ids["d-member"])
    assert (without_chair.chair_name, without_chair.chair_organisation) == ("", "")
    assert ids["e-inactive"] not in {p.id for p in listed}


def test_every_role_may_list_panels(engine: Engine) -> None:
    for email in ("asb.officer@eastbrook.demo", "iso@eastbrook.demo", "admin@eastbrook.demo"):
        names = {p.name for p in _list(engine, _demo_actor(engine, email))}
        assert names >= DEMO_PANEL_NAMES


def test_listing_panels_needs_permission(engine: Engine) -> None:
    actor = Actor(user_id=None, organisation_id=None, roles=frozenset(), email=f"{unique('norole')}@example.com")
    before = last_audit_id(engine)
    with pytest.raises(PermissionDenied) as caught:
        _list(engine, actor)
    assert caught.value.message == DENIED_MESSAGE
    (event,) = audit_events(engine, actor_label=actor.email, since=before)
    assert event.action == AuditAction.PERMISSION_DENIED
    assert event.outcome == Outcome.DENIED
    assert event.subject_type == "panel"
    assert event.reason == "lacks panels:panels:read"
