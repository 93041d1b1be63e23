"""Cases with a lifecycle (open → archived → erased) and restrictions of processing (Art. 18 GDPR)
(issue 17).

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02
"""
import sqlalchemy as sa
from alembic import op

from services.infrastructure.db import UtcDateTime

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "cases",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("office", sa.String(64), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("created_by", sa.String(255), nullable=False),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.Column("archived_at", UtcDateTime, nullable=True),
        sa.Column("erased_at", UtcDateTime, nullable=True),
        sa.Column("erased_because", sa.String(20), nullable=True),
    )
    op.create_index("ix_cases_status_archived", "cases", ["status", "archived_at"])
    op.create_index("ix_cases_office", "cases", ["office", "created_at"])
    op.create_table(
        "case_persons",
        sa.Column("case_id", sa.String(40), sa.ForeignKey("cases.id"), primary_key=True),
        sa.Column("person", sa.String(40), primary_key=True),
        sa.Column("added_at", UtcDateTime, nullable=False),
        sa.Column("erased_at", UtcDateTime, nullable=True),
    )
    op.create_index("ix_case_persons_person", "case_persons", ["person"])
    op.create_table(
        "restrictions",
        sa.Column("person", sa.String(40), primary_key=True),
        sa.Column("office", sa.String(64), nullable=False),
        sa.Column("restricted_by", sa.String(255), nullable=False),
        sa.Column("restricted_at", UtcDateTime, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("restrictions")
    op.drop_index("ix_case_persons_person", table_name="case_persons")
    op.drop_table("case_persons")
    op.drop_index("ix_cases_office", table_name="cases")
    op.drop_index("ix_cases_status_archived", table_name="cases")
    op.drop_table("cases")
