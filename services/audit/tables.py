"""The transfer log and its Merkle tree.

Every table here is append-only: the code only inserts (``log_head`` is the one row that moves),
and on PostgreSQL triggers reject UPDATE, DELETE and TRUNCATE (see migrations 0001 and 0002).
"""
from sqlalchemy import BigInteger, Column, Index, Integer, LargeBinary, SmallInteger, String, Table, Text

from services.infrastructure.db import Json, UtcDateTime, metadata

# One row per log record; seq is the 0-based leaf index in the Merkle tree, assigned under the
# log_head lock so that log order is commit order and has no gaps.
transfer_log = Table(
    "transfer_log",
    metadata,
    Column("seq", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=False),
    Column("kind", String(20), nullable=False),  # transfer | consent
    Column("recorded_at", UtcDateTime, nullable=False),
    Column("transfer_id", String(40), nullable=True),
    Column("consent_id", String(40), nullable=True),
    Column("sender_office", String(64), nullable=False),  # for consent records: the recording office
    Column("recipient_office", String(64), nullable=True),
    Column("person", String(80), nullable=False),  # keyed pseudonym (HMAC), never the hub's own id
    Column("purpose", String(50), nullable=True),
    Column("decision", String(20), nullable=True),
    Column("record", Text, nullable=False),  # canonical JSON (services/audit/record.py); the leaf data
    Index("ix_transfer_log_person", "person"),
    Index("ix_transfer_log_transfer", "transfer_id"),
    Index("ix_transfer_log_recorded_at", "recorded_at"),
)

# Hashes of every perfect subtree: (level, index) covers leaves [index*2^level, (index+1)*2^level).
merkle_nodes = Table(
    "merkle_nodes",
    metadata,
    Column("level", SmallInteger, primary_key=True, autoincrement=False),
    Column("idx", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=False),
    Column("hash", LargeBinary(32), nullable=False),
)

# The single moving row: tree size and its right-edge frontier (compact range).
log_head = Table(
    "log_head",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("size", BigInteger, nullable=False),
    Column("frontier", Json, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
)

# Signed checkpoints (C2SP tlog-checkpoint in a signed note), one per tree size.
checkpoints = Table(
    "checkpoints",
    metadata,
    Column("size", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=False),
    Column("root", LargeBinary(32), nullable=False),
    Column("issued_at", UtcDateTime, nullable=False),
    Column("note", Text, nullable=False),
)

# Cosignatures (e.g. the DPO's) on checkpoints: extra signature lines, verified before storing.
checkpoint_cosignatures = Table(
    "checkpoint_cosignatures",
    metadata,
    Column("size", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=False),
    Column("key_name", String(200), primary_key=True),
    Column("signature_line", Text, nullable=False),
    Column("added_at", UtcDateTime, nullable=False),
)
