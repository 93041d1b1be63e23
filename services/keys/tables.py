from sqlalchemy import Column, Index, LargeBinary, String, Table

from services.infrastructure.db import UtcDateTime, metadata

# A person's data keys, each wrapped under the master key. Destroying a person's keys deletes their
# rows: every copy of their content sealed under them (topics, tables, backups) stays unreadable.
person_keys = Table(
    "person_keys",
    metadata,
    Column("kid", String(64), primary_key=True),
    Column("person", String(40), nullable=False),
    Column("wrapped", LargeBinary, nullable=False),
    Column("master_kid", String(64), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Index("ix_person_keys_person", "person", "created_at"),
)

# Each document a delivered transfer refers to, sealed for its recipient office (the person layer inside).
transfer_documents = Table(
    "transfer_documents",
    metadata,
    Column("transfer_id", String(40), primary_key=True),
    Column("sha256", String(64), primary_key=True),
    Column("sealed", LargeBinary, nullable=False),
)
