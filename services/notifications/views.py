"""What an admin reads: an office's notification addresses."""
from __future__ import annotations

from services.directory.model import Directory
from services.kernel.identity import Actor
from services.notifications.handlers import managed_office
from services.unit_of_work import HubUnitOfWork


async def addresses(uow: HubUnitOfWork, actor: Actor, directory: Directory, office: str) -> dict:
    managed_office(directory, actor, office)
    async with uow:
        row = await uow.notifications.addresses(office)
    return {"office": office, "new_items": list(row.new_items) if row else [],
            "overdue_replies": list(row.overdue_replies) if row else [],
            "updated_at": row.updated_at if row else None}
