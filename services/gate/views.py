"""What a sending office reads: a transfer's status, and a person's case as the office sees it (what
it sent, what came back, what is still open: a read model over its transfers and its own inbox)."""
from __future__ import annotations

from datetime import date

from services.kernel.errors import NotFound
from services.kernel.identity import Actor
from services.unit_of_work import HubUnitOfWork


async def status(uow: HubUnitOfWork, actor: Actor, transfer_id: str) -> dict:
    async with uow:
        row = await uow.transfers.get(transfer_id)
    if row is None or row.sender_office != actor.office:
        raise NotFound("Übermittlung nicht gefunden.", field="transfer_id")
    return {
        "transfer_id": row.id, "status": row.status, "person": row.person, "purpose": row.purpose,
        "recipient_office": row.recipient_office, "message_type": row.message_type,
        "categories": row.categories, "removed_categories": row.removed_categories,
        "consent_id": row.consent_id, "consent_version": row.consent_version, "reasons": row.reasons,
        "requested_at": row.requested_at, "updated_at": row.updated_at,
    }


async def timeline(uow: HubUnitOfWork, actor: Actor, person: str, today: date) -> dict:
    async with uow:
        sent = await uow.transfers.sent_by(actor.office, person)
        received = await uow.inbox.of_person(actor.office, person)
    events = [{
        "at": t.requested_at, "direction": "sent", "transfer_id": t.id, "message_type": t.message_type,
        "office": t.recipient_office, "status": t.status, "in_reply_to": t.in_reply_to,
        "reasons": t.reasons,
    } for t in sent] + [{
        "at": r.delivered_at, "direction": "received", "transfer_id": r.transfer_id, "message_type": r.message_type,
        "office": r.sender_office, "payload": r.payload, "received_at": r.received_at,
    } for r in received]
    events.sort(key=lambda e: e["at"])
    answered = {t.in_reply_to for t in sent if t.in_reply_to and t.status not in ("refused", "withheld")}
    tasks = []
    for r in received:
        if r.message_type == "feedback.nachforderung.v1" and r.transfer_id not in answered:
            deadline = date.fromisoformat(r.payload["deadline"])
            tasks.append({"task": "nachforderung", "transfer_id": r.transfer_id, "from_office": r.sender_office,
                          "items": r.payload["items"], "deadline": deadline, "overdue": deadline < today})
    return {"person": person, "office": actor.office, "events": events, "open_tasks": tasks}
