"""Outbox leases: the committing process publishes its rows itself; the relay takes a row only
when it has no lease or its lease has expired. Only rows for the relay wake it.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-22
"""
import sqlalchemy as sa
from alembic import op

from services.infrastructure.db import UtcDateTime
from services.migrations import outbox_notify

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("outbox") as batch:
        batch.add_column(sa.Column("lease_until", UtcDateTime, nullable=True))
    if op.get_bind().dialect.name == "postgresql":
        # Leased rows are sent by the process that wrote them: waking every relay for them would
        # only make the relays read the outbox for nothing.
        outbox_notify.create(only_rows_for_the_relay=True)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        outbox_notify.create(only_rows_for_the_relay=False)
    with op.batch_alter_table("outbox") as batch:
        batch.drop_column("lease_until")
