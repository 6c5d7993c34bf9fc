"""Tables owned by ``panels/``.  This first cut holds panels and their member organisations;
meetings, referrals and decisions arrive with the panel-meeting capability."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, String
from sqlmodel import Field, SQLModel

from sharing.db import utcnow
from sharing.types import UTCDateTime


class Panel(SQLModel, table=True):
    """A multi-agency panel a council runs (Problem Solving Group, Complex Case Panel, ...)."""

    __tablename__ = "panel"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(sa_column=Column(String(200), nullable=False, unique=True))
    slug: str = Field(sa_column=Column(String(80), nullable=False, unique=True))
    purpose: str = Field(default="", max_length=2000)
    chair_user_id: int | None = Field(default=None, foreign_key="portal_user.id")
    deputy_chair_user_id: int | None = Field(default=None, foreign_key="portal_user.id")
    active: bool = Field(default=True)
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))


class PanelOrganisation(SQLModel, table=True):
    """An organisation that sits on a panel."""

    __tablename__ = "panel_organisation"

    panel_id: int = Field(foreign_key="panel.id", primary_key=True)
    organisation_id: int = Field(foreign_key="organisation.id", primary_key=True)
