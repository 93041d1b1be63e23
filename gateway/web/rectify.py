"""Berichtigung (Art. 16 DSGVO) on the case manager's pages: from the person's timeline, a form for a
delivered referral that asks for the corrected fields and why; sending it is ``SendRectification``, as
``POST /transfers/{id}/rectifications``. The sending office cannot read what it sent (sealed for the
recipient office), so the form is not prefilled and says so; it names what was sent (the categories).
A refusal by the gate shows its reasons on the page, the form kept."""
from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse
from pydantic import ValidationError
from starlette.datastructures import FormData

from contracts.rectification import RectificationV1
from contracts.transfer import TransferStatus
from gateway.deps import bus, new_uow
from gateway.web.case_manager import PERSON, PersonPath, case_manager
from gateway.web.forms import messages
from gateway.web.rectify_form import EXPLANATION, field_messages, offered, rectifiable, rectification_payload
from gateway.web.render import page
from gateway.web.session import csrf_checked
from services.gate import views as transfers
from services.gate.commands import SendRectification
from services.gate.requests import Outcome
from services.kernel.errors import Conflict, NotFound, ServiceError
from services.kernel.identity import Actor

router = APIRouter(prefix="/ui/personen")
RECTIFY = f"/{PERSON}/uebermittlungen/{{transfer_id}}/berichtigen"


@router.get(RECTIFY)
async def rectify_form(request: Request, person: PersonPath, transfer_id: str, actor: Actor = Depends(case_manager)):
    sent = await _original(request, actor, person, transfer_id)
    return _page(request, person, sent, FormData())


@router.post(RECTIFY, dependencies=[Depends(csrf_checked)])
async def rectify(request: Request, person: PersonPath, transfer_id: str, actor: Actor = Depends(case_manager)):
    sent = await _original(request, actor, person, transfer_id)
    form = await request.form()
    try:
        payload = RectificationV1.model_validate(rectification_payload(form, transfer_id, sent["categories"]))
        outcome = await bus(request).handle(SendRectification(payload), actor)
    except ValidationError as exc:
        return _page(request, person, sent, form, field_messages(exc))
    except ServiceError as exc:
        return _page(request, person, sent, form, messages(exc))
    if outcome.status == TransferStatus.REFUSED:
        return _page(request, person, sent, form, outcome=outcome)
    return RedirectResponse(f"/ui/personen/{person}?berichtigt={outcome.transfer_id}", status_code=303)


async def _original(request: Request, actor: Actor, person: str, transfer_id: str) -> dict:
    """The transfer to correct: one this office sent about ``person`` (another's is not found), a
    delivered referral."""
    sent = await transfers.status(new_uow(request), actor, transfer_id)
    if sent["person"] != person:
        raise NotFound("Übermittlung nicht gefunden.", field="transfer_id")
    if not rectifiable(sent):
        raise Conflict("Berichtigen lässt sich nur eine Überleitung, die der Stelle zugestellt wurde.",
                       field="transfer_id")
    return sent


def _page(request: Request, person: str, sent: dict, form, errors: list[str] | None = None,
          outcome: Outcome | None = None):
    return page(request, "rectify_form.html", status_code=422 if errors else 200,
                title="Berichtigung (Art. 16 DSGVO)", person=person, sent=sent, form=form, errors=errors or [],
                outcome=outcome, explanation=EXPLANATION, groups=offered(sent["categories"]))
