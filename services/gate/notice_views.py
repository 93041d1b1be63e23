"""Revocation notices as the hub sees them: the data-protection officer's list (their controller's
offices, as sender or as recipient) and the confirmations the case manager waits for (``views.timeline``)."""
from __future__ import annotations

from services.audit.views import scope
from services.delivery.notices import grouped
from services.directory.model import Directory
from services.kernel.identity import Actor
from services.unit_of_work import HubUnitOfWork


async def for_dpo(uow: HubUnitOfWork, actor: Actor, directory: Directory, state: str | None = None,
                  limit: int = 500) -> dict:
    """Notices sent about consents of, or to, the offices of the DPO's controller; ``state``: open,
    deleted or kept."""
    async with uow:
        rows = await uow.notices.in_scope(scope(actor, directory), state, limit)
    return {"notices": grouped(rows)}


def open_confirmations(rows: list) -> list[dict]:
    """What the case manager waits for: notices the notified office has not confirmed yet."""
    return [{"notice_id": n["notice_id"], "office": n["office"], "change": n["change"], "issued_at": n["issued_at"],
             "transfers": [t["transfer_id"] for t in n["transfers"]]}
            for n in grouped(rows) if n["state"] == "open"]
