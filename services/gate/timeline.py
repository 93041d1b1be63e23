"""A person's case as one office sees it: what it sent, what came back, and what is still open.

Read model over the transfers this office sent and the messages in its own inbox."""
from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from services.delivery.tables import inbox_items
from services.gate.tables import transfers
from services.kernel.identity import Actor


async def timeline(conn: AsyncConnection, actor: Actor, person: str, today: date) -> dict:
    sent = (await conn.execute(select(transfers).where(transfers.c.sender_office == actor.office,
                                                       transfers.c.person == person))).all()
    received = (await conn.execute(select(inbox_items).where(inbox_items.c.office == actor.office,
                                                             inbox_items.c.person == person))).all()
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
