"""Transfers: send (consent checked at once) and follow the status (sender office only)."""
from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse

from contracts.transfer import TransferStatus
from gateway.auth import require
from gateway.deps import audit, directory, unit_of_work
from gateway.problems import problem
from services.gate import requests
from services.gate.commands import SendTransfer
from services.shared.identity import Actor, Role

router = APIRouter(prefix="/transfers", tags=["transfers"])
case_manager = require(Role.CASE_MANAGER)


@router.post("", status_code=202, responses={403: {"description": "Consent does not cover the transfer"}})
async def send_transfer(body: SendTransfer, request: Request, actor: Actor = Depends(case_manager)):
    async with unit_of_work(request) as conn:
        outcome = await requests.send(conn, actor, body, directory(request), audit(request))
    location = f"/transfers/{outcome.transfer_id}"
    if outcome.status == TransferStatus.REFUSED:
        # The refusal is committed and logged; the answer names what the consent does not cover.
        response = problem(403, "Die Übermittlung ist von der Einwilligung nicht gedeckt.",
                           "urn:kimhub:problem:consent-not-covering", transfer_id=outcome.transfer_id,
                           status_url=location, reasons=outcome.reasons)
        response.headers["Location"] = location
        return response
    return JSONResponse(
        {"transfer_id": outcome.transfer_id, "status": outcome.status.value,
         "recipient_office": outcome.recipient_office, "consent_id": outcome.consent_id,
         "consent_version": outcome.consent_version, "status_url": location},
        status_code=202, headers={"Location": location},
    )


@router.get("/{transfer_id}")
async def transfer_status(transfer_id: str, request: Request, actor: Actor = Depends(case_manager)):
    async with unit_of_work(request) as conn:
        return await requests.status(conn, actor, transfer_id)
