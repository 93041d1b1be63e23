"""Clerk pages: the office inbox (new items marked, refreshed by htmx), one item, receipt, replies."""
from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError

from contracts.feedback import Outcome
from contracts.payloads import FEEDBACK
from gateway.deps import bus, directory, keys, new_uow
from gateway.web.forms import messages
from gateway.web.render import BERLIN, page
from gateway.web.session import csrf_checked, page_for
from services.delivery import views as inbox
from services.delivery.commands import ConfirmReceipt
from services.gate.commands import Reply
from services.kernel.errors import NotFound, ServiceError
from services.kernel.identity import Actor, Role

router = APIRouter(prefix="/ui/posteingang")
clerk = page_for(Role.CLERK)
OUTCOMES = {Outcome.EINBUERGERUNGSZUSICHERUNG: "Einbürgerungszusicherung", Outcome.EINGEBUERGERT: "eingebürgert",
            Outcome.AUFENTHALTSERLAUBNIS_ERTEILT: "Aufenthaltserlaubnis erteilt", Outcome.ABGELEHNT: "abgelehnt",
            Outcome.ZURUECKGENOMMEN: "Antrag zurückgenommen", Outcome.SONSTIGES: "sonstiges"}


@router.get("")
async def inbox_page(request: Request, actor: Actor = Depends(clerk)):
    found = await inbox.inbox(new_uow(request), actor)
    return page(request, "inbox.html", title="Posteingang", items=found["items"])


@router.get("/liste")
async def inbox_rows(request: Request, actor: Actor = Depends(clerk)):
    """The inbox table alone, for htmx polling (the page refreshes it without a reload)."""
    found = await inbox.inbox(new_uow(request), actor)
    return page(request, "inbox_rows.html", title="Posteingang", items=found["items"])


@router.get("/{transfer_id}")
async def item_page(request: Request, transfer_id: str, bestaetigt: bool = False, beantwortet: str | None = None,
                    actor: Actor = Depends(clerk)):
    return _item(request, await _open(request, actor, transfer_id), confirmed=bestaetigt,
                 replied=beantwortet)


async def _open(request: Request, actor: Actor, transfer_id: str) -> dict:
    """The item, opened with the office's keys as the API's inbox route opens it."""
    return await inbox.item(new_uow(request), actor, transfer_id, keys(request), directory(request))


def _item(request: Request, item: dict, status_code: int = 200, **context):
    return page(request, "inbox_item.html", status_code=status_code, title="Nachricht", item=item,
                outcomes=OUTCOMES, **context)


@router.get("/{transfer_id}/dokumente/{sha256}")
async def document(request: Request, transfer_id: str, sha256: str, actor: Actor = Depends(clerk)):
    found = await inbox.document(new_uow(request), actor, transfer_id, sha256, keys(request), directory(request))
    return Response(found.content, media_type=found.media_type)


@router.post("/{transfer_id}/eingang", dependencies=[Depends(csrf_checked)])
async def confirm_receipt(request: Request, transfer_id: str, actor: Actor = Depends(clerk)):
    await bus(request).handle(ConfirmReceipt(transfer_id=transfer_id), actor)
    return RedirectResponse(f"/ui/posteingang/{transfer_id}?bestaetigt=1", status_code=303)


@router.post("/{transfer_id}/antworten/{kind}", dependencies=[Depends(csrf_checked)])
async def reply(request: Request, transfer_id: str, kind: str, actor: Actor = Depends(clerk)):
    if kind not in FEEDBACK:
        raise NotFound("Diese Art der Antwort gibt es nicht.", field="kind")
    form = await request.form()
    info = FEEDBACK[kind]
    try:
        payload = info.model(**_reply_fields(kind, form), in_reply_to=transfer_id)
        outcome = await bus(request).handle(Reply(transfer_id, info.message_type, payload), actor)
    except (ValidationError, ServiceError) as exc:
        item = await _open(request, actor, transfer_id)
        return _item(request, item, status_code=422, errors=messages(exc), open_kind=kind)
    if outcome.status.value == "refused":
        item = await _open(request, actor, transfer_id)
        return _item(request, item, refused=outcome, open_kind=kind)
    return RedirectResponse(f"/ui/posteingang/{transfer_id}?beantwortet={kind}", status_code=303)


def _reply_fields(kind: str, form) -> dict:
    """A reply's fields from its form (empty optional fields left out)."""
    note = form.get("note") or None
    if kind == "nachforderung":
        labels = [line.strip() for line in (form.get("items") or "").splitlines() if line.strip()]
        return {"items": [{"label": label} for label in labels], "deadline": form.get("deadline") or None,
                "note": note}
    if kind == "termin":
        return {"starts_at": _local_time(form.get("starts_at") or ""), "location": form.get("location") or "",
                "note": note}
    if kind == "sachstand":
        return {"status_text": form.get("status_text") or ""}
    if kind == "ergebnis":
        return {"outcome": form.get("outcome") or None, "decided_on": form.get("decided_on") or None, "note": note}
    return {"forwarded_to": form.get("forwarded_to") or None, "note": note}


def _local_time(value: str) -> datetime | str:
    """A ``datetime-local`` field, meant in German time."""
    try:
        return datetime.fromisoformat(value).replace(tzinfo=BERLIN)
    except ValueError:
        return value
