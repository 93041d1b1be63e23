"""Cases in the web interface: the case manager's list of their office's cases with an archive button
(the retention period starts), the DPO's list of their controller's. Same views and commands as the API."""
from __future__ import annotations

from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import RedirectResponse

from gateway.deps import bus, directory, new_uow
from gateway.web.render import page
from gateway.web.session import csrf_checked, page_for
from services.cases import views
from services.cases.commands import ArchiveCase
from services.kernel.identity import Actor, Role

router = APIRouter(prefix="/ui/faelle")
readers = page_for(Role.CASE_MANAGER, Role.DPO)
case_manager = page_for(Role.CASE_MANAGER)
STATUS_LABELS = {"open": "offen", "archived": "archiviert", "erased": "gelöscht"}


@router.get("")
async def cases(request: Request, archiviert: str | None = None, actor: Actor = Depends(readers)):
    listed = await views.list_cases(new_uow(request), actor, directory(request))
    retention_days = request.app.state.hub.settings.case_retention_days
    return page(request, "cases/list.html", title="Fälle", cases=listed["cases"], archived=archiviert,
                status_labels=STATUS_LABELS, retention_days=retention_days)


@router.post("/{case_id}/archivieren", dependencies=[Depends(csrf_checked)])
async def archive(request: Request, case_id: str = Path(max_length=40), actor: Actor = Depends(case_manager)):
    await bus(request).handle(ArchiveCase(case_id=case_id), actor)
    return RedirectResponse(f"/ui/faelle?archiviert={case_id}", status_code=303)
