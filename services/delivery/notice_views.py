"""Reading an office's revocation notices: a clerk sees only their own office's."""
from __future__ import annotations

from services.delivery.notices import grouped, notice_view
from services.kernel.errors import NotFound
from services.kernel.identity import Actor
from services.unit_of_work import HubUnitOfWork


async def notices(uow: HubUnitOfWork, actor: Actor, state: str | None = None, limit: int = 500) -> dict:
    """The office's notices, newest first (``state``: only open, deleted or kept ones)."""
    async with uow:
        rows = await uow.office_notices.of_office(actor.office, state, limit)
    return {"office": actor.office, "notices": grouped(rows)}


async def notice(uow: HubUnitOfWork, actor: Actor, notice_id: str) -> dict:
    async with uow:
        rows = await uow.office_notices.get(notice_id)
    if not rows or rows[0].office != actor.office:
        raise NotFound("Widerrufshinweis nicht gefunden.", field="notice_id")
    return notice_view(rows)
