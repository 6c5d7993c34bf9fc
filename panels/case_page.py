"""What the case page shows: the summary, the people involved and the chronology, each as
the reader's organisation may see it (everything read through ``sharing.reads``)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session, col, select

from panels.case_models import CaseParty
from panels.cases import read_case
from panels.chronology import ChronologyEntry, chronology_of
from panels.vocabulary import PartyRole, Tenure
from sharing.models import InformationItem
from sharing.permissions import Actor, Permission
from sharing.reads import read_items
from sharing.vocabulary import WITHHELD, ItemKind


@dataclass(frozen=True)
class SummaryField:
    key: str
    label: str
    value: str
    withheld: bool


@dataclass(frozen=True)
class PartyRead:
    party_id: int
    person_id: int
    name: str  # the withheld-field notice when the name was not shared
    name_withheld: bool
    role: str
    role_label: str
    # Kept on the lead organisation's case record, not in a shareable item: shown to the
    # lead organisation only.
    tenure_label: str
    landlord: str
    vulnerability: str
    support_services: tuple[str, ...]


@dataclass(frozen=True)
class CasePageRead:
    case_id: int
    reference: str
    access: str  # owner, disclosed, partial
    lead_organisation: str
    can_manage: bool  # the reader's organisation leads the case
    summary: tuple[SummaryField, ...]
    parties: tuple[PartyRead, ...]
    chronology: tuple[ChronologyEntry, ...]


def get_case_page(*, session: Session, actor: Actor, case_id: int) -> CasePageRead:
    """The case page for ``actor``; :class:`PermissionDenied` (logged and audited) when the
    case summary was not shared with their organisation.

    A partner sees the people whose details were shared with them (a withheld name shows the
    withheld-field notice); people whose details were not shared at all are left out.
    """
    case, view = read_case(session, actor, case_id, via="case page")
    assert case.id is not None
    leads = case.lead_organisation_id == actor.organisation_id
    parties = list(session.exec(select(CaseParty).where(CaseParty.case_id == case_id).order_by(col(CaseParty.id))))
    person_ids = sorted({p.person_id for p in parties})
    details = (
        {
            i.person_id: i.id
            for i in session.exec(
                select(InformationItem).where(
                    col(InformationItem.person_id).in_(person_ids), InformationItem.kind == ItemKind.PERSON_DETAILS
                )
            )
            if i.id is not None
        }
        if person_ids
        else {}
    )
    item_ids = sorted(set(details.values()))
    seen = {v.id: v for v in read_items(session=session, actor=actor, item_ids=item_ids, via="case page")}
    party_rows: list[PartyRead] = []
    for party in parties:
        item_id = details.get(party.person_id)
        person_view = seen.get(item_id) if item_id is not None else None
        if person_view is None or party.id is None:
            continue
        name = next((f for f in person_view.fields if f.key == "name"), None)
        party_rows.append(
            PartyRead(
                party_id=party.id,
                person_id=party.person_id,
                name=name.value if name else WITHHELD,
                name_withheld=name is None or name.withheld,
                role=party.role,
                role_label=PartyRole(party.role).label,
                tenure_label=Tenure(party.tenure).label if leads else "",
                landlord=party.landlord if leads else "",
                vulnerability=party.vulnerability if leads else "",
                support_services=tuple(party.support_services) if leads else (),
            )
        )
    return CasePageRead(
        case_id=case.id,
        reference=view.case_reference or case.reference,
        access=view.access,
        lead_organisation=view.owner_organisation,
        can_manage=leads and actor.can(Permission.CASES_CASES_MANAGE),
        summary=tuple(SummaryField(f.key, f.label, f.value, f.withheld) for f in view.fields),
        parties=tuple(party_rows),
        chronology=tuple(chronology_of(session, actor, case, view.id)),
    )
