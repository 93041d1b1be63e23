"""Admin page: which addresses of each office of the admin's controller receive which e-mail."""
from __future__ import annotations

import re

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse
from pydantic import ValidationError

from gateway.deps import bus, directory, new_uow
from gateway.web.forms import messages
from gateway.web.render import page
from gateway.web.session import csrf_checked, page_for
from services.kernel.errors import ServiceError
from services.kernel.identity import Actor, Role
from services.notifications import views
from services.notifications.commands import SetNotificationAddresses

router = APIRouter(prefix="/ui/admin/benachrichtigungen")
administrator = page_for(Role.ADMIN)
PAGE = "/ui/admin/benachrichtigungen"


@router.get("")
async def addresses(request: Request, gespeichert: str | None = None, actor: Actor = Depends(administrator)):
    return await _page(request, actor, saved=gespeichert)


@router.post("/{office}", dependencies=[Depends(csrf_checked)])
async def save(request: Request, office: str, actor: Actor = Depends(administrator)):
    form = await request.form()
    entered = {"new_items": _list(form.get("new_items")), "overdue_replies": _list(form.get("overdue_replies"))}
    try:
        await bus(request).handle(SetNotificationAddresses(office=office, **entered), actor)
    except (ValidationError, ServiceError) as exc:
        return await _page(request, actor, 422, errors=messages(exc), failed=office, entered=entered)
    return RedirectResponse(f"{PAGE}?gespeichert={office}#stelle-{office}", status_code=303)


async def _page(request: Request, actor: Actor, status_code: int = 200, **context):
    offices = await views.offices(new_uow(request), actor, directory(request))
    return page(request, "admin_notifications.html", status_code=status_code, title="E-Mail-Benachrichtigungen",
                rows=offices, **context)


def _list(value) -> list[str]:
    """Addresses entered one a line (or separated by commas or semicolons)."""
    return [a for a in re.split(r"[\s,;]+", str(value or "")) if a]
