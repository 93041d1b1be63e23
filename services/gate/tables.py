from sqlalchemy import Column, Index, Integer, String, Table

from services.infrastructure.db import Json, UtcDateTime, metadata

transfers = Table(
    "transfers",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("message_type", String(50), nullable=False),
    Column("sender_office", String(64), nullable=False),
    Column("sender_user", String(255), nullable=False),
    Column("person", String(40), nullable=False),
    Column("municipality", String(8), nullable=False),
    Column("recipient", Json, nullable=False),
    Column("recipient_office", String(64), nullable=False),
    Column("purpose", String(50), nullable=False),
    Column("status", String(20), nullable=False),
    Column("reasons", Json, nullable=False),
    Column("consent_id", String(40), nullable=True),
    Column("consent_version", Integer, nullable=True),
    Column("categories", Json, nullable=False),
    Column("removed_categories", Json, nullable=False),
    Column("payload_sha256", String(64), nullable=False),
    Column("requested_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    Column("in_reply_to", String(40), nullable=True),  # the transfer this one answers (or corrects)
    Index("ix_transfers_sender_office", "sender_office", "requested_at"),
    Index("ix_transfers_in_reply_to", "in_reply_to"),
)

# Revocation notices the hub sent (issue 17): one row per affected transfer of a notice; the notice's
# state is the office's confirmation as it came back on kim.feedback.v1.
revocation_notices = Table(
    "revocation_notices",
    metadata,
    Column("notice_id", String(40), primary_key=True),
    Column("transfer_id", String(40), primary_key=True),
    Column("office", String(64), nullable=False),  # the office notified
    Column("sender_office", String(64), nullable=False),  # the office that recorded the consent
    Column("person", String(40), nullable=False),
    Column("consent_id", String(40), nullable=False),
    Column("consent_version", Integer, nullable=False),  # the transfer's
    Column("change", String(10), nullable=False),  # revoked | narrowed
    Column("purpose", String(50), nullable=False),
    Column("categories", Json, nullable=False),  # no longer covered
    Column("issued_at", UtcDateTime, nullable=False),
    Column("state", String(10), nullable=False),  # open | deleted | kept
    Column("legal_basis", String(300), nullable=True),
    Column("confirmed_by", String(255), nullable=True),
    Column("confirmed_at", UtcDateTime, nullable=True),
    Index("ix_revocation_notices_sender", "sender_office", "state"),
    Index("ix_revocation_notices_office", "office", "state"),
)
