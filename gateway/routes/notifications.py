"""Notification addresses of an office: which addresses receive which e-mail (admins of the
office's controller)."""
from fastapi import APIRouter, Depends, Path, Request

from contracts.agency import OFFICE_ID_PATTERN
from gateway.auth import require
from gateway.deps import bus, directory, new_uow
from services.kernel.identity import Actor, Role
from services.notifications import views
from services.notifications.commands import NotificationAddresses, SetNotificationAddresses

router = APIRouter(prefix="/offices", tags=["admin"])
admin = require(Role.ADMIN)
OFFICE = Path(pattern=OFFICE_ID_PATTERN, max_length=64)


@router.get("/{office}/notifications")
async def get_addresses(request: Request, office: str = OFFICE, actor: Actor = Depends(admin)):
    return await views.addresses(new_uow(request), actor, directory(request), office)


@router.put("/{office}/notifications")
async def set_addresses(body: NotificationAddresses, request: Request, office: str = OFFICE,
                        actor: Actor = Depends(admin)):
    return await bus(request).handle(SetNotificationAddresses(office=office, **body.model_dump()), actor)
