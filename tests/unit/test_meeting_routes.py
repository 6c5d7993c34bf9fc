"""The meeting files over plain HTTP: the calendar feed answers only to its secret token, and
a meeting's files only to a signed-in person."""

from __future__ import annotations

from sqlalchemy.engine import Engine
from sqlmodel import select
from starlette.applications import Starlette
from starlette.testclient import TestClient

from panels.meetings import FEED_NOT_VALID, calendar_token, reset_calendar_token
from panels.models import Meeting
from portal.meeting_routes import meeting_file_routes
from sharing.accounts import actor_for_user
from sharing.db import transaction
from sharing.models import User


def _client() -> TestClient:
    return TestClient(Starlette(routes=meeting_file_routes()), follow_redirects=False)


def test_the_calendar_feed_answers_to_its_token_until_it_is_reset(engine: Engine) -> None:
    with transaction(engine) as session:
        jones = actor_for_user(session, session.exec(select(User).where(User.email == "pc.jones@police.demo")).one())
        token = calendar_token(session=session, actor=jones)
    client = _client()
    answer = client.get(f"/calendar/{token}.ics")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/calendar")
    assert b"BEGIN:VCALENDAR" in answer.content and b"Problem Solving Group" in answer.content
    with transaction(engine) as session:
        jones = actor_for_user(session, session.exec(select(User).where(User.email == "pc.jones@police.demo")).one())
        new_token = reset_calendar_token(session=session, actor=jones)
    old = client.get(f"/calendar/{token}.ics")
    assert old.status_code == 404 and old.text == FEED_NOT_VALID
    assert client.get(f"/calendar/{new_token}.ics").status_code == 200


def test_meeting_files_need_a_signed_in_person(engine: Engine) -> None:
    with transaction(engine) as session:
        meeting_id = session.exec(select(Meeting.id)).first()
    client = _client()
    for path in (
        f"/meetings/{meeting_id}.ics",
        f"/meetings/{meeting_id}/pack.pdf",
        f"/meetings/{meeting_id}/minutes.pdf",
    ):
        answer = client.get(path)
        assert answer.status_code == 303
        assert answer.headers["location"].startswith("/signin?notice=")
