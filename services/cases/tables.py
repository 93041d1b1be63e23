from sqlalchemy import Column, ForeignKey, Index, String, Table

from services.infrastructure.db import UtcDateTime, metadata

# A case: an office's work with one or more persons (a family). No free text: nothing personal but the
# persons' pseudonyms, which stay after erasure so the DPO can still find their log records (Art. 15).
cases = Table(
    "cases",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("office", String(64), nullable=False),
    Column("status", String(20), nullable=False),  # open | archived | erased
    Column("created_by", String(255), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("archived_at", UtcDateTime, nullable=True),
    Column("erased_at", UtcDateTime, nullable=True),
    Column("erased_because", String(20), nullable=True),  # retention | art17
    Index("ix_cases_status_archived", "status", "archived_at"),
    Index("ix_cases_office", "office", "created_at"),
)

case_persons = Table(
    "case_persons",
    metadata,
    Column("case_id", String(40), ForeignKey("cases.id"), primary_key=True),
    Column("person", String(40), primary_key=True),
    Column("added_at", UtcDateTime, nullable=False),
    Column("erased_at", UtcDateTime, nullable=True),  # the person's data erased (with this case or before)
    Index("ix_case_persons_person", "person"),
)
