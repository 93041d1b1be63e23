"""Request time: seal an accepted transfer's minimised payload for its recipient office, one part per
data category, each under the person's key and then the office's public key; and seal, for that
office, a copy of each document the payload names. After this nothing readable is written.

Delivery time: the gate drops the parts of categories no longer covered and signs what it delivers,
without opening anything.
"""
from __future__ import annotations

import hashlib
import json
from datetime import datetime

from contracts.transfer import PayloadFieldsV1, SealedPayloadV1
from services.crypto.layers import seal_layers
from services.crypto.office_keys import OfficeKeyRing
from services.crypto.person_keys import PersonKey
from services.crypto.seal import seal_for_office, sealed_digest
from services.crypto.signature import delivery_meta
from services.gate.minimise import PayloadCategories, split_by_category
from services.kernel.errors import InvalidInput

DOCUMENTS_CATEGORY = "dokumente"


def seal_parts(data: dict, cats: PayloadCategories, person_key: PersonKey, ring: OfficeKeyRing,
               now: datetime) -> SealedPayloadV1:
    """``data`` (the minimised payload's JSON data, ``cats`` its fields) sealed part by part."""
    parts = {c: seal_layers(_canonical(part), person_key, ring, now)
             for c, part in split_by_category(data, cats).items()}
    fields = PayloadFieldsV1(required={c: list(f) for c, f in cats.required.items()},
                             optional={c: list(f) for c, f in cats.optional.items()})
    return SealedPayloadV1(fields=fields, parts=parts)


def seal_documents(data: dict, stored: dict[str, bytes], ring: OfficeKeyRing, now: datetime) -> dict[str, str]:
    """For each document the payload names (sha256 → its content as stored, already sealed for the
    person at upload): a copy sealed for the office. Unknown documents are refused."""
    copies = {}
    for ref in data.get("documents", []):
        content = stored.get(ref["sha256"])
        if content is None:
            raise InvalidInput("Ein genanntes Dokument wurde für diese Person nicht hochgeladen.",
                               field="payload.documents")
        copies[ref["sha256"]] = seal_for_office(content, ring, now)
    return copies


def with_documents(sealed: SealedPayloadV1, copies: dict[str, str]) -> SealedPayloadV1:
    return sealed.model_copy(update={"documents": {h: sealed_digest(t) for h, t in copies.items()}})


def dropping(sealed: SealedPayloadV1, removed: set[str]) -> SealedPayloadV1:
    """Without the parts (and documents) of the ``removed`` categories; nothing is opened."""
    if not removed:
        return sealed
    fields = PayloadFieldsV1(required=sealed.fields.required,
                             optional={c: f for c, f in sealed.fields.optional.items() if c not in removed})
    return SealedPayloadV1(fields=fields, parts={c: t for c, t in sealed.parts.items() if c not in removed},
                           documents={} if DOCUMENTS_CATEGORY in removed else sealed.documents)


def categories_of(sealed: SealedPayloadV1) -> PayloadCategories:
    """What the gate decides from: the fields by category, names only."""
    return PayloadCategories({c: tuple(f) for c, f in sealed.fields.required.items()},
                             {c: tuple(f) for c, f in sealed.fields.optional.items()})


def digests(sealed: SealedPayloadV1) -> dict[str, str]:
    """The digest of each sealed part and document copy: what the delivery signature covers."""
    return {**{f"part:{c}": sealed_digest(t) for c, t in sealed.parts.items()},
            **{f"document:{h}": d for h, d in sealed.documents.items()}}


def sealed_payload_digest(sealed: SealedPayloadV1) -> str:
    """The transfer log's payload digest: over the ciphertexts, never the plaintext."""
    return hashlib.sha256(_canonical(digests(sealed))).hexdigest()


def signed_meta(msg, sealed: SealedPayloadV1, categories: list[str], consent_id: str | None,
                consent_version: int | None) -> dict:
    """What the hub signs for a delivery and the office verifies before it stores."""
    return delivery_meta(transfer_id=msg.transfer_id, message_type=msg.message_type,
                         sender_office=msg.sender_office, recipient_office=msg.recipient_office, person=msg.person,
                         purpose=str(msg.purpose), categories=categories, consent_id=consent_id,
                         consent_version=consent_version, digests=digests(sealed))


def _canonical(data) -> bytes:
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
