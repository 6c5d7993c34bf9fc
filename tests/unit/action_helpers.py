"""Building blocks for the action-plan, reminder and notification tests."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from panels.action_models import CaseAction, Notification
from panels.action_plans import ActionInput, add_action
from sharing.db import transaction, utcnow
from sharing.models import Disclosure, DisclosureItem
from sharing.permissions import Actor
from sharing.vocabulary import DataCategory, DisclosureStatus, LawfulBasis, Purpose


def add(
    engine: Engine,
    actor: Actor,
    case_id: int,
    *,
    owner_organisation_id: int,
    owner_user_id: int | None = None,
    due_on: date | None = None,
    today: date | None = None,
    description: str = "Visit the household with a warning letter",
    **extra: object,
) -> CaseAction:
    data = ActionInput(
        description=description,
        due_on=due_on or utcnow().date() + timedelta(days=14),
        owner_organisation_id=owner_organisation_id,
        owner_user_id=owner_user_id,
    )
    for key, value in extra.items():
        setattr(data, key, value)
    with transaction(engine) as session:
        action = add_action(session=session, actor=actor, case_id=case_id, data=data, today=today)
        session.flush()
        session.expunge(action)
    return action


def disclose(
    engine: Engine, item_id: int, *, from_org: int, to_org: int, category: DataCategory = DataCategory.ASB_HISTORY
) -> int:
    """A live disclosure of one item (written directly: the sharing rules are tested elsewhere)."""
    with transaction(engine) as session:
        disclosure = Disclosure(
            status=DisclosureStatus.ACTIVE,
            discloser_organisation_id=from_org,
            recipient_organisation_id=to_org,
            purpose=Purpose.ASB_CASE_MANAGEMENT,
            basis=LawfulBasis.CRIME_AND_DISORDER_S115,
            categories=[str(category)],
            what_was_shared="Action plan",
        )
        session.add(disclosure)
        session.flush()
        assert disclosure.id is not None
        session.add(DisclosureItem(disclosure_id=disclosure.id, item_id=item_id))
        return disclosure.id


def notifications_of(engine: Engine, user_id: int) -> list[Notification]:
    with Session(engine) as session:
        return list(
            session.exec(
                select(Notification).where(Notification.recipient_user_id == user_id).order_by(col(Notification.id))
            )
        )
