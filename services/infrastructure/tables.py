"""Infrastructure tables: the transactional outbox and the consumers' processed-message inbox."""
from sqlalchemy import BigInteger, Column, Integer, LargeBinary, String, Table, Text

from services.infrastructure.db import Json, UtcDateTime, metadata

outbox = Table(
    "outbox",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("topic", String(255), nullable=False),
    Column("key", String(255), nullable=False),
    Column("headers", Json, nullable=False),
    Column("value", LargeBinary, nullable=True),  # NULL: a tombstone (key, no value; migration 0013)
    Column("created_at", UtcDateTime, nullable=False),
    Column("published_at", UtcDateTime, nullable=True, index=True),
    Column("attempts", Integer, nullable=False, default=0),
    Column("last_error", Text, nullable=True),
    # Set when the committing process publishes the row itself (services/infrastructure/dispatch.py);
    # the relay leaves the row alone until then.
    Column("lease_until", UtcDateTime, nullable=True),
)

processed_messages = Table(
    "processed_messages",
    metadata,
    Column("consumer", String(100), primary_key=True),
    Column("ce_source", String(255), primary_key=True),
    Column("ce_id", String(100), primary_key=True),
    Column("processed_at", UtcDateTime, nullable=False),
)

# Messages a consumer could not process, kept for admins (list, replay) besides the .dlq topic.
dead_letters = Table(
    "dead_letters",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("consumer", String(100), nullable=False),
    Column("topic", String(255), nullable=False),
    Column("origin", String(300), nullable=False),  # topic/partition/offset
    Column("key", String(255), nullable=True),
    Column("headers", Json, nullable=False),
    Column("value", LargeBinary, nullable=False),
    Column("reason", Text, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("replayed_at", UtcDateTime, nullable=True),
    Column("replayed_by", String(255), nullable=True),
)
