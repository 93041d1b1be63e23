"""Opening what the hub sealed, in a test: the office's ring and the person keys on a connection
(the office's read path does the same after the key service's consent check)."""
from __future__ import annotations

from contracts.transfer import SealedPayloadV1
from services.crypto.person_keys import PersonKeys
from services.infrastructure.db import utcnow
from services.keys.release import open_parts
from services.keys.repository import PersonKeyRepository
from tests.conftest import make_keys


async def opened(engine, sealed: SealedPayloadV1, office: str, person: str) -> dict:
    keys = make_keys()
    async with engine.connect() as conn:
        return await open_parts(sealed, keys.ring(office, utcnow()), PersonKeys(PersonKeyRepository(conn), keys.master),
                                person)


async def seal_statutory_item(engine, office: str, payload: dict, person: str, transfer_id: str,
                              documents: dict[str, bytes] | None = None) -> dict:
    """What the gate and the delivery side write for a transfer on a statutory route (no consent):
    the transfer row and the sealed payload (one ``falldaten`` part), plus document copies sealed for
    ``office``. Returns the columns for the inbox row."""
    from sqlalchemy import insert

    from services.crypto.layers import seal_layers
    from services.crypto.seal import seal_for_office, seal_for_person, sealed_digest
    from services.gate.tables import transfers
    from services.keys.tables import transfer_documents

    keys, now = make_keys(), utcnow()
    ring = keys.ring(office, now)
    async with engine.begin() as conn:
        key = await PersonKeys(PersonKeyRepository(conn), keys.master).for_sealing(person, now)
        copies = {h: seal_for_office(seal_for_person(c, key).encode(), ring, now) for h, c in (documents or {}).items()}
        sealed = SealedPayloadV1(fields={"required": {"falldaten": sorted(payload)}},
                                 parts={"falldaten": seal_layers(_canonical(payload), key, ring, now)},
                                 documents={h: sealed_digest(t) for h, t in copies.items()})
        await conn.execute(insert(transfers).values(
            id=transfer_id, message_type="referral.v1", sender_office="rsk-kim", sender_user="cm.rsk", person=person,
            municipality="05382068", recipient={"office": office}, recipient_office=office,
            purpose="aufenthaltsperspektive", status="delivered", reasons=[], consent_id=None, consent_version=None,
            categories=["falldaten"], removed_categories=[], payload_sha256="0" * 64, requested_at=now,
            updated_at=now))
        if copies:
            await conn.execute(insert(transfer_documents), [
                {"transfer_id": transfer_id, "sha256": h, "sealed": t.encode()} for h, t in copies.items()])
    return {"sealed": sealed.model_dump(mode="json"), "consent_id": None, "consent_version": None}


def _canonical(data: dict) -> bytes:
    import json
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
