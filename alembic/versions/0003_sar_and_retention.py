"""subject access requests and retention

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-21 06:09:37.255251
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import sharing.types


revision: str = '0003'
down_revision: str | None = '0002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('retention_rule',
    sa.Column('category', sa.String(length=40), nullable=False),
    sa.Column('years_after_closure', sa.Integer(), nullable=False),
    sa.Column('updated_by_user_id', sa.Integer(), nullable=True),
    sa.Column('updated_at', sharing.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['updated_by_user_id'], ['portal_user.id'], ),
    sa.PrimaryKeyConstraint('category')
    )
    op.create_table('subject_access_request',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('received_on', sa.Date(), nullable=False),
    sa.Column('identity_checked_on', sa.Date(), nullable=True),
    sa.Column('due_on', sa.Date(), nullable=False),
    sa.Column('extended_to', sa.Date(), nullable=True),
    sa.Column('extension_reason', sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=False),
    sa.Column('extension_recorded_on', sa.Date(), nullable=True),
    sa.Column('completed_on', sa.Date(), nullable=True),
    sa.Column('logged_by_user_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sharing.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['logged_by_user_id'], ['portal_user.id'], ),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisation.id'], ),
    sa.ForeignKeyConstraint(['person_id'], ['person.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('subject_access_request', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_subject_access_request_person_id'), ['person_id'], unique=False)

    with op.batch_alter_table('information_item', schema=None) as batch_op:
        batch_op.add_column(sa.Column('case_closed_on', sa.Date(), nullable=True))



    retention = sa.table("retention_rule", sa.column("category", sa.String), sa.column("years_after_closure", sa.Integer),
                         sa.column("updated_at", sharing.types.UTCDateTime()))
    from datetime import UTC, datetime

    now = datetime.now(UTC)
    op.bulk_insert(
        retention,
        [
            {"category": c, "years_after_closure": 6, "updated_at": now}
            for c in ("identity", "contact", "asb_history", "allegations_of_crime", "health", "safeguarding", "housing")
        ],
    )


def downgrade() -> None:
    with op.batch_alter_table('information_item', schema=None) as batch_op:
        batch_op.drop_column('case_closed_on')

    with op.batch_alter_table('subject_access_request', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_subject_access_request_person_id'))

    op.drop_table('subject_access_request')
    op.drop_table('retention_rule')
