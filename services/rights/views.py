"""Art. 20 GDPR: the person's own data as structured, machine-readable JSON: their consents (every
version as recorded), the cases they are in, and what was sent about them: each transfer's metadata
and, where the delivered copy is still at rest, its payload fields, opened through the key service
with the recipient office's key and the person key (nothing opens after an erasure)."""
from __future__ import annotations

from datetime import datetime

from contracts.transfer import SealedPayloadV1
from services.crypto.errors import CryptoError
from services.kernel.errors import Forbidden
from services.keys.holder import Keys
from services.keys.release import open_parts
from services.unit_of_work import HubUnitOfWork

FORMAT = "urn:kimhub:art20:v1"
NOT_AT_REST = "Der Inhalt ist beim Hub nicht (mehr) gespeichert; nur die Angaben zur Übermittlung sind verzeichnet."
CLOSED = "Der Inhalt lässt sich nicht mehr öffnen (Schlüssel gelöscht oder nicht verfügbar)."


async def person_data(uow: HubUnitOfWork, keys: Keys | None, person: str, offices: frozenset[str],
                      now: datetime) -> dict:
    """In an open unit of work; ``offices``: the DPO's controller's."""
    return {
        "format": FORMAT, "person": person, "generated_at": now,
        "restricted": await uow.restrictions.get(person) is not None,
        "cases": [{"case_id": c.id, "office": c.office, "status": c.status.value, "created_at": c.created_at,
                   "archived_at": c.archived_at} for c in await uow.cases.of_person(person) if c.office in offices],
        "consents": [_consent(row, versions) for row, versions in await uow.person_data.consents(person, offices)],
        "transfers": [await _transfer(uow, keys, row, person, now)
                      for row in await uow.person_data.transfers(person, offices)],
    }


def _consent(row, versions) -> dict:
    return {"consent_id": row.id, "recorded_office": row.recorded_office, "recorded_at": row.created_at,
            "revoked_at": row.revoked_at, "revocation_method": row.revocation_method,
            "versions": [{"version": v.version, "recorded_at": v.recorded_at, "terms": v.terms} for v in versions]}


async def _transfer(uow: HubUnitOfWork, keys: Keys | None, row, person: str, now: datetime) -> dict:
    out = {"transfer_id": row.id, "message_type": row.message_type, "sender_office": row.sender_office,
           "recipient_office": row.recipient_office, "purpose": row.purpose, "status": row.status,
           "requested_at": row.requested_at, "updated_at": row.updated_at, "categories": row.categories,
           "removed_categories": row.removed_categories, "consent_id": row.consent_id,
           "consent_version": row.consent_version, "payload": None, "payload_note": NOT_AT_REST}
    if row.sealed is None or keys is None:
        return out
    try:
        sealed = SealedPayloadV1.model_validate(row.sealed)
        ring = keys.ring(row.recipient_office, now)
        out["payload"] = await open_parts(sealed, ring, keys.person_keys(uow), person)
        out["payload_note"] = None
    except (CryptoError, Forbidden):
        out["payload_note"] = CLOSED
    return out
