"""The DPO's checkpoints page and cosigning ("Gegenzeichnen").

The cosigning key stays with the DPO, neither in the hub nor in the browser: a witness key the hub held
would sign whatever the one controlling the hub wants, which is what a cosignature guards against. So
the page hands out the checkpoint and the consistency proof from the size the DPO's key cosigned last,
shows the command that checks and cosigns (``kimhub audit cosign``: only a checkpoint extending the one
in the DPO's own state file), and takes the cosigned note back (``AddCosignature``: the hub stores the
signature line of a configured key on exactly its checkpoint of that size)."""
from __future__ import annotations

import json

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError

from gateway.deps import bus, new_uow
from gateway.web.forms import messages
from gateway.web.render import page
from gateway.web.session import csrf_checked, page_for
from services.audit import views as audit
from services.audit.commands import AddCosignature
from services.kernel.errors import NotFound, ServiceError
from services.kernel.identity import Actor, Role

router = APIRouter(prefix="/ui/pruefpunkte")
dpo = page_for(Role.DPO)


@router.get("")
async def checkpoints(request: Request, gegengezeichnet: str | None = None, actor: Actor = Depends(dpo)):
    return await _page(request, actor, cosigned=gegengezeichnet)


@router.post("/gegenzeichnen", dependencies=[Depends(csrf_checked)])
async def cosign(request: Request, actor: Actor = Depends(dpo)):
    """Store the DPO's cosignature from the note ``kimhub audit cosign`` printed (pasted into the form)."""
    form = await request.form()
    note = _note(form.get("note", ""))
    size = (note.split("\n") + [""])[1] or form.get("size", "")  # a checkpoint's second line is its size
    try:
        command = AddCosignature(size=int(size) if size.isdigit() else -1, note=note)
        added = await bus(request).handle(command, actor)
    except (ValidationError, ServiceError) as exc:
        return await _page(request, actor, errors=messages(exc), pasted=form.get("note", ""))
    return RedirectResponse(f"/ui/pruefpunkte?gegengezeichnet={','.join(added['cosigned_by'])}", status_code=303)


@router.get("/{size}/pruefpunkt.txt")
async def checkpoint_note(request: Request, size: int, actor: Actor = Depends(dpo)):
    """The signed checkpoint as the file ``kimhub audit cosign`` reads."""
    note = (await audit.checkpoint(new_uow(request), actor, size))["note"]
    return Response(note, media_type="text/plain; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="pruefpunkt-{size}.txt"'})


@router.get("/konsistenz.json")
async def consistency(request: Request, alt: int = Query(ge=1), neu: int = Query(ge=1), actor: Actor = Depends(dpo)):
    """The consistency proof from ``alt`` to ``neu`` as the file ``kimhub audit cosign --proof`` reads."""
    proof = await audit.consistency(new_uow(request), actor, alt, neu)
    return Response(json.dumps(proof), media_type="application/json",
                    headers={"Content-Disposition": f'attachment; filename="konsistenz-{alt}-{neu}.json"'})


def _note(pasted: str) -> str:
    """The pasted note as signed: browsers send a text area's line breaks as CR LF; one final newline."""
    return pasted.replace("\r\n", "\n").strip() + "\n"


async def _page(request: Request, actor: Actor, errors: list[str] | None = None, pasted: str = "",
                cosigned: str | None = None):
    hub = request.app.state.hub
    keys = audit.signing_keys(hub.settings.log_origin, hub.signer, hub.cosigners)
    try:
        latest, pending = await audit.checkpoint(new_uow(request), actor), None
    except NotFound as exc:
        latest, pending = None, exc.message
    cosigners = await audit.cosigning(new_uow(request), actor, hub.cosigners)
    return page(request, "checkpoints.html", status_code=422 if errors else 200, title="Prüfpunkte", latest=latest,
                keys=keys, pending=pending, cosigners=cosigners, errors=errors or [], pasted=pasted,
                cosigned=cosigned, signed_by=_signers(latest["note"]) if latest else [])


def _signers(note: str) -> list[str]:
    """The key names on a signed note's signature lines."""
    return [line[2:].split(" ")[0] for line in note.split("\n\n", 1)[-1].splitlines() if line.startswith("\u2014 ")]
