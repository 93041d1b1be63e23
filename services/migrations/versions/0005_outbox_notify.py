"""Wake the outbox relay in any process when outbox rows are committed (PostgreSQL NOTIFY).

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-22
"""
from alembic import op

from services.migrations import outbox_notify

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return  # SQLite is the embedded set-up: one process, woken in-process
    outbox_notify.create(only_rows_for_the_relay=False)


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    outbox_notify.drop()
