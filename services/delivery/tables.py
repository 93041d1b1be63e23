from sqlalchemy import Column, Index, Integer, String, Table, Text

from services.infrastructure.db import Json, UtcDateTime, metadata

inbox_items = Table(
    "inbox_items",
    metadata,
    Column("transfer_id", String(40), primary_key=True),
    Column("office", String(64), nullable=False),
    Column("message_type", String(50), nullable=False),
    Column("sender_office", String(64), nullable=False),
    Column("person", String(40), nullable=False),
    Column("purpose", String(50), nullable=False),
    Column("sealed", Json, nullable=False),  # contracts.transfer.SealedPayloadV1: no plaintext
    Column("categories", Json, nullable=False),
    Column("removed_categories", Json, nullable=False),
    Column("consent_id", String(40), nullable=True),
    Column("consent_version", Integer, nullable=True),
    Column("legal_basis", String(100), nullable=False),
    Column("delivered_at", UtcDateTime, nullable=False),
    Column("stored_at", UtcDateTime, nullable=True),  # when the office inbox committed it
    Column("received_at", UtcDateTime, nullable=True),
    Column("received_by", String(255), nullable=True),
    Column("signature", Text, nullable=True),  # the hub's JWS over the delivery, verified before storing
    Index("ix_inbox_items_office", "office", "delivered_at"),
)

# Revocation notices an office received (issue 17), one row per affected inbox item. While a notice
# is open, or kept without a basis, its items are not read; ``deleted`` removed their sealed content.
office_notices = Table(
    "office_notices",
    metadata,
    Column("notice_id", String(40), primary_key=True),
    Column("transfer_id", String(40), primary_key=True),
    Column("office", String(64), nullable=False),
    Column("sender_office", String(64), nullable=False),
    Column("person", String(40), nullable=False),
    Column("consent_id", String(40), nullable=False),
    Column("consent_version", Integer, nullable=False),
    Column("change", String(10), nullable=False),  # revoked | narrowed
    Column("purpose", String(50), nullable=False),
    Column("categories", Json, nullable=False),  # no longer covered
    Column("issued_at", UtcDateTime, nullable=False),
    Column("stored_at", UtcDateTime, nullable=False),
    Column("state", String(10), nullable=False),  # open | deleted | kept
    Column("legal_basis", String(300), nullable=True),
    Column("confirmed_by", String(255), nullable=True),
    Column("confirmed_at", UtcDateTime, nullable=True),
    Index("ix_office_notices_office", "office", "issued_at"),
    Index("ix_office_notices_transfer", "transfer_id"),
)
