"""Panels: who sits on which, and who chairs it."""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session, col, select

from panels.models import Panel, PanelOrganisation
from sharing.access import require
from sharing.models import Organisation, User
from sharing.permissions import Actor, Permission


@dataclass(frozen=True)
class PanelRead:
    id: int
    name: str
    purpose: str
    chair_name: str
    chair_organisation: str
    organisation_names: tuple[str, ...]
    actor_is_chair: bool
    actor_sits_on: bool


def list_panels(*, session: Session, actor: Actor) -> list[PanelRead]:
    """Active panels, the actor's own first (those they chair, then those their organisation sits on)."""
    require(actor, Permission.PANELS_PANELS_READ, subject_type="panel")
    panels = session.exec(select(Panel).where(col(Panel.active).is_(True)).order_by(col(Panel.name))).all()
    orgs = {o.id: o.name for o in session.exec(select(Organisation)).all()}
    membership: dict[int, list[int]] = {}
    for row in session.exec(select(PanelOrganisation)).all():
        membership.setdefault(row.panel_id, []).append(row.organisation_id)
    reads: list[PanelRead] = []
    for panel in panels:
        assert panel.id is not None
        chair = session.get(User, panel.chair_user_id) if panel.chair_user_id else None
        member_ids = membership.get(panel.id, [])
        reads.append(
            PanelRead(
                id=panel.id,
                name=panel.name,
                purpose=panel.purpose,
                chair_name=chair.full_name if chair else "",
                chair_organisation=orgs.get(chair.organisation_id, "") if chair else "",
                organisation_names=tuple(sorted(orgs.get(i, "") for i in member_ids)),
                actor_is_chair=chair is not None and chair.id == actor.user_id,
                actor_sits_on=actor.organisation_id in member_ids,
            )
        )
    return sorted(reads, key=lambda p: (not p.actor_is_chair, not p.actor_sits_on, p.name))
