"""Checklists: published template versions, pre-checks, uploaded documents; replies on transfers.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-21
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy import Text
from sqlalchemy.dialects import postgresql

from services.infrastructure.db import UtcDateTime

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

Json = sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), "postgresql")


def upgrade() -> None:
    op.create_table(
        "checklist_versions",
        sa.Column("procedure", sa.String(80), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False, autoincrement=False),
        sa.Column("template", Json, nullable=False),
        sa.Column("published_by", sa.String(255), nullable=False),
        sa.Column("published_office", sa.String(64), nullable=False),
        sa.Column("published_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("procedure", "version", name=op.f("pk_checklist_versions")),
    )
    op.create_table(
        "prechecks",
        sa.Column("id", sa.String(40), nullable=False),
        sa.Column("office", sa.String(64), nullable=False),
        sa.Column("person", sa.String(40), nullable=False),
        sa.Column("procedure", sa.String(80), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("checked_on", sa.Date(), nullable=False),
        sa.Column("facts", Json, nullable=False),
        sa.Column("statuses", Json, nullable=False),
        sa.Column("result", Json, nullable=False),
        sa.Column("hints", Json, nullable=False),
        sa.Column("complete", sa.Boolean(), nullable=False),
        sa.Column("created_by", sa.String(255), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_prechecks")),
    )
    with op.batch_alter_table("prechecks") as t:
        t.create_index("ix_prechecks_office_person", ["office", "person"], unique=False)
    with op.batch_alter_table("transfers") as t:
        t.add_column(sa.Column("in_reply_to", sa.String(40), nullable=True))
    op.create_table(
        "documents",
        sa.Column("id", sa.String(40), nullable=False),
        sa.Column("office", sa.String(64), nullable=False),
        sa.Column("person", sa.String(40), nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("media_type", sa.String(40), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.Column("uploaded_by", sa.String(255), nullable=False),
        sa.Column("uploaded_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_documents")),
    )


def downgrade() -> None:
    op.drop_table("documents")
    with op.batch_alter_table("transfers") as t:
        t.drop_column("in_reply_to")
    op.drop_table("prechecks")
    op.drop_table("checklist_versions")
