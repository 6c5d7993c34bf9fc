"""Sharing with the members of a panel: one disclosure per member organisation, each decided
by the sharing rules on its own (some may be refused while others go through)."""

from __future__ import annotations

from dataclasses import dataclass, replace

from sqlmodel import Session, select

from panels.models import Panel, PanelOrganisation
from sharing.access import require
from sharing.disclosures import DisclosureRefused, DisclosureRequest, request_disclosure
from sharing.errors import NotFound
from sharing.models import Organisation
from sharing.permissions import Actor, Permission


@dataclass(frozen=True)
class PanelShareOutcome:
    organisation: str
    disclosure_id: int | None
    status: str
    refusal: str


def share_with_panel(
    *, session: Session, actor: Actor, panel_id: int, request: DisclosureRequest
) -> list[PanelShareOutcome]:
    """Share with every organisation sitting on the panel (other than the actor's own).

    Each organisation's share is decided separately inside a savepoint; a refusal for one is
    recorded (as every refusal is) and does not stop the others.
    """
    require(actor, Permission.SHARING_DISCLOSURES_REQUEST, subject_type="panel", subject_id=panel_id)
    panel = session.get(Panel, panel_id)
    if panel is None:
        raise NotFound("That panel no longer exists.")
    member_ids = session.exec(select(PanelOrganisation.organisation_id).where(PanelOrganisation.panel_id == panel_id))
    members = [
        o
        for o in session.exec(select(Organisation).where(Organisation.id.in_(list(member_ids))))  # type: ignore[union-attr]
        if o.id != actor.organisation_id
    ]
    outcomes: list[PanelShareOutcome] = []
    for org in sorted(members, key=lambda o: o.name):
        assert org.id is not None
        savepoint = session.begin_nested()
        try:
            disclosure = request_disclosure(
                session=session, actor=actor, request=replace(request, recipient_organisation_id=org.id)
            )
        except DisclosureRefused as refused:
            savepoint.rollback()
            for effect in refused.durable_effects:  # recorded with the rest of this action
                effect(session)
            outcomes.append(PanelShareOutcome(org.name, None, "refused", refused.message))
            continue
        savepoint.commit()
        outcomes.append(PanelShareOutcome(org.name, disclosure.id, disclosure.status, ""))
    return outcomes
