"""cases waiting for first contact: a partial index

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-21 11:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

WAITING = sa.text("first_contact_made_at IS NULL")


def upgrade() -> None:
    # The "first contact overdue" list and the reminders sweep look for the few open cases
    # with no contact recorded; without this they read every case of the organisation.
    op.create_index(
        "ix_asb_case_awaiting_contact",
        "asb_case",
        ["first_contact_due_at"],
        unique=False,
        postgresql_where=WAITING,
        sqlite_where=WAITING,
    )


def downgrade() -> None:
    op.drop_index("ix_asb_case_awaiting_contact", table_name="asb_case")
