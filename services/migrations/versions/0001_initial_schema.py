"""initial schema

Revision ID: 0001
Revises: 
Create Date: 2026-11-21

On PostgreSQL the transfer log is append-only in the database itself: a trigger rejects
UPDATE, DELETE and TRUNCATE.
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy import Text

from services.infrastructure.db import UtcDateTime

revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


APPEND_ONLY_FUNCTION = """
CREATE OR REPLACE FUNCTION kimhub_reject_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'kimhub: % on % is not allowed (append-only)', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END;
$$
"""
APPEND_ONLY_TRIGGERS = (
    "CREATE TRIGGER transfer_log_append_only BEFORE UPDATE OR DELETE ON transfer_log"
    " FOR EACH ROW EXECUTE FUNCTION kimhub_reject_change()",
    "CREATE TRIGGER transfer_log_no_truncate BEFORE TRUNCATE ON transfer_log"
    " FOR EACH STATEMENT EXECUTE FUNCTION kimhub_reject_change()",
)


def upgrade() -> None:
    op.create_table('consents',
    sa.Column('id', sa.String(length=40), nullable=False),
    sa.Column('person', sa.String(length=40), nullable=False),
    sa.Column('recorded_office', sa.String(length=64), nullable=False),
    sa.Column('created_at', UtcDateTime(), nullable=False),
    sa.Column('revoked_at', UtcDateTime(), nullable=True),
    sa.Column('revoked_by', sa.String(length=255), nullable=True),
    sa.Column('revocation_method', sa.String(length=20), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_consents'))
    )
    with op.batch_alter_table('consents', schema=None) as batch_op:
        batch_op.create_index('ix_consents_person_office', ['person', 'recorded_office'], unique=False)

    op.create_table('inbox_items',
    sa.Column('transfer_id', sa.String(length=40), nullable=False),
    sa.Column('office', sa.String(length=64), nullable=False),
    sa.Column('message_type', sa.String(length=50), nullable=False),
    sa.Column('sender_office', sa.String(length=64), nullable=False),
    sa.Column('person', sa.String(length=40), nullable=False),
    sa.Column('purpose', sa.String(length=50), nullable=False),
    sa.Column('payload', sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), 'postgresql'), nullable=False),
    sa.Column('categories', sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), 'postgresql'), nullable=False),
    sa.Column('removed_categories', sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), 'postgresql'), nullable=False),
    sa.Column('consent_id', sa.String(length=40), nullable=True),
    sa.Column('consent_version', sa.Integer(), nullable=True),
    sa.Column('legal_basis', sa.String(length=100), nullable=False),
    sa.Column('delivered_at', UtcDateTime(), nullable=False),
    sa.Column('received_at', UtcDateTime(), nullable=True),
    sa.Column('received_by', sa.String(length=255), nullable=True),
    sa.PrimaryKeyConstraint('transfer_id', name=op.f('pk_inbox_items'))
    )
    with op.batch_alter_table('inbox_items', schema=None) as batch_op:
        batch_op.create_index('ix_inbox_items_office', ['office', 'delivered_at'], unique=False)

    op.create_table('outbox',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('topic', sa.String(length=255), nullable=False),
    sa.Column('key', sa.String(length=255), nullable=False),
    sa.Column('headers', sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), 'postgresql'), nullable=False),
    sa.Column('value', sa.LargeBinary(), nullable=False),
    sa.Column('created_at', UtcDateTime(), nullable=False),
    sa.Column('published_at', UtcDateTime(), nullable=True),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_outbox'))
    )
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_outbox_published_at'), ['published_at'], unique=False)

    op.create_table('processed_messages',
    sa.Column('consumer', sa.String(length=100), nullable=False),
    sa.Column('ce_source', sa.String(length=255), nullable=False),
    sa.Column('ce_id', sa.String(length=100), nullable=False),
    sa.Column('processed_at', UtcDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('consumer', 'ce_source', 'ce_id', name=op.f('pk_processed_messages'))
    )
    op.create_table('transfer_log',
    sa.Column('seq', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('recorded_at', UtcDateTime(), nullable=False),
    sa.Column('transfer_id', sa.String(length=40), nullable=False),
    sa.Column('sender_office', sa.String(length=64), nullable=False),
    sa.Column('recipient_office', sa.String(length=64), nullable=False),
    sa.Column('person', sa.String(length=40), nullable=False),
    sa.Column('purpose', sa.String(length=50), nullable=False),
    sa.Column('decision', sa.String(length=20), nullable=False),
    sa.Column('record', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('seq', name=op.f('pk_transfer_log'))
    )
    with op.batch_alter_table('transfer_log', schema=None) as batch_op:
        batch_op.create_index('ix_transfer_log_person', ['person'], unique=False)
        batch_op.create_index('ix_transfer_log_recorded_at', ['recorded_at'], unique=False)
        batch_op.create_index('ix_transfer_log_transfer', ['transfer_id'], unique=False)

    op.create_table('transfers',
    sa.Column('id', sa.String(length=40), nullable=False),
    sa.Column('message_type', sa.String(length=50), nullable=False),
    sa.Column('sender_office', sa.String(length=64), nullable=False),
    sa.Column('sender_user', sa.String(length=255), nullable=False),
    sa.Column('person', sa.String(length=40), nullable=False),
    sa.Column('municipality', sa.String(length=8), nullable=False),
    sa.Column('recipient', sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), 'postgresql'), nullable=False),
    sa.Column('recipient_office', sa.String(length=64), nullable=False),
    sa.Column('purpose', sa.String(length=50), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('reasons', sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), 'postgresql'), nullable=False),
    sa.Column('consent_id', sa.String(length=40), nullable=True),
    sa.Column('consent_version', sa.Integer(), nullable=True),
    sa.Column('categories', sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), 'postgresql'), nullable=False),
    sa.Column('removed_categories', sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), 'postgresql'), nullable=False),
    sa.Column('payload_sha256', sa.String(length=64), nullable=False),
    sa.Column('requested_at', UtcDateTime(), nullable=False),
    sa.Column('updated_at', UtcDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_transfers'))
    )
    with op.batch_alter_table('transfers', schema=None) as batch_op:
        batch_op.create_index('ix_transfers_sender_office', ['sender_office', 'requested_at'], unique=False)

    op.create_table('consent_versions',
    sa.Column('consent_id', sa.String(length=40), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('terms', sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), 'postgresql'), nullable=False),
    sa.Column('recorded_by', sa.String(length=255), nullable=False),
    sa.Column('recorded_at', UtcDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['consent_id'], ['consents.id'], name=op.f('fk_consent_versions_consent_id_consents')),
    sa.PrimaryKeyConstraint('consent_id', 'version', name=op.f('pk_consent_versions'))
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute(APPEND_ONLY_FUNCTION)
        for statement in APPEND_ONLY_TRIGGERS:
            op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS transfer_log_append_only ON transfer_log")
        op.execute("DROP TRIGGER IF EXISTS transfer_log_no_truncate ON transfer_log")
        op.execute("DROP FUNCTION IF EXISTS kimhub_reject_change()")
    op.drop_table('consent_versions')
    with op.batch_alter_table('transfers', schema=None) as batch_op:
        batch_op.drop_index('ix_transfers_sender_office')

    op.drop_table('transfers')
    with op.batch_alter_table('transfer_log', schema=None) as batch_op:
        batch_op.drop_index('ix_transfer_log_transfer')
        batch_op.drop_index('ix_transfer_log_recorded_at')
        batch_op.drop_index('ix_transfer_log_person')

    op.drop_table('transfer_log')
    op.drop_table('processed_messages')
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_outbox_published_at'))

    op.drop_table('outbox')
    with op.batch_alter_table('inbox_items', schema=None) as batch_op:
        batch_op.drop_index('ix_inbox_items_office')

    op.drop_table('inbox_items')
    with op.batch_alter_table('consents', schema=None) as batch_op:
        batch_op.drop_index('ix_consents_person_office')

    op.drop_table('consents')
