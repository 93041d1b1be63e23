"""Revocation followed up (issue 17): the notices the hub sent to offices that received data under a
consent since revoked or narrowed (``revocation_notices``), and those the offices received
(``office_notices``), each one row per affected transfer, with the office's confirmation.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02
"""
import sqlalchemy as sa
from alembic import op

from services.infrastructure.db import Json, UtcDateTime

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def _notice_columns(office_columns: list[sa.Column]) -> list[sa.Column]:
    return [
        sa.Column("notice_id", sa.String(40), primary_key=True),
        sa.Column("transfer_id", sa.String(40), primary_key=True),
        *office_columns,
        sa.Column("person", sa.String(40), nullable=False),
        sa.Column("consent_id", sa.String(40), nullable=False),
        sa.Column("consent_version", sa.Integer, nullable=False),
        sa.Column("change", sa.String(10), nullable=False),
        sa.Column("purpose", sa.String(50), nullable=False),
        sa.Column("categories", Json, nullable=False),
        sa.Column("issued_at", UtcDateTime, nullable=False),
        sa.Column("state", sa.String(10), nullable=False),
        sa.Column("legal_basis", sa.String(300), nullable=True),
        sa.Column("confirmed_by", sa.String(255), nullable=True),
        sa.Column("confirmed_at", UtcDateTime, nullable=True),
    ]


def upgrade() -> None:
    op.create_table("revocation_notices", *_notice_columns([
        sa.Column("office", sa.String(64), nullable=False),
        sa.Column("sender_office", sa.String(64), nullable=False)]))
    op.create_index("ix_revocation_notices_sender", "revocation_notices", ["sender_office", "state"])
    op.create_index("ix_revocation_notices_office", "revocation_notices", ["office", "state"])
    op.create_table("office_notices", *_notice_columns([
        sa.Column("office", sa.String(64), nullable=False),
        sa.Column("sender_office", sa.String(64), nullable=False)]),
        sa.Column("stored_at", UtcDateTime, nullable=False))
    op.create_index("ix_office_notices_office", "office_notices", ["office", "issued_at"])
    op.create_index("ix_office_notices_transfer", "office_notices", ["transfer_id"])


def downgrade() -> None:
    op.drop_index("ix_office_notices_transfer", table_name="office_notices")
    op.drop_index("ix_office_notices_office", table_name="office_notices")
    op.drop_table("office_notices")
    op.drop_index("ix_revocation_notices_office", table_name="revocation_notices")
    op.drop_index("ix_revocation_notices_sender", table_name="revocation_notices")
    op.drop_table("revocation_notices")
