"""Meeting packs: for each agenda item, the case's information exactly as the reader's
organisation may see it, read only through ``sharing.reads`` (so every read is decided,
withheld and logged there); a lead officer's preview of what each member organisation will and
will not see of their own items; and the pack as a watermarked PDF."""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session, col, select

from panels.agenda import AgendaSource, agenda_items, require_agenda_reader
from panels.case_models import Case
from panels.documents import WatermarkedPaper
from panels.meetings import MeetingStatus, MeetingUnavailable, format_when, get_meeting
from panels.models import InterestDeclaration, Meeting
from panels.panel_config import confidentiality_statement, member_organisation_ids
from sharing.access import denied, require
from sharing.audit import AuditAction, Outcome, record_event
from sharing.models import InformationItem, Organisation
from sharing.permissions import Actor, Permission
from sharing.reads import ItemView, preview_visibility, read_items, visible_item_ids

NOTHING_SHARED = "Nothing about this case has been shared with your organisation."
CONFLICTED = "You declared an interest in this item, so its content is not shown to you."


@dataclass(frozen=True)
class PackItem:
    agenda_item_id: int
    position: int
    case_reference: str
    source_label: str
    conflicted: bool
    note: str  # NOTHING_SHARED or CONFLICTED when there is nothing to show
    items: tuple[ItemView, ...]


@dataclass(frozen=True)
class Pack:
    meeting_id: int
    panel_name: str
    when: str
    venue: str
    video_link: str
    reader_name: str
    reader_organisation: str
    published: bool
    confidentiality_statement: str
    items: tuple[PackItem, ...]


def _reader(session: Session, actor: Actor) -> tuple[str, str]:
    organisation = session.get(Organisation, actor.organisation_id) if actor.organisation_id else None
    return actor.full_name or actor.label, actor.organisation_name or (organisation.name if organisation else "")


def _pack(session: Session, actor: Actor, meeting_id: int, via: str) -> Pack:
    meeting, panel = get_meeting(session, meeting_id)
    require(actor, Permission.SHARING_ITEMS_READ, subject_type="meeting", subject_id=meeting_id)
    require_agenda_reader(session, actor, panel, meeting)
    if meeting.status == MeetingStatus.CANCELLED:
        raise MeetingUnavailable("This meeting was cancelled.")
    items = agenda_items(session, meeting_id)
    references = dict(
        session.exec(select(Case.id, Case.reference).where(col(Case.id).in_([i.case_id for i in items]))).all()
    )
    conflicted = set(
        session.exec(
            select(InterestDeclaration.agenda_item_id).where(
                InterestDeclaration.meeting_id == meeting_id, InterestDeclaration.user_id == actor.user_id
            )
        )
    )
    pack_items: list[PackItem] = []
    for item in items:
        assert item.id is not None
        reference = references.get(item.case_id, "")
        label = AgendaSource(item.source).label
        if item.id in conflicted:
            pack_items.append(PackItem(item.id, item.position, reference, label, True, CONFLICTED, ()))
            continue
        ids = sorted(visible_item_ids(session=session, actor=actor, case_reference=reference))
        views = tuple(read_items(session=session, actor=actor, item_ids=ids, via=via)) if ids else ()
        pack_items.append(
            PackItem(item.id, item.position, reference, label, False, "" if views else NOTHING_SHARED, views)
        )
    name, organisation = _reader(session, actor)
    return Pack(
        meeting_id=meeting_id, panel_name=panel.name, when=format_when(meeting.starts_at), venue=meeting.venue,
        video_link=meeting.video_link, reader_name=name, reader_organisation=organisation,
        published=meeting.agenda_published_at is not None,
        confidentiality_statement=confidentiality_statement(panel), items=tuple(pack_items),
    )  # fmt: skip


def meeting_pack(*, session: Session, actor: Actor, meeting_id: int) -> Pack:
    """The meeting's pack as the actor's organisation may see it.  Members see it once the
    agenda is published; the chair and lead officers with a case on it, before.  Items the
    actor declared an interest in are left out for them."""
    pack = _pack(session, actor, meeting_id, "agenda pack")
    record_event(
        session, action=AuditAction.PACK_READ, outcome=Outcome.SUCCESS, actor=actor,
        subject_type="meeting", subject_id=meeting_id, detail={"items": len(pack.items)},
    )  # fmt: skip
    return pack


def pack_pdf(*, session: Session, actor: Actor, meeting_id: int) -> bytes:
    """The pack as a PDF, every page watermarked with the reader's name and organisation;
    each item in it is logged in the access log as read "agenda pack PDF"."""
    pack = _pack(session, actor, meeting_id, "agenda pack PDF")
    paper = WatermarkedPaper(f"{pack.panel_name}: meeting pack", f"{pack.reader_name}, {pack.reader_organisation}")
    paper.heading(f"{pack.panel_name}: meeting pack", 16)
    paper.para(pack.when)
    if pack.venue:
        paper.para(f"Venue: {pack.venue}")
    if pack.video_link:
        paper.para(f"Online: {pack.video_link}")
    paper.ln(2)
    paper.para(pack.confidentiality_statement)
    for item in pack.items:
        paper.heading(f"{item.position}. Case {item.case_reference} ({item.source_label})", 12)
        if item.note:
            paper.para(item.note)
        for view in item.items:
            paper.para(f"{view.title} ({view.owner_organisation}, {view.marking})", bold=True)
            for field in view.fields:
                paper.para(f"{field.label}: {field.value}")
            paper.ln(1)
    data = paper.bytes()
    record_event(
        session, action=AuditAction.PACK_DOWNLOADED, outcome=Outcome.SUCCESS, actor=actor,
        subject_type="meeting", subject_id=meeting_id, detail={"items": len(pack.items), "bytes": len(data)},
    )  # fmt: skip
    return data


# --- The lead officer's preview ------------------------------------------------------------------


@dataclass(frozen=True)
class ItemPreview:
    item_id: int
    title: str
    case_reference: str
    will_see: bool
    shown_fields: tuple[str, ...]
    withheld_fields: tuple[str, ...]


@dataclass(frozen=True)
class OrganisationPreview:
    organisation_id: int
    organisation: str
    items: tuple[ItemPreview, ...]


def _own_cases(session: Session, actor: Actor, meeting: Meeting) -> list[Case]:
    case_ids = [i.case_id for i in agenda_items(session, meeting.id)]  # type: ignore[arg-type]
    return list(
        session.exec(select(Case).where(col(Case.id).in_(case_ids), Case.lead_organisation_id == actor.organisation_id))
    )


def pack_preview(*, session: Session, actor: Actor, meeting_id: int) -> list[OrganisationPreview]:
    """For the lead officer: for each member organisation, which of the lead organisation's
    items about its cases on this agenda that organisation will see in its pack (and which
    fields of them it will not).  Worked out with the same live-disclosure rule as the pack,
    without reading anything as those organisations."""
    meeting, panel = get_meeting(session, meeting_id)
    require(actor, Permission.PANELS_REFERRALS_CREATE, subject_type="meeting", subject_id=meeting_id)
    cases = _own_cases(session, actor, meeting)
    if not cases:
        raise denied(
            actor, "None of the cases on this agenda is led by your organisation.",
            reason="no own case on the agenda", subject_type="meeting", subject_id=meeting_id,
        )  # fmt: skip
    own = session.exec(
        select(InformationItem)
        .where(
            InformationItem.owner_organisation_id == actor.organisation_id,
            col(InformationItem.case_reference).in_([c.reference for c in cases]),
        )
        .order_by(col(InformationItem.case_reference), col(InformationItem.id))
    ).all()
    titles = {i.id: (i.title, i.case_reference or "") for i in own if i.id is not None}
    item_ids = list(titles)
    names = {i: n for i, n in session.exec(select(Organisation.id, Organisation.name)).all() if i is not None}
    others = sorted(member_organisation_ids(session, panel) - {actor.organisation_id}, key=lambda o: names.get(o, ""))
    previews: list[OrganisationPreview] = []
    for organisation_id in others:
        assert organisation_id is not None
        seen = preview_visibility(session, organisation_id, item_ids)
        rows = tuple(
            ItemPreview(item_id, titles[item_id][0], titles[item_id][1], seen[item_id].visible,
                        seen[item_id].shown_fields, seen[item_id].withheld_fields)
            for item_id in item_ids
        )  # fmt: skip
        previews.append(OrganisationPreview(organisation_id, names.get(organisation_id, ""), rows))
    record_event(
        session, action=AuditAction.PACK_PREVIEWED, outcome=Outcome.SUCCESS, actor=actor,
        subject_type="meeting", subject_id=meeting_id, detail={"items": len(item_ids)},
    )  # fmt: skip
    return previews
