"""Outbox leases: the committing process publishes its rows itself; the relay takes a row only
when it has no lease or its lease has expired. Only rows for the relay wake it.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-22
"""
import sqlalchemy as sa
from alembic import op

from services.shared.db import UtcDateTime

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

CHANNEL = "kimhub_outbox"


def upgrade() -> None:
    with op.batch_alter_table("outbox") as batch:
        batch.add_column(sa.Column("lease_until", UtcDateTime, nullable=True))
    if op.get_bind().dialect.name != "postgresql":
        return
    # Leased rows are sent by the process that wrote them: waking every relay for them would only
    # make the relays read the outbox for nothing.
    op.execute("DROP TRIGGER IF EXISTS outbox_notify ON outbox")
    op.execute(f"""
        CREATE OR REPLACE FUNCTION kimhub_outbox_notify() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF EXISTS (SELECT 1 FROM new_rows WHERE lease_until IS NULL) THEN
                PERFORM pg_notify('{CHANNEL}', '');
            END IF;
            RETURN NULL;
        END $$""")
    op.execute("CREATE TRIGGER outbox_notify AFTER INSERT ON outbox REFERENCING NEW TABLE AS new_rows"
               " FOR EACH STATEMENT EXECUTE FUNCTION kimhub_outbox_notify()")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS outbox_notify ON outbox")
        op.execute(f"""
            CREATE OR REPLACE FUNCTION kimhub_outbox_notify() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                PERFORM pg_notify('{CHANNEL}', '');
                RETURN NULL;
            END $$""")
        op.execute("CREATE TRIGGER outbox_notify AFTER INSERT ON outbox"
                   " FOR EACH STATEMENT EXECUTE FUNCTION kimhub_outbox_notify()")
    with op.batch_alter_table("outbox") as batch:
        batch.drop_column("lease_until")
