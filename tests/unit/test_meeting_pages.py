"""What the panel and meeting pages read: cadence in words, the panel page, and refusals."""

from __future__ import annotations

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from panels.meeting_pages import (
    cadence_presets,
    describe_cadence,
    get_panel_page,
    list_referable_cases,
    panel_form_options,
)
from panels.models import Panel
from panels.panel_config import parse_cadence
from sharing.accounts import actor_for_user
from sharing.db import transaction
from sharing.errors import PermissionDenied
from sharing.models import User
from sharing.permissions import Actor


def _actor(session: Session, email: str) -> Actor:
    return actor_for_user(session, session.exec(select(User).where(User.email == email)).one())


@pytest.mark.parametrize(
    ("rule", "words"),
    [
        ("FREQ=MONTHLY;BYDAY=2TU", "Monthly on the second Tuesday"),
        ("RRULE:FREQ=MONTHLY;BYDAY=-1FR", "Monthly on the last Friday"),
        ("FREQ=WEEKLY;INTERVAL=2;BYDAY=WE", "Every 2 weeks on Wednesday"),
        ("FREQ=WEEKLY;BYDAY=MO,TH", "Weekly on Monday and Thursday"),
        ("FREQ=MONTHLY;BYMONTHDAY=15", "Monthly on day 15 of the month"),
        ("FREQ=MONTHLY;BYDAY=2TU;BYHOUR=9", "On the pattern FREQ=MONTHLY;BYDAY=2TU;BYHOUR=9"),
    ],
)
def test_cadence_in_words(rule: str, words: str) -> None:
    assert describe_cadence(rule) == words


def test_every_preset_is_a_rule_the_panels_accept() -> None:
    from datetime import datetime

    presets = cadence_presets()
    assert ("FREQ=MONTHLY;BYDAY=2TU", "Monthly on the second Tuesday") in presets
    for rule, _ in presets:
        parse_cadence(rule, datetime(2026, 1, 1, 10, 0))


def test_the_panel_page_shows_the_terms_of_reference(engine: Engine) -> None:
    with transaction(engine) as session:
        panel = session.exec(select(Panel).where(Panel.name == "Problem Solving Group")).one()
        page = get_panel_page(session=session, actor=_actor(session, "pc.jones@police.demo"), panel_id=panel.id)  # type: ignore[arg-type]
    assert page.cadence == "Monthly on the second Tuesday"
    assert page.quorum == (
        "At least 3 member organisations present, including Eastbrook City Council ASB Team and Eastshire Police."
    )
    assert page.chair == "Morgan Ellis (Eastbrook City Council ASB Team)"
    assert page.is_chair and page.can_schedule  # the deputy chair
    assert "Agree a multi-agency action plan" in page.decision_types


def test_only_lead_officers_list_cases_to_refer_and_only_administrators_set_up_panels(engine: Engine) -> None:
    with pytest.raises(PermissionDenied), transaction(engine) as session:
        list_referable_cases(session=session, actor=_actor(session, "pc.jones@police.demo"))
    with pytest.raises(PermissionDenied), transaction(engine) as session:
        panel_form_options(session=session, actor=_actor(session, "asb.officer@eastbrook.demo"))
    with transaction(engine) as session:
        options = panel_form_options(session=session, actor=_actor(session, "admin@eastbrook.demo"))
    assert "Eastshire Police" in {name for _, name in options.organisations}
