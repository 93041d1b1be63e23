from sqlalchemy import Column, ForeignKey, Index, Integer, String, Table

from services.infrastructure.db import Json, UtcDateTime, metadata

consents = Table(
    "consents",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("person", String(40), nullable=False),
    Column("recorded_office", String(64), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("revoked_at", UtcDateTime, nullable=True),
    Column("revoked_by", String(255), nullable=True),
    Column("revocation_method", String(20), nullable=True),
    Index("ix_consents_person_office", "person", "recorded_office"),
)

consent_versions = Table(
    "consent_versions",
    metadata,
    Column("consent_id", String(40), ForeignKey("consents.id"), primary_key=True),
    Column("version", Integer, primary_key=True),
    Column("terms", Json, nullable=False),
    Column("recorded_by", String(255), nullable=False),
    Column("recorded_at", UtcDateTime, nullable=False),
)
