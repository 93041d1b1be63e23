"""Transfers: send (consent checked at once), reply from the inbox, statutory notices, status, timeline."""
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field, StringConstraints, ValidationError, create_model

from contracts.agency import MUNICIPALITY_PATTERN
from contracts.base import Contract
from contracts.consent import PERSON_PATTERN
from contracts.feedback import REPLY
from contracts.payloads import FEEDBACK
from contracts.notice import EinbuergerungsmitteilungV1
from contracts.rectification import RectificationV1
from contracts.transfer import TransferStatus
from gateway.auth import require
from gateway.deps import bus, directory, keys, new_uow
from gateway.problems import problem
from services.gate import views
from services.gate.commands import Reply, SendNaturalisationNotice, SendRectification, SendTransfer
from services.gate.requests import Outcome
from services.infrastructure.db import utcnow
from services.kernel.identity import Actor, Role

router = APIRouter(tags=["transfers"])
sender = require(Role.CASE_MANAGER, Role.CLERK)  # clerks refer into case management and answer
clerk = require(Role.CLERK)
POLICY_CODES = {"open_items_not_accepted", "no_legal_basis"}
# The transfer a reply answers: checked like the contracts' ``in_reply_to`` (whitespace stripped first, as
# every Contract does), so that a path passing only before stripping is a 422 and not a failing reply model.
ReplyTo = Annotated[str, StringConstraints(strip_whitespace=True, min_length=REPLY["min_length"],
                                           max_length=REPLY["max_length"]), Path()]


def outcome_response(outcome: Outcome) -> JSONResponse:
    location = f"/transfers/{outcome.transfer_id}"
    if outcome.status == TransferStatus.REFUSED:
        # The refusal is committed and logged; the answer names exactly what is not covered.
        by_policy = any(r["code"] in POLICY_CODES for r in outcome.reasons)
        detail, kind = (("Die Übermittlung ist nach den Regeln der empfangenden Stelle oder mangels "
                         "Rechtsgrundlage nicht zulässig.", "transfer-not-permitted") if by_policy else
                        ("Die Übermittlung ist von der Einwilligung nicht gedeckt.", "consent-not-covering"))
        response = problem(403, detail, f"urn:kimhub:problem:{kind}", transfer_id=outcome.transfer_id,
                           status_url=location, recipient_office=outcome.recipient_office, reasons=outcome.reasons)
        response.headers["Location"] = location
        return response
    return JSONResponse(
        {"transfer_id": outcome.transfer_id, "status": outcome.status.value,
         "recipient_office": outcome.recipient_office, "consent_id": outcome.consent_id,
         "consent_version": outcome.consent_version, "status_url": location},
        status_code=202, headers={"Location": location},
    )


@router.post("/transfers", status_code=202, responses={403: {"description": "Not covered: reasons named"}})
async def send_transfer(body: SendTransfer, request: Request, actor: Actor = Depends(sender)):
    return outcome_response(await bus(request).handle(body, actor))


@router.get("/transfers/{transfer_id}")
async def transfer_status(transfer_id: str, request: Request, actor: Actor = Depends(sender)):
    return await views.status(new_uow(request), actor, transfer_id)


# The body of a rectification: its contract without ``corrects`` (the path names the transfer corrected).
RectificationBody = create_model("Rectification", __base__=Contract, **{
    name: (f.annotation, f) for name, f in RectificationV1.model_fields.items() if name != "corrects"})


@router.post("/transfers/{transfer_id}/rectifications", status_code=202,
             responses={403: {"description": "Not covered: reasons named"}})
async def rectify(body: RectificationBody, request: Request, transfer_id: ReplyTo,  # type: ignore[valid-type]
                  actor: Actor = Depends(require(Role.CASE_MANAGER))):
    """Art. 16 DSGVO: the corrected fields of a delivered transfer, to the office that received it."""
    try:
        payload = RectificationV1(**body.model_dump(exclude_unset=True), corrects=transfer_id)
    except ValidationError as exc:  # nothing corrected: named like any invalid body
        raise RequestValidationError([{**e, "loc": ("body", *e["loc"])} for e in exc.errors(include_url=False)])
    return outcome_response(await bus(request).handle(SendRectification(payload), actor))


def _reply_route(kind: str, message_type: str, contract: type[BaseModel]) -> None:
    fields = {name: (f.annotation, f) for name, f in contract.model_fields.items() if name != "in_reply_to"}
    body_model = create_model(f"{contract.__name__}Reply", __base__=Contract, **fields)

    async def reply(request: Request, body: body_model, transfer_id: ReplyTo,  # type: ignore[valid-type]
                    actor: Actor = Depends(clerk)):
        payload = contract(**body.model_dump(), in_reply_to=transfer_id)
        return outcome_response(await bus(request).handle(Reply(transfer_id, message_type, payload), actor))

    router.add_api_route(f"/inbox/{{transfer_id}}/replies/{kind}", reply, methods=["POST"], status_code=202,
                         name=f"reply_{kind}", summary=f"Antwort an die sendende Stelle: {kind}",
                         tags=["inbox"])


for _kind, _info in FEEDBACK.items():
    _reply_route(_kind, _info.message_type, _info.model)


class NaturalisationNotice(Contract):
    person: str = Field(pattern=PERSON_PATTERN)
    municipality: str = Field(pattern=MUNICIPALITY_PATTERN)
    payload: EinbuergerungsmitteilungV1


@router.post("/notices/einbuergerung", status_code=202)
async def naturalisation_notice(body: NaturalisationNotice, request: Request, actor: Actor = Depends(clerk)):
    """The naturalisation office informs the competent immigration office (statutory route)."""
    command = SendNaturalisationNotice(body.person, body.municipality, body.payload)
    return outcome_response(await bus(request).handle(command, actor))


@router.get("/persons/{person}/timeline", tags=["consents"])
async def person_timeline(request: Request, person: str = Path(pattern=PERSON_PATTERN),
                          actor: Actor = Depends(sender)):
    return await views.timeline(new_uow(request), actor, person, utcnow().date(), keys(request), directory(request))
