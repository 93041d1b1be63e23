"""Cases in the web interface: the case manager's list of their office's cases with an archive button
(the retention period starts), the DPO's list of their controller's with an Art. 17 erasure of an archived
case after a confirmation step. Same views and commands as the API."""
from __future__ import annotations

from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import RedirectResponse

from gateway.deps import bus, directory, new_uow
from gateway.web.confirm import run_confirmed
from gateway.web.render import page
from gateway.web.session import csrf_checked, page_for
from services.cases import views
from services.cases.commands import ArchiveCase
from services.kernel.errors import NotFound
from services.kernel.identity import Actor, Role
from services.rights.commands import EraseCase

router = APIRouter(prefix="/ui/faelle")
readers = page_for(Role.CASE_MANAGER, Role.DPO)
case_manager = page_for(Role.CASE_MANAGER)
dpo = page_for(Role.DPO)  # as POST /cases/{id}/erasure
STATUS_LABELS = {"open": "offen", "archived": "archiviert", "erased": "gelöscht"}
ERASE_TITLE = "Fall löschen (Art. 17 DSGVO)"
NOT_CONFIRMED = "Bitte bestätigen Sie, dass der Fall endgültig gelöscht werden soll (Häkchen setzen). " \
                "Es wurde nichts gelöscht."


@router.get("")
async def cases(request: Request, archiviert: str | None = None, geloescht: str | None = None,
                actor: Actor = Depends(readers)):
    listed = await views.list_cases(new_uow(request), actor, directory(request))
    retention_days = request.app.state.hub.settings.case_retention_days
    return page(request, "cases/list.html", title="Fälle", cases=listed["cases"], archived=archiviert,
                erased=geloescht, status_labels=STATUS_LABELS, retention_days=retention_days)


@router.post("/{case_id}/archivieren", dependencies=[Depends(csrf_checked)])
async def archive(request: Request, case_id: str = Path(max_length=40), actor: Actor = Depends(case_manager)):
    await bus(request).handle(ArchiveCase(case_id=case_id), actor)
    return RedirectResponse(f"/ui/faelle?archiviert={case_id}", status_code=303)


@router.get("/{case_id}/loeschen")
async def erase_form(request: Request, case_id: str = Path(max_length=40), actor: Actor = Depends(dpo)):
    """The confirmation step: what erasing the case deletes and what stays, in plain German."""
    case = await views.show(new_uow(request), actor, directory(request), case_id)
    return _erase_page(request, case_id, case)


@router.post("/{case_id}/loeschen", dependencies=[Depends(csrf_checked)])
async def erase(request: Request, case_id: str = Path(max_length=40), actor: Actor = Depends(dpo)):
    """EraseCase as the API's route; no confirmation or a refusal (open, unknown, another controller's
    case) shows the confirmation page again with the reason in German."""
    async def refused(status_code: int, message: str):
        try:
            case = await views.show(new_uow(request), actor, directory(request), case_id)
        except NotFound:
            case = None
        return _erase_page(request, case_id, case, status_code, [message])

    return await run_confirmed(request, actor, EraseCase(case_id=case_id), f"/ui/faelle?geloescht={case_id}",
                               NOT_CONFIRMED, refused)


def _erase_page(request: Request, case_id: str, case: dict | None, status_code: int = 200,
                errors: list[str] | None = None):
    return page(request, "cases/erase.html", status_code=status_code, title=ERASE_TITLE, case_id=case_id,
                case=case, status_labels=STATUS_LABELS, errors=errors or [])
