"""Meeting packs and minutes per organisation, read only through the sharing rules: withheld
fields, cases with nothing shared, conflicted members, publication, the lead officer's preview,
and watermarked PDFs whose reads are logged."""

from __future__ import annotations

import re
import zlib
from datetime import date

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, func, select

from panels.agenda import NOT_PUBLISHED
from panels.decisions import ActionInput, DecisionInput, record_decision
from panels.meeting_room import declare_interest
from panels.minutes import circulate_minutes, draft_minutes, minutes_for_organisation, minutes_pdf
from panels.packs import CONFLICTED, NOTHING_SHARED, Pack, meeting_pack, pack_pdf, pack_preview
from sharing.access import DENIED_MESSAGE
from sharing.db import transaction
from sharing.disclosures import decide_disclosure
from sharing.errors import InvalidInput, PermissionDenied
from sharing.models import AccessLog
from sharing.permissions import Actor
from sharing.vocabulary import WITHHELD, DataCategory, LawfulBasis
from tests.unit.helpers import audit_events, last_audit_id
from tests.unit.meeting_helpers import HeldMeeting, MeetingWorld, meeting_with_case, meeting_world
from tests.unit.sharing_helpers import access_log, last_access_log_id, make_agreement, make_item, share

__all__ = ["meeting_world"]


def _share_with_police(engine: Engine, world: MeetingWorld, item_ids: list[int]) -> None:
    """The council shares ASB history (not health) with the police, approved by its ISO."""
    disclosure = share(
        engine, world.council.officer, item_ids, world.police.org,
        basis=LawfulBasis.CRIME_AND_DISORDER_S115, categories=[DataCategory.ASB_HISTORY],
    )  # fmt: skip
    with transaction(engine) as session:
        decide_disclosure(session=session, actor=world.council.iso, disclosure_id=disclosure.id, approve=True,  # type: ignore[arg-type]
                          note="Necessary for the joint plan.")  # fmt: skip


def _world_with_pack(engine: Engine, world: MeetingWorld, **kwargs: object) -> tuple[HeldMeeting, int]:
    make_agreement(engine, world.council.iso, [world.council.org, world.police.org, world.legal.org])
    held = meeting_with_case(engine, world, **kwargs)  # type: ignore[arg-type]
    note_id = make_item(
        engine, world.council.officer, (("summary", DataCategory.ASB_HISTORY), ("impact", DataCategory.HEALTH)),
        case_reference=held.case.reference, title="Case note: noise at night",
    )  # fmt: skip
    assert held.case.summary_item_id is not None
    _share_with_police(engine, world, [held.case.summary_item_id, note_id])
    return held, note_id


def _pack(engine: Engine, actor: Actor, meeting_id: int) -> Pack:
    with transaction(engine) as session:
        return meeting_pack(session=session, actor=actor, meeting_id=meeting_id)


def test_each_organisation_sees_only_what_was_shared_with_it(engine: Engine, meeting_world: MeetingWorld) -> None:
    world = meeting_world
    held, note_id = _world_with_pack(engine, world, open_it=False)
    since = last_access_log_id(engine)

    (police_item,) = _pack(engine, world.police.member, held.meeting_id).items
    assert police_item.case_reference == held.case.reference and police_item.note == ""
    views = {v.id: v for v in police_item.items}
    assert set(views) == {held.case.summary_item_id, note_id}  # not the referral: it was not shared
    note = {f.key: f.value for f in views[note_id].fields}
    assert note == {"summary": "value of summary", "impact": WITHHELD}
    assert views[note_id].access == "partial"
    assert {(row.item_id, row.via, row.outcome) for row in access_log(engine, world.police.member, since=since)} == {
        (held.case.summary_item_id, "agenda pack", "disclosed"),
        (note_id, "agenda pack", "partial"),
    }

    (legal_item,) = _pack(engine, world.legal.member, held.meeting_id).items
    assert (legal_item.note, legal_item.items) == (NOTHING_SHARED, ())

    (own_item,) = _pack(engine, world.council.member, held.meeting_id).items
    assert len(own_item.items) == 3  # summary, referral and note: the council's own records
    assert not any(f.withheld for v in own_item.items for f in v.fields)
    assert audit_events(engine, action="panels:pack:read", actor_user_id=world.police.member.user_id)


def test_members_see_the_pack_once_published_the_chair_and_lead_officer_before(
    engine: Engine, meeting_world: MeetingWorld
) -> None:
    world = meeting_world
    held = meeting_with_case(engine, world, publish=False, open_it=False)
    for actor in (world.police.member, world.police.officer):
        with pytest.raises(PermissionDenied) as denied:
            _pack(engine, actor, held.meeting_id)
        assert denied.value.message == NOT_PUBLISHED
    assert len(_pack(engine, world.chair, held.meeting_id).items) == 1
    assert len(_pack(engine, world.council.officer, held.meeting_id).items) == 1


def test_an_organisation_off_the_panel_gets_no_pack(engine: Engine, meeting_world: MeetingWorld) -> None:
    world = meeting_world
    held = meeting_with_case(
        engine, world, organisation_ids=[world.council.org.id, world.legal.org.id], deputy_chair_user_id=None
    )
    since = last_audit_id(engine)
    with pytest.raises(PermissionDenied) as denied:
        _pack(engine, world.police.member, held.meeting_id)
    assert denied.value.message.startswith("Your organisation does not sit on the Panel-")
    (event,) = audit_events(engine, actor_user_id=world.police.member.user_id, since=since)
    assert event.reason == "not a member of the panel"


def test_a_conflicted_member_does_not_see_the_item(engine: Engine, meeting_world: MeetingWorld) -> None:
    world = meeting_world
    held, _ = _world_with_pack(engine, world, open_it=False)
    with transaction(engine) as session:
        declare_interest(session=session, actor=world.police.member, agenda_item_id=held.agenda_item_id,
                         reason="I know the family.")  # fmt: skip
    since = last_access_log_id(engine)
    (item,) = _pack(engine, world.police.member, held.meeting_id).items
    assert (item.conflicted, item.note, item.items) == (True, CONFLICTED, ())
    assert access_log(engine, world.police.member, since=since) == []
    # A colleague from the same organisation still sees it.
    (colleague,) = _pack(engine, world.police.officer, held.meeting_id).items
    assert not colleague.conflicted and colleague.items


def test_the_lead_officer_previews_what_each_organisation_will_see_without_reading_as_them(
    engine: Engine, meeting_world: MeetingWorld
) -> None:
    world = meeting_world
    held, note_id = _world_with_pack(engine, world, open_it=False)
    with Session(engine) as session:
        logged_before = session.exec(select(func.count(col(AccessLog.id)))).one()
    with transaction(engine) as session:
        previews = pack_preview(session=session, actor=world.council.officer, meeting_id=held.meeting_id)
    with Session(engine) as session:
        assert session.exec(select(func.count(col(AccessLog.id)))).one() == logged_before
    by_org = {p.organisation_id: {i.item_id: i for i in p.items} for p in previews}
    assert set(by_org) == {world.police.org.id, world.legal.org.id, world.solutions.org.id}
    police = by_org[world.police.org.id]
    assert police[note_id].will_see and police[note_id].withheld_fields == ("Impact",)
    assert police[note_id].shown_fields == ("Summary",)
    assert police[held.case.summary_item_id].will_see  # type: ignore[index]
    referral_item = next(i for i in police if i not in (note_id, held.case.summary_item_id))
    assert not police[referral_item].will_see
    assert not any(i.will_see for i in by_org[world.legal.org.id].values())
    # Consistent with what the police read in the pack itself.
    (police_item,) = _pack(engine, world.police.member, held.meeting_id).items
    assert {v.id for v in police_item.items} == {i for i, p in police.items() if p.will_see}

    with pytest.raises(PermissionDenied) as denied, transaction(engine) as session:
        pack_preview(session=session, actor=world.police.member, meeting_id=held.meeting_id)
    assert denied.value.message == DENIED_MESSAGE
    with pytest.raises(PermissionDenied) as denied, transaction(engine) as session:
        pack_preview(session=session, actor=world.police.officer, meeting_id=held.meeting_id)
    assert denied.value.message == "None of the cases on this agenda is led by your organisation."


def _pdf_text(data: bytes) -> str:
    """The text drawn on the PDF's pages (its content streams, inflated)."""
    text = []
    for stream in re.findall(rb"stream\r?\n(.*?)\r?\nendstream", data, re.S):
        try:
            text.append(zlib.decompress(stream).decode("cp1252", errors="replace"))
        except zlib.error:
            continue
    return "\n".join(text)


def test_the_pack_as_a_pdf_is_watermarked_and_its_reads_are_logged(engine: Engine, meeting_world: MeetingWorld) -> None:
    world = meeting_world
    held, note_id = _world_with_pack(engine, world, open_it=False)
    since = last_access_log_id(engine)
    with transaction(engine) as session:
        data = pack_pdf(session=session, actor=world.police.member, meeting_id=held.meeting_id)
    assert data.startswith(b"%PDF")
    text = _pdf_text(data)
    reader = f"Panel Member, {world.police.org.name}"
    pages = len(re.findall(rb"/Type /Page\b", data))
    assert pages >= 1
    assert text.count(reader) >= 3 * pages  # across the page, in the header and in the footer
    assert "Withheld" in text and "value of summary" in text
    assert {(row.item_id, row.via) for row in access_log(engine, world.police.member, since=since)} == {
        (held.case.summary_item_id, "agenda pack PDF"),
        (note_id, "agenda pack PDF"),
    }
    assert audit_events(engine, action="panels:pack:downloaded", actor_user_id=world.police.member.user_id)


def test_each_organisation_reads_its_own_copy_of_the_minutes(engine: Engine, meeting_world: MeetingWorld) -> None:
    world = meeting_world
    make_agreement(engine, world.council.iso, [world.council.org, world.police.org, world.legal.org])
    held = meeting_with_case(engine, world, present=(world.council.member, world.police.member, world.legal.member))
    with transaction(engine) as session:
        decision = record_decision(
            session=session, actor=world.chair, agenda_item_id=held.agenda_item_id,
            data=DecisionInput("action_plan", "Joint visit and a warning letter.",
                               actions=[ActionInput(world.police.org.id, "Joint visit", date(2030, 7, 1))]),
        )  # fmt: skip
        decision_item = decision.item_id
        draft_minutes(session=session, actor=world.chair, meeting_id=held.meeting_id)
    with pytest.raises(InvalidInput) as invalid, transaction(engine) as session:
        minutes_for_organisation(session=session, actor=world.police.member, meeting_id=held.meeting_id)
    assert invalid.value.field_errors == {"minutes": "The minutes of this meeting have not been circulated yet."}
    with transaction(engine) as session:
        circulate_minutes(session=session, actor=world.chair, meeting_id=held.meeting_id)
        (police_item,) = minutes_for_organisation(
            session=session, actor=world.police.member, meeting_id=held.meeting_id
        ).items
    assert (police_item.note, police_item.decision) == (NOTHING_SHARED, None)
    assert police_item.own_actions == ("Joint visit (owner: not yet named, due 2030-07-01)",)

    assert decision_item is not None
    _share_with_police(engine, world, [decision_item])
    with transaction(engine) as session:
        police_copy = minutes_for_organisation(session=session, actor=world.police.member, meeting_id=held.meeting_id)
        legal_copy = minutes_for_organisation(session=session, actor=world.legal.member, meeting_id=held.meeting_id)
    shown = {f.key: f.value for f in police_copy.items[0].decision.fields}  # type: ignore[union-attr]
    assert shown["decision"] == "Agree a multi-agency action plan"
    assert shown["rationale"] == "Joint visit and a warning letter."
    assert legal_copy.items[0].note == NOTHING_SHARED and legal_copy.items[0].own_actions == ()
    assert any(line.startswith("Panel Member, ") for line in police_copy.attendance)
    with transaction(engine) as session:
        data = minutes_pdf(session=session, actor=world.police.member, meeting_id=held.meeting_id)
    assert data.startswith(b"%PDF")
    assert "Joint visit and a warning letter." in _pdf_text(data)
    assert "Joint visit and a warning letter." not in _pdf_text(
        _legal_minutes_pdf(engine, world.legal.member, held.meeting_id)
    )


def _legal_minutes_pdf(engine: Engine, actor: Actor, meeting_id: int) -> bytes:
    with transaction(engine) as session:
        return minutes_pdf(session=session, actor=actor, meeting_id=meeting_id)
