"""What a sending office reads: a transfer's status, and a person's case as the office sees it (what
it sent, what came back, what is still open: a read model over its transfers and its own inbox)."""
from __future__ import annotations

from datetime import date

from services.audit.reads import TIMELINE, item_read, log_reads
from services.delivery.notices import grouped
from services.delivery.views import opened_payload
from services.gate.notice_views import open_confirmations
from services.directory.model import Directory
from services.kernel.errors import NotFound, ServiceError
from services.kernel.identity import Actor
from services.keys.holder import Keys
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


async def timeline(uow: HubUnitOfWork, actor: Actor, person: str, today: date, keys: Keys,
                   directory: Directory) -> dict:
    """What the office sent and received about the person; what it received is opened like an inbox
    item (an item the key service no longer releases shows why instead of its payload); each item
    opened is a read the log records."""
    async with uow:
        sent = await uow.transfers.sent_by(actor.office, person)
        received = [(r, await _opened(uow, keys, directory, actor.office, r))
                    for r in await uow.inbox.of_person(actor.office, person)]
        await log_reads(uow, [item_read(actor, TIMELINE, r) for r, opened in received
                              if opened["payload"] is not None])
        notices = await uow.notices.of_sender(actor.office, person)
    events = [{
        "at": t.requested_at, "direction": "sent", "transfer_id": t.id, "message_type": t.message_type,
        "office": t.recipient_office, "status": t.status, "in_reply_to": t.in_reply_to, "purpose": t.purpose,
        "reasons": t.reasons,
    } for t in sent] + [{
        "at": r.delivered_at, "direction": "received", "transfer_id": r.transfer_id, "message_type": r.message_type,
        "office": r.sender_office, "received_at": r.received_at, "purpose": r.purpose, **opened,
    } for r, opened in received]
    events.sort(key=lambda e: e["at"])
    answered = {t.in_reply_to for t in sent if t.in_reply_to and t.status not in ("refused", "withheld")}
    tasks = []
    for r, opened in received:
        payload = opened.get("payload")
        if r.message_type == "feedback.nachforderung.v1" and r.transfer_id not in answered and payload:
            deadline = date.fromisoformat(payload["deadline"])
            tasks.append({"task": "nachforderung", "transfer_id": r.transfer_id, "from_office": r.sender_office,
                          "purpose": r.purpose, "note": payload.get("note"), "items": payload["items"], "deadline": deadline, "overdue": deadline < today})
    return {"person": person, "office": actor.office, "events": events, "open_tasks": tasks,
            "open_confirmations": open_confirmations(notices), "revocation_notices": grouped(notices)}


async def _opened(uow: HubUnitOfWork, keys: Keys, directory: Directory, office: str, row) -> dict:
    try:
        return {"payload": await opened_payload(uow, keys, directory, office, row)}
    except ServiceError as exc:
        return {"payload": None, "closed": exc.message}
