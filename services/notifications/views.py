"""What an admin reads: the notification addresses of an office, or of every office of their
controller (the web page)."""
from __future__ import annotations

from services.directory.model import Directory
from services.kernel.identity import Actor
from services.notifications.handlers import managed_office
from services.unit_of_work import HubUnitOfWork


async def addresses(uow: HubUnitOfWork, actor: Actor, directory: Directory, office: str) -> dict:
    managed_office(directory, actor, office)
    async with uow:
        row = await uow.notifications.addresses(office)
    return _addresses(office, row)


async def offices(uow: HubUnitOfWork, actor: Actor, directory: Directory) -> list[dict]:
    """Every office of the admin's controller with its name and addresses, by name."""
    managed = sorted(directory.same_controller(actor.office), key=lambda o: directory.office(o).name)
    async with uow:
        rows = await uow.notifications.addresses_of(managed)
    return [{**_addresses(o, rows.get(o)), "name": directory.office(o).name} for o in managed]


def _addresses(office: str, row) -> dict:
    return {"office": office, "new_items": list(row.new_items) if row else [],
            "overdue_replies": list(row.overdue_replies) if row else [],
            "updated_at": row.updated_at if row else None}
