"""Sharing with the members of a panel: each member organisation decided on its own."""

from __future__ import annotations

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from panels.models import Panel
from panels.sharing import share_with_panel
from sharing.accounts import actor_for_user
from sharing.db import transaction
from sharing.disclosures import DisclosureRequest
from sharing.models import Disclosure, InformationItem, User
from sharing.vocabulary import DataCategory, DisclosureStatus, LawfulBasis, Purpose


def test_sharing_with_a_panel_decides_each_member_and_records_refusals(engine: Engine) -> None:
    with transaction(engine) as session:
        officer = actor_for_user(
            session, session.exec(select(User).where(User.email == "asb.officer@eastbrook.demo")).one()
        )
        panel = session.exec(select(Panel).where(Panel.name == "Problem Solving Group")).one()
        note = session.exec(
            select(InformationItem).where(col(InformationItem.title).startswith("ASB-2026-0003:"))
        ).one()  # the sharing demo's note (the case demo files the case's own records there too)
        assert panel.id is not None and note.id is not None
        before = len(session.exec(select(Disclosure)).all())
        outcomes = share_with_panel(
            session=session,
            actor=officer,
            panel_id=panel.id,
            request=DisclosureRequest(
                item_ids=[note.id],
                recipient_organisation_id=0,
                purpose=Purpose.ASB_CASE_MANAGEMENT,
                basis=LawfulBasis.CRIME_AND_DISORDER_S115,
                justification="The panel needs the history of the fires to agree a joint action plan this month.",
                categories=[DataCategory.ASB_HISTORY],
            ),
        )
    by_org = {o.organisation: o for o in outcomes}
    # Six other organisations sit on the PSG; the ASB team does not share with itself.
    assert len(outcomes) == 6 and "Eastbrook City Council ASB Team" not in by_org
    assert all(o.status == DisclosureStatus.AWAITING_APPROVAL for o in outcomes)
    with Session(engine) as session:
        assert len(session.exec(select(Disclosure)).all()) == before + 6


def test_a_refusal_for_one_member_does_not_stop_the_others(engine: Engine) -> None:
    with transaction(engine) as session:
        officer = actor_for_user(
            session, session.exec(select(User).where(User.email == "asb.officer@eastbrook.demo")).one()
        )
        panel = session.exec(select(Panel).where(Panel.name == "Problem Solving Group")).one()
        note = session.exec(
            select(InformationItem).where(col(InformationItem.title).startswith("ASB-2026-0001:"))
        ).one()  # the sharing demo's note (the case demo files the case's own records there too)
        assert panel.id is not None and note.id is not None
        outcomes = share_with_panel(
            session=session,
            actor=officer,
            panel_id=panel.id,
            request=DisclosureRequest(
                item_ids=[note.id],
                recipient_organisation_id=0,
                purpose=Purpose.ASB_CASE_MANAGEMENT,
                basis=LawfulBasis.CRIME_AND_DISORDER_S115,
                justification="The panel needs to know the effect on the victim's health to plan support now.",
                categories=[DataCategory.HEALTH],
            ),
        )
    by_org = {o.organisation: o for o in outcomes}
    # Health is shared only between the ASB team, adult social care and the mental health trust.
    assert by_org["Eastshire Adult Social Care"].status == DisclosureStatus.AWAITING_APPROVAL
    assert by_org["Eastbrook Mental Health Trust"].status == DisclosureStatus.AWAITING_APPROVAL
    police = by_org["Eastshire Police"]
    assert police.status == "refused"
    assert police.refusal == (
        "No active agreement between Eastbrook City Council ASB Team and Eastshire Police covers 'health' data "
        "for 'ASB case management'."
    )
    with Session(engine) as session:
        refused = session.exec(
            select(Disclosure).where(
                Disclosure.status == DisclosureStatus.REFUSED, Disclosure.refusal_reason == police.refusal
            )
        ).all()
    assert refused
