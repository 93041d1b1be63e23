"""What administrators see of dead-lettered messages: metadata only, never the payload."""
from __future__ import annotations

from services.directory.model import Directory
from services.kernel.identity import Actor
from services.unit_of_work import HubUnitOfWork

_SHOWN = ("ce_id", "ce_source", "ce_type", "ce_time")  # the CloudEvent headers shown


async def dead_letters(uow: HubUnitOfWork, actor: Actor, directory: Directory, include_replayed: bool = False,
                       limit: int = 100) -> dict:
    """The dead letters of the admin's controller (Kreis or kreisfreie Stadt) and those naming no office."""
    async with uow:
        letters = await uow.dead_letters.latest(include_replayed, limit, directory.same_controller(actor.office))
    return {"items": [{
        "id": r.id, "consumer": r.consumer, "topic": r.topic, "origin": r.origin, "reason": r.reason,
        "event": {k: v for k, v in r.headers.items() if k in _SHOWN}, "size_bytes": len(r.value),
        "created_at": r.created_at, "replayed_at": r.replayed_at, "replayed_by": r.replayed_by,
    } for r in letters]}
