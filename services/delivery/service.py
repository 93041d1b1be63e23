"""Office inboxes: store delivered messages; clerks list, read and confirm receipt."""
from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from contracts.base import read_message
from contracts.envelope import Envelope
from contracts.registry import by_model, dataschema_uri
from contracts.transfer import OfficeDeliveryV1, ReceiptV1
from services.delivery.tables import inbox_items
from services.infrastructure import topics
from services.infrastructure.bulk import Insert, write_each
from services.infrastructure.db import utcnow
from services.kernel.errors import Conflict, NotFound
from services.kernel.identity import Actor
from services.infrastructure.outbox import enqueue

SOURCE = "urn:kimhub:delivery"


async def on_office_delivery(conn: AsyncConnection, env: Envelope, body: bytes) -> None:
    await on_office_deliveries(conn, [(env, body)])


async def on_office_deliveries(conn: AsyncConnection, items: list[tuple[Envelope, bytes]]) -> None:
    """Store delivered messages in their offices' inboxes, a batch in one statement."""
    await write_each(conn, office_delivery_writes(items))


def office_delivery_writes(items: list[tuple[Envelope, bytes]]) -> list[Insert]:
    """The inbox rows for delivered messages. A transfer already in its inbox is left as it is
    (the gate decides a transfer once, so a second delivery can only be a repeat): the consumer
    may write these rows together with its claims in one statement (``subscribe(batch_writes=)``)."""
    now = utcnow()
    rows = []
    for _env, body in items:
        msg = read_message(OfficeDeliveryV1, body)
        rows.append({
            "transfer_id": msg.transfer_id, "office": msg.recipient_office, "message_type": msg.message_type,
            "sender_office": msg.sender_office, "person": msg.person, "purpose": msg.purpose.value,
            "payload": msg.payload, "categories": msg.categories, "removed_categories": msg.removed_categories,
            "consent_id": msg.consent_id, "consent_version": msg.consent_version, "legal_basis": msg.legal_basis,
            "delivered_at": msg.delivered_at, "stored_at": now,
        })
    return [Insert(inbox_items, rows, skip_conflicts=True)]


async def list_inbox(conn: AsyncConnection, actor: Actor, unread_only: bool = False, limit: int = 100) -> list[dict]:
    q = select(inbox_items).where(inbox_items.c.office == actor.office)
    if unread_only:
        q = q.where(inbox_items.c.received_at.is_(None))
    rows = (await conn.execute(q.order_by(inbox_items.c.delivered_at.desc()).limit(limit))).all()
    return [_summary(r) for r in rows]


async def read_item(conn: AsyncConnection, actor: Actor, transfer_id: str) -> dict:
    row = await _own_item(conn, actor, transfer_id)
    return {**_summary(row), "payload": row.payload, "consent_id": row.consent_id,
            "consent_version": row.consent_version, "legal_basis": row.legal_basis}


async def confirm_receipt(conn: AsyncConnection, actor: Actor, transfer_id: str) -> dict:
    row = await _own_item(conn, actor, transfer_id)
    if row.received_at is not None:
        raise Conflict("Der Eingang wurde bereits bestätigt.", field="transfer_id")
    now = utcnow()
    await conn.execute(update(inbox_items).where(inbox_items.c.transfer_id == transfer_id)
                       .values(received_at=now, received_by=actor.user))
    receipt = ReceiptV1(transfer_id=transfer_id, office=actor.office, received_by=actor.user, received_at=now)
    info = by_model(ReceiptV1)
    env = Envelope(id=f"{transfer_id}/receipt", source=SOURCE, type=info.ce_type, subject=row.person, time=now,
                   dataschema=dataschema_uri(info), recipientoffice=row.sender_office)
    await enqueue(conn, topics.FEEDBACK, env, receipt)
    return {"transfer_id": transfer_id, "received_at": now, "received_by": actor.user}


async def _own_item(conn: AsyncConnection, actor: Actor, transfer_id: str):
    row = (await conn.execute(select(inbox_items).where(inbox_items.c.transfer_id == transfer_id))).first()
    if row is None or row.office != actor.office:
        raise NotFound("Nachricht nicht gefunden.", field="transfer_id")
    return row


def _summary(r) -> dict:
    return {
        "transfer_id": r.transfer_id, "message_type": r.message_type, "sender_office": r.sender_office,
        "person": r.person, "purpose": r.purpose, "categories": r.categories,
        "removed_categories": r.removed_categories, "delivered_at": r.delivered_at,
        "received_at": r.received_at, "received_by": r.received_by,
    }
