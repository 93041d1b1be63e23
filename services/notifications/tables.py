from sqlalchemy import Column, Index, Integer, String, Table

from services.infrastructure.db import Json, UtcDateTime, metadata

# Which addresses of an office receive which notification; set by the office's admin.
notification_settings = Table(
    "notification_settings",
    metadata,
    Column("office", String(64), primary_key=True),
    Column("new_items", Json, nullable=False),  # addresses told of new inbox items
    Column("overdue_replies", Json, nullable=False),  # addresses told of overdue replies
    Column("updated_at", UtcDateTime, nullable=False),
    Column("updated_by", String(255), nullable=False),
)

# The outbox of mails: one row per cause (``<kind>:<transfer id>``, so a repeat is no second row),
# written in the unit of work of the event; the sender mails an office's due rows of a kind at once.
notifications = Table(
    "notifications",
    metadata,
    Column("id", String(60), primary_key=True),
    Column("kind", String(20), nullable=False),  # new_item | overdue_reply
    Column("office", String(64), nullable=False),
    Column("transfer_id", String(40), nullable=False),
    Column("state", String(20), nullable=False),  # pending | sent | cancelled | unaddressed
    Column("attempts", Integer, nullable=False),
    Column("next_attempt_at", UtcDateTime, nullable=False),  # first: when it is due; then the backoff
    Column("last_error", String(100), nullable=True),  # an exception's class name, never its text
    Column("created_at", UtcDateTime, nullable=False),
    Column("done_at", UtcDateTime, nullable=True),
    Index("ix_notifications_pending", "state", "next_attempt_at"),
)
