"""Pages for revocation notices (issue 17): the clerk's (the office's notices, and the answer to an open
one: deleted, or kept on a legal basis the office names) and the data-protection officer's (the notices
of their controller's offices and whether they are confirmed). The same views and command as the API."""
from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse
from pydantic import ValidationError

from gateway.deps import bus, directory, new_uow
from gateway.web.forms import messages
from gateway.web.render import page
from gateway.web.session import csrf_checked, page_for
from services.delivery import notice_views
from services.delivery.commands import ConfirmNotice
from services.gate import notice_views as hub_notices
from services.kernel.errors import ServiceError
from services.kernel.identity import Actor, Role

router = APIRouter(prefix="/ui/widerrufshinweise")
dpo_router = APIRouter(prefix="/ui/datenschutz/widerrufshinweise")
clerk = page_for(Role.CLERK)
dpo = page_for(Role.DPO)
CHANGES = {"revoked": "Einwilligung widerrufen", "narrowed": "Einwilligung eingeschränkt"}
STATES = {"open": "offen", "deleted": "gelöscht", "kept": "aufbewahrt"}


@router.get("")
async def notices_page(request: Request, beantwortet: str | None = None, actor: Actor = Depends(clerk)):
    return await _page(request, actor, answered=beantwortet)


@router.post("/{notice_id}", dependencies=[Depends(csrf_checked)])
async def answer(request: Request, notice_id: str, actor: Actor = Depends(clerk)):
    form = await request.form()
    try:
        cmd = ConfirmNotice(notice_id=notice_id, outcome=form.get("outcome") or None,
                            legal_basis=(form.get("legal_basis") or "").strip() or None)
        await bus(request).handle(cmd, actor)
    except (ValidationError, ServiceError) as exc:
        return await _page(request, actor, status_code=422, errors=_messages(exc), open_notice=notice_id)
    return RedirectResponse(f"/ui/widerrufshinweise?beantwortet={notice_id}", status_code=303)


@dpo_router.get("")
async def dpo_page(request: Request, stand: str | None = None, actor: Actor = Depends(dpo)):
    state = stand if stand in STATES else None
    found = await hub_notices.for_dpo(new_uow(request), actor, directory(request), state)
    return page(request, "notices/dpo.html", title="Widerrufshinweise", notices=found["notices"], state=state,
                changes=CHANGES, states=STATES)


async def _page(request: Request, actor: Actor, status_code: int = 200, **context):
    found = await notice_views.notices(new_uow(request), actor)
    return page(request, "notices/list.html", status_code=status_code, title="Widerrufshinweise",
                notices=found["notices"], changes=CHANGES, states=STATES, **context)


def _messages(exc: Exception) -> list[str]:
    """German messages; the rule that a basis belongs to 'kept' only, in words of this page."""
    if isinstance(exc, ValidationError) and any(e["type"] == "legal_basis_choice" for e in exc.errors()):
        return ["Rechtsgrundlage: Beim Aufbewahren bitte die Rechtsgrundlage angeben (z. B. § 86 AufenthG), "
                "beim Löschen keine."]
    if isinstance(exc, ValidationError) and any("outcome" in e["loc"] for e in exc.errors()):
        return ["Antwort: Bitte „gelöscht“ oder „aufbewahrt“ wählen."]
    return messages(exc)
