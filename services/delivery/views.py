"""Reading the office inbox: a clerk sees only the messages delivered to their own office."""
from __future__ import annotations

from dataclasses import dataclass

from contracts.transfer import SealedPayloadV1
from services.audit.reads import DOCUMENT, INBOX_ITEM, item_read, log_reads
from services.crypto.errors import KeyDestroyed, SealBroken
from services.delivery.notices import reading_allowed_by_notices
from services.directory.model import Directory
from services.infrastructure.db import utcnow
from services.kernel.errors import Conflict, NotFound
from services.kernel.identity import Actor
from services.keys.holder import Keys
from services.keys.release import check_release, open_parts, open_token
from services.unit_of_work import HubUnitOfWork

SHREDDED = "Der Inhalt ist nicht mehr lesbar: die Schlüssel der Person wurden vernichtet (Löschung)."
BROKEN = "Die Nachricht lässt sich nicht öffnen: die Verschlüsselung ist beschädigt. Bitte die IT-Stelle informieren."


@dataclass(frozen=True)
class Document:
    content: bytes
    media_type: str


async def inbox(uow: HubUnitOfWork, actor: Actor, unread_only: bool = False, limit: int = 100) -> dict:
    """The office's messages, newest first (``unread_only``: those without a receipt)."""
    async with uow:
        rows = await uow.inbox.of_office(actor.office, unread_only, limit)
    return {"office": actor.office, "items": [summary(r) for r in rows]}


async def item(uow: HubUnitOfWork, actor: Actor, transfer_id: str, keys: Keys, directory: Directory) -> dict:
    """One message with its payload, opened with the office's key and the person key the key service
    releases against the consent it was delivered under (``services/keys/release.py``); the read is
    logged (who, when). ``corrects``: the item a rectification (Art. 16 DSGVO) corrects;
    ``rectifications``: those of this item delivered here."""
    async with uow:
        row = await own_item(uow, actor, transfer_id)
        payload = await opened_payload(uow, keys, directory, actor.office, row)
        rectifications = await uow.transfers.rectifications_of(transfer_id, actor.office)
        await log_reads(uow, [item_read(actor, INBOX_ITEM, row)])
    return {**summary(row), "payload": payload, "consent_id": row.consent_id,
            "consent_version": row.consent_version, "legal_basis": row.legal_basis,
            "corrects": payload.get("corrects"), "rectifications": rectifications}


async def opened_payload(uow: HubUnitOfWork, keys: Keys, directory: Directory, office: str, row) -> dict:
    """An inbox row's payload for ``office``, inside the caller's unit of work: the key service's
    consent check, then both layers opened (Forbidden, NotFound or Conflict with a German text)."""
    now = utcnow()
    kept = await reading_allowed_by_notices(uow, office, row)
    await check_release(uow, directory, office, row, now, kept)
    with _opening():
        return await open_parts(SealedPayloadV1.model_validate(row.sealed), keys.ring(office, now),
                                keys.person_keys(uow), row.person)


async def document(uow: HubUnitOfWork, actor: Actor, transfer_id: str, sha256: str, keys: Keys,
                   directory: Directory) -> Document:
    """A document copy named in a message this office received (and only then), opened like the item;
    the read is logged."""
    async with uow:
        row = await own_item(uow, actor, transfer_id)
        sealed = await uow.sealed_documents.sealed(transfer_id, sha256)
        if sha256 not in SealedPayloadV1.model_validate(row.sealed).documents or sealed is None:
            raise NotFound("Dokument nicht gefunden.", field="sha256")
        now = utcnow()
        kept = await reading_allowed_by_notices(uow, actor.office, row)
        await check_release(uow, directory, actor.office, row, now, kept)
        with _opening():
            content = await open_token(sealed.decode(), keys.ring(actor.office, now), keys.person_keys(uow),
                                       row.person)
        media_type = await uow.checklists.media_type_of(sha256)
        await log_reads(uow, [item_read(actor, DOCUMENT, row, sha256)])
    return Document(content, media_type)


class _opening:
    """Opening errors as the clerk reads them."""

    def __enter__(self):
        return self

    def __exit__(self, kind, exc, tb):
        if isinstance(exc, KeyDestroyed):
            raise NotFound(SHREDDED, field="transfer_id") from None
        if isinstance(exc, SealBroken):
            raise Conflict(BROKEN, field="transfer_id") from None
        return False


async def own_item(uow: HubUnitOfWork, actor: Actor, transfer_id: str, for_update: bool = False):
    """The item, if it was delivered to the actor's office; another office's is reported as missing."""
    row = await uow.inbox.get(transfer_id, for_update)
    if row is None or row.office != actor.office:
        raise NotFound("Nachricht nicht gefunden.", field="transfer_id")
    return row


def summary(r) -> dict:
    return {
        "transfer_id": r.transfer_id, "message_type": r.message_type, "sender_office": r.sender_office,
        "person": r.person, "purpose": r.purpose, "categories": r.categories,
        "removed_categories": r.removed_categories, "delivered_at": r.delivered_at,
        "received_at": r.received_at, "received_by": r.received_by,
    }
