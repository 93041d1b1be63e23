"""Admin pages: dead-lettered messages (metadata only) and their replay; publishing a checklist version."""
from __future__ import annotations

import json

import yaml
from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse

from gateway.deps import bus, directory, new_uow
from gateway.web.forms import messages
from gateway.web.render import page
from gateway.web.session import csrf_checked, page_for
from services.admin import views as admin
from services.admin.commands import ReplayDeadLetter
from services.checklists import views as checklists
from services.checklists.commands import PublishTemplate
from services.kernel.errors import ServiceError
from services.kernel.identity import Actor, Role

router = APIRouter(prefix="/ui/admin")
administrator = page_for(Role.ADMIN)


@router.get("/fehlgeschlagen")
async def dead_letters(request: Request, alle: bool = False, erneut: int | None = None,
                       actor: Actor = Depends(administrator)):
    found = await admin.dead_letters(new_uow(request), actor, directory(request), include_replayed=alle)
    return page(request, "dead_letters.html", title="Nicht verarbeitete Nachrichten", items=found["items"],
                show_all=alle, replayed=erneut)


@router.post("/fehlgeschlagen/{dead_letter_id}/erneut", dependencies=[Depends(csrf_checked)])
async def replay(request: Request, dead_letter_id: int, actor: Actor = Depends(administrator)):
    await bus(request).handle(ReplayDeadLetter(dead_letter_id=dead_letter_id), actor)
    return RedirectResponse(f"/ui/admin/fehlgeschlagen?erneut={dead_letter_id}", status_code=303)


@router.get("/checklisten")
async def templates(request: Request, veroeffentlicht: str | None = None, actor: Actor = Depends(administrator)):
    return await _templates_page(request, published=veroeffentlicht)


async def _templates_page(request: Request, status_code: int = 200, **context):
    listed = await checklists.list_templates(new_uow(request))
    return page(request, "admin_checklists.html", status_code=status_code, title="Checklisten",
                templates=listed["templates"], **context)


@router.post("/checklisten", dependencies=[Depends(csrf_checked)])
async def publish(request: Request, actor: Actor = Depends(administrator)):
    """A new template version as YAML (or JSON), checked by the same handler as the API's."""
    text = (await request.form()).get("template") or ""
    try:
        template = yaml.safe_load(text)
        if not isinstance(template, dict):
            raise ValueError
    except (yaml.YAMLError, ValueError):
        return await _templates_page(request, 422, errors=["Vorlage: Bitte eine Vorlage in YAML oder JSON angeben."],
                                     text=text)
    try:
        stored = await bus(request).handle(PublishTemplate(template=json.loads(json.dumps(template, default=str))),
                                           actor)
    except ServiceError as exc:  # named as the API names them (POST /checklists/{procedure}/versions)
        return await _templates_page(request, 422, errors=messages(exc, "versions"), text=text)
    return RedirectResponse(f"/ui/admin/checklisten?veroeffentlicht={stored.get('procedure', '')}", status_code=303)
