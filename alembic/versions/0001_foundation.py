"""foundation: organisations, users, sessions, audit trail, panels

Revision ID: 0001
Revises:
Create Date: 2026-11-21 05:19:02.043588
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import sharing.types


revision: str = '0001'
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('audit_chain_head',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('last_event_id', sa.Integer(), nullable=True),
    sa.Column('last_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_table('audit_event',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('occurred_at', sharing.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('action', sa.String(length=80), nullable=False),
    sa.Column('outcome', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('actor_user_id', sa.Integer(), nullable=True),
    sa.Column('actor_organisation_id', sa.Integer(), nullable=True),
    sa.Column('actor_label', sqlmodel.sql.sqltypes.AutoString(length=320), nullable=True),
    sa.Column('subject_type', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True),
    sa.Column('subject_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.Column('reason', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
    sa.Column('detail', sa.JSON(), nullable=False),
    sa.Column('ip_address', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.Column('prev_hash', sa.String(length=64), nullable=False),
    sa.Column('hash', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('hash'),
    sa.UniqueConstraint('prev_hash')
    )
    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_event_action'), ['action'], unique=False)
        batch_op.create_index('ix_audit_event_actor', ['actor_user_id'], unique=False)
        batch_op.create_index('ix_audit_event_subject', ['subject_type', 'subject_id'], unique=False)

    op.create_table('organisation',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('slug', sa.String(length=80), nullable=False),
    sa.Column('type', sa.String(length=40), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('sso_enabled', sa.Boolean(), nullable=False),
    sa.Column('sso_discovery_url', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
    sa.Column('sso_client_id', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
    sa.Column('sso_client_secret_encrypted', sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=True),
    sa.Column('sso_allow_provisioning', sa.Boolean(), nullable=False),
    sa.Column('created_at', sharing.types.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('name'),
    sa.UniqueConstraint('slug')
    )
    op.create_table('portal_user',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('email', sa.String(length=320), nullable=False),
    sa.Column('full_name', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('job_title', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
    sa.Column('password_hash', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=True),
    sa.Column('totp_secret_encrypted', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
    sa.Column('totp_enabled', sa.Boolean(), nullable=False),
    sa.Column('totp_last_step', sa.Integer(), nullable=True),
    sa.Column('is_active', sa.Boolean(), nullable=False),
    sa.Column('is_demo', sa.Boolean(), nullable=False),
    sa.Column('failed_attempts', sa.Integer(), nullable=False),
    sa.Column('locked_until', sharing.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('last_sign_in_at', sharing.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('created_at', sharing.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisation.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('email')
    )
    with op.batch_alter_table('portal_user', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_portal_user_organisation_id'), ['organisation_id'], unique=False)

    op.create_table('external_identity',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('issuer', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
    sa.Column('subject', sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
    sa.Column('linked_at', sharing.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['portal_user.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('issuer', 'subject', name='uq_external_identity_issuer_subject')
    )
    with op.batch_alter_table('external_identity', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_external_identity_user_id'), ['user_id'], unique=False)

    op.create_table('panel',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('slug', sa.String(length=80), nullable=False),
    sa.Column('purpose', sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=False),
    sa.Column('chair_user_id', sa.Integer(), nullable=True),
    sa.Column('deputy_chair_user_id', sa.Integer(), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sharing.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['chair_user_id'], ['portal_user.id'], ),
    sa.ForeignKeyConstraint(['deputy_chair_user_id'], ['portal_user.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('name'),
    sa.UniqueConstraint('slug')
    )
    op.create_table('sign_in_ticket',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('method', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('expires_at', sharing.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('used_at', sharing.types.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['portal_user.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('token_hash')
    )
    op.create_table('user_role',
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('role', sa.String(length=40), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['portal_user.id'], ),
    sa.PrimaryKeyConstraint('user_id', 'role')
    )
    op.create_table('user_session',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('method', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('created_at', sharing.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('last_seen_at', sharing.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('ended_at', sharing.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('end_reason', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True),
    sa.Column('ip_address', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.Column('user_agent', sqlmodel.sql.sqltypes.AutoString(length=400), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['portal_user.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('token_hash')
    )
    with op.batch_alter_table('user_session', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_user_session_user_id'), ['user_id'], unique=False)

    op.create_table('panel_organisation',
    sa.Column('panel_id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisation.id'], ),
    sa.ForeignKeyConstraint(['panel_id'], ['panel.id'], ),
    sa.PrimaryKeyConstraint('panel_id', 'organisation_id')
    )

    op.execute("INSERT INTO audit_chain_head (id, last_event_id, last_hash) VALUES (1, NULL, '" + "0" * 64 + "')")
    _append_only_triggers()


def _append_only_triggers() -> None:
    """The audit trail can only grow: the database itself refuses UPDATE and DELETE."""
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        op.execute(
            """
            CREATE FUNCTION audit_event_append_only() RETURNS trigger AS $$
            BEGIN
                RAISE EXCEPTION 'audit_event is append-only';
            END;
            $$ LANGUAGE plpgsql
            """
        )
        op.execute(
            "CREATE TRIGGER audit_event_no_update BEFORE UPDATE OR DELETE ON audit_event "
            "FOR EACH ROW EXECUTE FUNCTION audit_event_append_only()"
        )
        op.execute(
            "CREATE TRIGGER audit_event_no_truncate BEFORE TRUNCATE ON audit_event "
            "FOR EACH STATEMENT EXECUTE FUNCTION audit_event_append_only()"
        )
    else:
        op.execute(
            "CREATE TRIGGER audit_event_no_update BEFORE UPDATE ON audit_event "
            "BEGIN SELECT RAISE(ABORT, 'audit_event is append-only'); END"
        )
        op.execute(
            "CREATE TRIGGER audit_event_no_delete BEFORE DELETE ON audit_event "
            "BEGIN SELECT RAISE(ABORT, 'audit_event is append-only'); END"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS audit_event_no_truncate ON audit_event")
        op.execute("DROP TRIGGER IF EXISTS audit_event_no_update ON audit_event")
        op.execute("DROP FUNCTION IF EXISTS audit_event_append_only()")
    else:
        op.execute("DROP TRIGGER IF EXISTS audit_event_no_update")
        op.execute("DROP TRIGGER IF EXISTS audit_event_no_delete")
    op.drop_table('panel_organisation')
    with op.batch_alter_table('user_session', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_user_session_user_id'))

    op.drop_table('user_session')
    op.drop_table('user_role')
    op.drop_table('sign_in_ticket')
    op.drop_table('panel')
    with op.batch_alter_table('external_identity', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_external_identity_user_id'))

    op.drop_table('external_identity')
    with op.batch_alter_table('portal_user', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_portal_user_organisation_id'))

    op.drop_table('portal_user')
    op.drop_table('organisation')
    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.drop_index('ix_audit_event_subject')
        batch_op.drop_index('ix_audit_event_actor')
        batch_op.drop_index(batch_op.f('ix_audit_event_action'))

    op.drop_table('audit_event')
    op.drop_table('audit_chain_head')
