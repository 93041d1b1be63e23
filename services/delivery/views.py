"""Reading the office inbox: a clerk sees only the messages delivered to their own office."""
from __future__ import annotations

from dataclasses import dataclass

from services.checklists.views import document_for_office
from services.kernel.errors import NotFound
from services.kernel.identity import Actor
from services.unit_of_work import HubUnitOfWork


@dataclass(frozen=True)
class Document:
    content: bytes
    media_type: str


async def inbox(uow: HubUnitOfWork, actor: Actor, unread_only: bool = False, limit: int = 100) -> dict:
    """The office's messages, newest first (``unread_only``: those without a receipt)."""
    async with uow:
        rows = await uow.inbox.of_office(actor.office, unread_only, limit)
    return {"office": actor.office, "items": [summary(r) for r in rows]}


async def item(uow: HubUnitOfWork, actor: Actor, transfer_id: str) -> dict:
    """One message with its payload."""
    async with uow:
        row = await own_item(uow, actor, transfer_id)
    return {**summary(row), "payload": row.payload, "consent_id": row.consent_id,
            "consent_version": row.consent_version, "legal_basis": row.legal_basis}


async def document(uow: HubUnitOfWork, actor: Actor, transfer_id: str, sha256: str) -> Document:
    """A document copy named in a message this office received (and only then)."""
    async with uow:
        row = await own_item(uow, actor, transfer_id)
        if sha256 not in {d.get("sha256") for d in row.payload.get("documents", [])}:
            raise NotFound("Dokument nicht gefunden.", field="sha256")
        content, media_type, _title = await document_for_office(uow, actor.office, sha256)
    return Document(content, media_type)


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
