from sqlalchemy import BigInteger, Column, Index, Integer, String, Table, Text

from services.shared.db import UtcDateTime, metadata

# Append-only: the code only inserts; on PostgreSQL a trigger rejects UPDATE and DELETE.
transfer_log = Table(
    "transfer_log",
    metadata,
    Column("seq", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("recorded_at", UtcDateTime, nullable=False),
    Column("transfer_id", String(40), nullable=False),
    Column("sender_office", String(64), nullable=False),
    Column("recipient_office", String(64), nullable=False),
    Column("person", String(40), nullable=False),
    Column("purpose", String(50), nullable=False),
    Column("decision", String(20), nullable=False),
    Column("record", Text, nullable=False),  # canonical JSON (see services/audit/record.py)
    Index("ix_transfer_log_person", "person"),
    Index("ix_transfer_log_transfer", "transfer_id"),
    Index("ix_transfer_log_recorded_at", "recorded_at"),
)
