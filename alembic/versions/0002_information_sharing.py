"""information sharing: people, agreements, consent, items, disclosures, access log

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-21 06:01:14.779176
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import sharing.types


revision: str = '0002'
down_revision: str | None = '0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('access_log',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('occurred_at', sharing.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('organisation_id', sa.Integer(), nullable=True),
    sa.Column('item_id', sa.Integer(), nullable=True),
    sa.Column('person_id', sa.Integer(), nullable=True),
    sa.Column('disclosure_id', sa.Integer(), nullable=True),
    sa.Column('via', sqlmodel.sql.sqltypes.AutoString(length=60), nullable=False),
    sa.Column('outcome', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('withheld_fields', sa.JSON(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('access_log', schema=None) as batch_op:
        batch_op.create_index('ix_access_log_item', ['item_id'], unique=False)
        batch_op.create_index('ix_access_log_person', ['person_id', 'occurred_at'], unique=False)

    op.create_table('person',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('controller_organisation_id', sa.Integer(), nullable=False),
    sa.Column('given_name', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('family_name', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('date_of_birth', sa.Date(), nullable=True),
    sa.Column('address', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
    sa.Column('postcode', sqlmodel.sql.sqltypes.AutoString(length=12), nullable=False),
    sa.Column('phone', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('email', sqlmodel.sql.sqltypes.AutoString(length=320), nullable=False),
    sa.Column('is_vulnerable_adult', sa.Boolean(), nullable=False),
    sa.Column('is_child', sa.Boolean(), nullable=False),
    sa.Column('is_confidential_complainant', sa.Boolean(), nullable=False),
    sa.Column('created_by_user_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sharing.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('anonymised_at', sharing.types.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['controller_organisation_id'], ['organisation.id'], ),
    sa.ForeignKeyConstraint(['created_by_user_id'], ['portal_user.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('person', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_person_controller_organisation_id'), ['controller_organisation_id'], unique=False)

    op.create_table('sharing_agreement',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('title', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('reference', sa.String(length=60), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('purposes', sa.JSON(), nullable=False),
    sa.Column('categories', sa.JSON(), nullable=False),
    sa.Column('category_restrictions', sa.JSON(), nullable=False),
    sa.Column('lawful_bases', sa.JSON(), nullable=False),
    sa.Column('starts_on', sa.Date(), nullable=False),
    sa.Column('ends_on', sa.Date(), nullable=False),
    sa.Column('review_on', sa.Date(), nullable=False),
    sa.Column('created_by_user_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sharing.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['created_by_user_id'], ['portal_user.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('reference')
    )
    with op.batch_alter_table('sharing_agreement', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sharing_agreement_status'), ['status'], unique=False)

    op.create_table('stored_document',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('filename', sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
    sa.Column('content_type', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('size_bytes', sa.Integer(), nullable=False),
    sa.Column('sha256', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('content', sa.LargeBinary(), nullable=False),
    sa.Column('uploaded_by_user_id', sa.Integer(), nullable=True),
    sa.Column('uploaded_at', sharing.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['uploaded_by_user_id'], ['portal_user.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_table('agreement_party',
    sa.Column('agreement_id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('signatory_name', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('signatory_role', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('signed_on', sa.Date(), nullable=True),
    sa.ForeignKeyConstraint(['agreement_id'], ['sharing_agreement.id'], ),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisation.id'], ),
    sa.PrimaryKeyConstraint('agreement_id', 'organisation_id')
    )
    op.create_table('consent_record',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('given_by_representative', sa.Boolean(), nullable=False),
    sa.Column('representative_name', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('representative_relationship', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('method', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('scope_organisation_ids', sa.JSON(), nullable=False),
    sa.Column('scope_organisation_types', sa.JSON(), nullable=False),
    sa.Column('scope_purposes', sa.JSON(), nullable=False),
    sa.Column('scope_categories', sa.JSON(), nullable=False),
    sa.Column('given_on', sa.Date(), nullable=False),
    sa.Column('expires_on', sa.Date(), nullable=True),
    sa.Column('withdrawn_on', sa.Date(), nullable=True),
    sa.Column('withdrawal_method', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('withdrawn_by_user_id', sa.Integer(), nullable=True),
    sa.Column('form_document_id', sa.Integer(), nullable=True),
    sa.Column('recorded_by_user_id', sa.Integer(), nullable=True),
    sa.Column('recorded_by_organisation_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sharing.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['form_document_id'], ['stored_document.id'], ),
    sa.ForeignKeyConstraint(['person_id'], ['person.id'], ),
    sa.ForeignKeyConstraint(['recorded_by_organisation_id'], ['organisation.id'], ),
    sa.ForeignKeyConstraint(['recorded_by_user_id'], ['portal_user.id'], ),
    sa.ForeignKeyConstraint(['withdrawn_by_user_id'], ['portal_user.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('consent_record', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_consent_record_person_id'), ['person_id'], unique=False)

    op.create_table('information_item',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=30), nullable=False),
    sa.Column('owner_organisation_id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=True),
    sa.Column('case_reference', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True),
    sa.Column('title', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('category', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('marking', sqlmodel.sql.sqltypes.AutoString(length=30), nullable=False),
    sa.Column('content', sa.JSON(), nullable=False),
    sa.Column('document_id', sa.Integer(), nullable=True),
    sa.Column('created_by_user_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sharing.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['created_by_user_id'], ['portal_user.id'], ),
    sa.ForeignKeyConstraint(['document_id'], ['stored_document.id'], ),
    sa.ForeignKeyConstraint(['owner_organisation_id'], ['organisation.id'], ),
    sa.ForeignKeyConstraint(['person_id'], ['person.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('information_item', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_information_item_case_reference'), ['case_reference'], unique=False)
        batch_op.create_index(batch_op.f('ix_information_item_owner_organisation_id'), ['owner_organisation_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_information_item_person_id'), ['person_id'], unique=False)

    op.create_table('disclosure',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=30), nullable=False),
    sa.Column('discloser_organisation_id', sa.Integer(), nullable=False),
    sa.Column('recipient_organisation_id', sa.Integer(), nullable=False),
    sa.Column('purpose', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('basis', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('categories', sa.JSON(), nullable=False),
    sa.Column('what_was_shared', sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=False),
    sa.Column('justification', sqlmodel.sql.sqltypes.AutoString(length=4000), nullable=False),
    sa.Column('consent_id', sa.Integer(), nullable=True),
    sa.Column('agreement_id', sa.Integer(), nullable=True),
    sa.Column('emergency', sa.Boolean(), nullable=False),
    sa.Column('retain_until', sa.Date(), nullable=True),
    sa.Column('requested_by_user_id', sa.Integer(), nullable=True),
    sa.Column('requested_at', sharing.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('decided_by_user_id', sa.Integer(), nullable=True),
    sa.Column('decided_at', sharing.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('refusal_reason', sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=False),
    sa.Column('review_due_at', sharing.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('reviewed_by_user_id', sa.Integer(), nullable=True),
    sa.Column('reviewed_at', sharing.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('review_note', sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=False),
    sa.ForeignKeyConstraint(['agreement_id'], ['sharing_agreement.id'], ),
    sa.ForeignKeyConstraint(['consent_id'], ['consent_record.id'], ),
    sa.ForeignKeyConstraint(['decided_by_user_id'], ['portal_user.id'], ),
    sa.ForeignKeyConstraint(['discloser_organisation_id'], ['organisation.id'], ),
    sa.ForeignKeyConstraint(['recipient_organisation_id'], ['organisation.id'], ),
    sa.ForeignKeyConstraint(['requested_by_user_id'], ['portal_user.id'], ),
    sa.ForeignKeyConstraint(['reviewed_by_user_id'], ['portal_user.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('disclosure', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_disclosure_consent_id'), ['consent_id'], unique=False)
        batch_op.create_index('ix_disclosure_recipient_status', ['recipient_organisation_id', 'status'], unique=False)
        batch_op.create_index(batch_op.f('ix_disclosure_status'), ['status'], unique=False)

    op.create_table('disclosure_item',
    sa.Column('disclosure_id', sa.Integer(), nullable=False),
    sa.Column('item_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['disclosure_id'], ['disclosure.id'], ),
    sa.ForeignKeyConstraint(['item_id'], ['information_item.id'], ),
    sa.PrimaryKeyConstraint('disclosure_id', 'item_id')
    )
    with op.batch_alter_table('disclosure_item', schema=None) as batch_op:
        batch_op.create_index('ix_disclosure_item_item', ['item_id'], unique=False)

    op.create_table('organisation_notice',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('message', sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=False),
    sa.Column('disclosure_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sharing.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['disclosure_id'], ['disclosure.id'], ),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisation.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('organisation_notice', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_organisation_notice_organisation_id'), ['organisation_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('organisation_notice', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_organisation_notice_organisation_id'))

    op.drop_table('organisation_notice')
    with op.batch_alter_table('disclosure_item', schema=None) as batch_op:
        batch_op.drop_index('ix_disclosure_item_item')

    op.drop_table('disclosure_item')
    with op.batch_alter_table('disclosure', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_disclosure_status'))
        batch_op.drop_index('ix_disclosure_recipient_status')
        batch_op.drop_index(batch_op.f('ix_disclosure_consent_id'))

    op.drop_table('disclosure')
    with op.batch_alter_table('information_item', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_information_item_person_id'))
        batch_op.drop_index(batch_op.f('ix_information_item_owner_organisation_id'))
        batch_op.drop_index(batch_op.f('ix_information_item_case_reference'))

    op.drop_table('information_item')
    with op.batch_alter_table('consent_record', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_consent_record_person_id'))

    op.drop_table('consent_record')
    op.drop_table('agreement_party')
    op.drop_table('stored_document')
    with op.batch_alter_table('sharing_agreement', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sharing_agreement_status'))

    op.drop_table('sharing_agreement')
    with op.batch_alter_table('person', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_person_controller_organisation_id'))

    op.drop_table('person')
    with op.batch_alter_table('access_log', schema=None) as batch_op:
        batch_op.drop_index('ix_access_log_person')
        batch_op.drop_index('ix_access_log_item')

    op.drop_table('access_log')
