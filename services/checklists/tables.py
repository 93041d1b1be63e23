from sqlalchemy import BigInteger, Boolean, Column, Date, Index, Integer, LargeBinary, String, Table

from services.infrastructure.db import Json, UtcDateTime, metadata

# Template versions published over the API by the owning office's admin (the shipped ones are files).
checklist_versions = Table(
    "checklist_versions",
    metadata,
    Column("procedure", String(80), primary_key=True),
    Column("version", Integer, primary_key=True, autoincrement=False),
    Column("template", Json, nullable=False),
    Column("published_by", String(255), nullable=False),
    Column("published_office", String(64), nullable=False),
    Column("published_at", UtcDateTime, nullable=False),
)

# A case manager's pre-check of one person's documents against one template version.
prechecks = Table(
    "prechecks",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("office", String(64), nullable=False),
    Column("person", String(40), nullable=False),
    Column("procedure", String(80), nullable=False),
    Column("version", Integer, nullable=False),
    Column("checked_on", Date, nullable=False),
    Column("facts", Json, nullable=False),
    Column("statuses", Json, nullable=False),
    Column("result", Json, nullable=False),
    Column("hints", Json, nullable=False),
    Column("complete", Boolean, nullable=False),
    Column("created_by", String(255), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Index("ix_prechecks_office_person", "office", "person"),
)

# Uploaded document copies (PDF, JPEG, PNG; type checked by content).
documents = Table(
    "documents",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("office", String(64), nullable=False),
    Column("person", String(40), nullable=False),
    Column("title", String(200), nullable=False),
    Column("media_type", String(40), nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("size", BigInteger, nullable=False),
    Column("content", LargeBinary, nullable=False),
    Column("uploaded_by", String(255), nullable=False),
    Column("uploaded_at", UtcDateTime, nullable=False),
)
