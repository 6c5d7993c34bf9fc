"""A case's chronology: one timeline of everything that happened, newest first, showing each
reader only the lines whose information item they may see.

Every line (``CaseEvent``) carries the item whose disclosure decides who may read it: the
case summary for case-level events, a report's or incident's own item, a person's details
for a party added.  The items are read through the need-to-know chokepoint, so the lead
organisation sees every line and a partner only those tied to what was disclosed to them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, select

from panels.case_models import Case, CaseEvent
from panels.cases import read_case
from panels.vocabulary import CaseEventKind
from sharing.models import Organisation, User
from sharing.permissions import Actor
from sharing.reads import read_items


@dataclass(frozen=True)
class ChronologyEntry:
    id: int
    occurred_at: datetime
    kind: str
    kind_label: str
    summary: str
    by_name: str
    by_organisation: str


def _label(kind: str) -> str:
    try:
        return CaseEventKind(kind).label
    except ValueError:
        return kind.replace("_", " ").capitalize()


def case_chronology(*, session: Session, actor: Actor, case_id: int) -> list[ChronologyEntry]:
    """The case's timeline as ``actor`` may see it, newest first.

    Refused (:class:`PermissionDenied`, logged and audited) when the actor's organisation
    may not see the case summary at all.
    """
    case, summary = read_case(session, actor, case_id, via="chronology")
    return chronology_of(session, actor, case, summary.id)


def chronology_of(session: Session, actor: Actor, case: Case, summary_item_id: int) -> list[ChronologyEntry]:
    """The timeline of a case whose summary ``actor`` has just been allowed to read."""
    events = list(
        session.exec(
            select(CaseEvent)
            .where(CaseEvent.case_id == case.id)
            .order_by(col(CaseEvent.occurred_at).desc(), col(CaseEvent.id).desc())
        )
    )
    # The summary has just been read; read the other items once each.
    others = sorted({e.item_id for e in events if e.item_id is not None and e.item_id != summary_item_id})
    visible = {summary_item_id} | {
        v.id for v in read_items(session=session, actor=actor, item_ids=others, via="chronology")
    }
    leads = case.lead_organisation_id == actor.organisation_id
    shown = [e for e in events if (e.item_id in visible if e.item_id is not None else leads)]
    user_ids = {e.actor_user_id for e in shown if e.actor_user_id is not None}
    org_ids = {e.actor_organisation_id for e in shown if e.actor_organisation_id is not None}
    names: dict[int | None, str] = (
        dict(session.exec(select(User.id, User.full_name).where(col(User.id).in_(user_ids))).all()) if user_ids else {}
    )
    orgs: dict[int | None, str] = (
        dict(session.exec(select(Organisation.id, Organisation.name).where(col(Organisation.id).in_(org_ids))).all())
        if org_ids
        else {}
    )
    return [
        ChronologyEntry(
            id=e.id or 0,
            occurred_at=e.occurred_at,
            kind=e.kind,
            kind_label=_label(e.kind),
            summary=e.summary,
            by_name=names.get(e.actor_user_id, "") if e.actor_user_id is not None else "Portal",
            by_organisation=orgs.get(e.actor_organisation_id, "") if e.actor_organisation_id is not None else "",
        )
        for e in shown
    ]
