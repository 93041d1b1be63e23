from sqlalchemy import Column, String, Table

from services.infrastructure.db import UtcDateTime, metadata

# Persons whose data is restricted (Art. 18 GDPR): kept, not processed. A lifted restriction is deleted
# (the transfer log keeps both events).
restrictions = Table(
    "restrictions",
    metadata,
    Column("person", String(40), primary_key=True),
    Column("office", String(64), nullable=False),  # the DPO's office that restricted
    Column("restricted_by", String(255), nullable=False),
    Column("restricted_at", UtcDateTime, nullable=False),
)
