"""The data-protection officer carries out a person's rights on the web pages (issue 17's API in the
browser): the person's state (restricted, cases, erased), the Art. 20 export as a download, Art. 18
restriction and its lifting, Art. 17 erasure. Restricting, lifting and erasing each take an explicit
confirmation; each route calls one command or one view, as ``gateway/routes/rights.py`` does."""
from __future__ import annotations

import re
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse, RedirectResponse

from contracts.consent import PERSON_PATTERN
from gateway.deps import bus, directory, new_uow
from gateway.web.confirm import run_confirmed
from gateway.web.dpo import BAD_PERSON
from gateway.web.render import page
from gateway.web.session import csrf_checked, page_for
from services.kernel.errors import NotFound
from services.kernel.identity import Actor, Role
from services.rights import views
from services.rights.commands import ErasePerson, ExportPersonData, LiftRestriction, RestrictProcessing

router = APIRouter(prefix="/ui/betroffenenrechte")
dpo = page_for(Role.DPO)
PersonPath = Annotated[str, Path(pattern=PERSON_PATTERN)]
TITLE = "Betroffenenrechte"
NOT_CONFIRMED = {
    "restrict": "Bitte bestätigen Sie, dass die Verarbeitung eingeschränkt werden soll (Häkchen setzen). "
                "Es wurde nichts geändert.",
    "lift": "Bitte bestätigen Sie, dass die Einschränkung aufgehoben werden soll (Häkchen setzen). "
            "Es wurde nichts geändert.",
    "erase": "Bitte bestätigen Sie, dass die Daten endgültig gelöscht werden sollen (Häkchen setzen). "
             "Es wurde nichts gelöscht.",
}
DONE = {
    "eingeschraenkt": "Die Verarbeitung ist eingeschränkt (Art. 18 DSGVO). Neue Übermittlungen zu dieser Person "
                      "werden abgelehnt, noch nicht zugestellte zurückgehalten; zugestellte Nachrichten öffnen "
                      "sich nicht mehr.",
    "aufgehoben": "Die Einschränkung ist aufgehoben. Neue Übermittlungen sind wieder möglich; zurückgehaltene "
                  "werden nicht nachgeholt, die Stelle sendet sie neu.",
    "geloescht": "Die Daten der Person sind gelöscht (Art. 17 DSGVO), ihre Schlüssel vernichtet. Das "
                 "Übermittlungsprotokoll bleibt unter Pseudonym.",
}
STATUS_LABELS = {"open": "offen", "archived": "archiviert", "erased": "gelöscht"}


@router.get("")
async def find_person(request: Request, person: str = "", actor: Actor = Depends(dpo)):
    """The pseudonym the DPO types; a valid one leads to the person's page."""
    person = person.strip()
    if not person:
        return page(request, "rights/find.html", title=TITLE, person="", errors=[])
    if re.fullmatch(PERSON_PATTERN, person) is None:
        return page(request, "rights/find.html", status_code=422, title=TITLE, person=person, errors=[BAD_PERSON])
    return RedirectResponse(f"/ui/betroffenenrechte/{person}", status_code=303)


@router.get("/{person}")
async def person_page(request: Request, person: PersonPath, erledigt: str = "", actor: Actor = Depends(dpo)):
    if erledigt == "geloescht":  # erased: no case of the controller may remember the person any more
        state = await _state(request, actor, person)
    else:
        state = await views.person_state(new_uow(request), actor, directory(request), person)
    return _page(request, person, state, done=DONE.get(erledigt))


async def _state(request: Request, actor: Actor, person: str) -> dict | None:
    """The person's state, or None when no office of the controller knows them (any longer)."""
    try:
        return await views.person_state(new_uow(request), actor, directory(request), person)
    except NotFound:
        return None


def _page(request: Request, person: str, state: dict | None, status_code: int = 200, **context):
    return page(request, "rights/person.html", status_code=status_code, title=f"{TITLE}: {person}", person=person,
                state=state, status_labels=STATUS_LABELS, errors=context.pop("errors", []), **context)


@router.get("/{person}/daten")
async def download(request: Request, person: PersonPath, actor: Actor = Depends(dpo)):
    """Art. 20: the person's own data as a JSON file (named by the pseudonym only)."""
    data = await bus(request).handle(ExportPersonData(person=person), actor)
    return JSONResponse(jsonable_encoder(data),
                        headers={"Content-Disposition": f'attachment; filename="art20-{person}.json"'})


@router.post("/{person}/einschraenkung", dependencies=[Depends(csrf_checked)])
async def restrict(request: Request, person: PersonPath, actor: Actor = Depends(dpo)):
    return await _act(request, actor, person, RestrictProcessing(person=person), "restrict", "eingeschraenkt")


@router.post("/{person}/einschraenkung/aufheben", dependencies=[Depends(csrf_checked)])
async def lift(request: Request, person: PersonPath, actor: Actor = Depends(dpo)):
    return await _act(request, actor, person, LiftRestriction(person=person), "lift", "aufgehoben")


async def _act(request: Request, actor: Actor, person: str, command, action: str, done: str):
    """Restrict or lift once confirmed; a refusal is shown on the page (as it is now), which keeps its forms."""
    async def refused(status_code: int, message: str):
        return await _refused(request, actor, person, status_code, message)

    return await run_confirmed(request, actor, command, f"/ui/betroffenenrechte/{person}?erledigt={done}",
                               NOT_CONFIRMED[action], refused)


async def _refused(request: Request, actor: Actor, person: str, status_code: int, message: str):
    return _page(request, person, await _state(request, actor, person), status_code, errors=[message])


@router.get("/{person}/loeschen")
async def erase_form(request: Request, person: PersonPath, actor: Actor = Depends(dpo)):
    """The confirmation step: what an erasure deletes and what stays, in plain German."""
    return _erase_page(request, person, await views.person_state(new_uow(request), actor, directory(request), person))


@router.post("/{person}/loeschen", dependencies=[Depends(csrf_checked)])
async def erase(request: Request, person: PersonPath, actor: Actor = Depends(dpo)):
    async def refused(status_code: int, message: str):
        return await _erase_refused(request, actor, person, status_code, message)

    return await run_confirmed(request, actor, ErasePerson(person=person),
                               f"/ui/betroffenenrechte/{person}?erledigt=geloescht", NOT_CONFIRMED["erase"], refused)


async def _erase_refused(request: Request, actor: Actor, person: str, status_code: int, message: str):
    """The confirmation page again, with the reason (e.g. an open case) and the person's state now."""
    return _erase_page(request, person, await _state(request, actor, person), status_code, [message])


def _erase_page(request: Request, person: str, state: dict | None, status_code: int = 200,
                errors: list[str] | None = None):
    return page(request, "rights/erase.html", status_code=status_code, title="Daten löschen (Art. 17 DSGVO)",
                person=person, state=state, status_labels=STATUS_LABELS, errors=errors or [])
