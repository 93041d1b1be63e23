"""Drop the outbox's NOTIFY trigger: the relay is woken in its own process or polls
(``KIMHUB_RELAY_POLL_SECONDS``); docs/benchmarks.md has the A/B that retired the listener.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02
"""
from alembic import op

from services.migrations import outbox_notify

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        outbox_notify.drop()


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        outbox_notify.create(only_rows_for_the_relay=True)
