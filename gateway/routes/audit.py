"""The data-protection officer's view of the transfer log: metadata, proofs, checkpoints, reports.
Never payloads."""
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import HTMLResponse, StreamingResponse
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from contracts.consent import PERSON_PATTERN
from contracts.purposes import Purpose
from contracts.transfer import Decision
from gateway.auth import require
from gateway.deps import audit, unit_of_work
from gateway.params import Int64
from services.audit import log as audit_log
from services.audit import service
from services.audit.checkpointer import Checkpointer
from services.audit.log import LogQuery
from services.audit.report_html import render
from services.infrastructure.db import utcnow
from services.kernel.errors import InvalidInput
from services.kernel.identity import Actor, Role

router = APIRouter(prefix="/audit", tags=["audit"])
dpo = require(Role.DPO)


def _query(request: Request, person, office, purpose, decision, kind, since, until, after_seq=-1, limit=100) -> LogQuery:
    if office is not None and office not in request.app.state.hub.directory.offices:
        raise InvalidInput("Unbekannte Stelle.", field="office")
    if since and until and until <= since:
        raise InvalidInput("'until' muss nach 'since' liegen.", field="until")
    return LogQuery(person=person, office=office, purpose=purpose.value if purpose else None,
                    decision=decision.value if decision else None, kind=kind, since=since, until=until,
                    after_seq=after_seq, limit=limit)


@router.get("/transfers")
async def transfer_log(
    request: Request,
    person: str | None = Query(None, pattern=PERSON_PATTERN),
    office: str | None = None,
    purpose: Purpose | None = None,
    decision: Decision | None = None,
    kind: str | None = Query("transfer", pattern="^(transfer|consent)$"),
    since: AwareDatetime | None = Query(None, description="Inclusive, RFC 3339 with zone"),
    until: AwareDatetime | None = Query(None, description="Exclusive, RFC 3339 with zone"),
    after_seq: Annotated[Int64, Query(ge=-1)] = -1,
    limit: Annotated[Int64, Query(ge=1, le=1000)] = 100,
    actor: Actor = Depends(dpo),
):
    q = _query(request, person, office, purpose, decision, kind, since, until, after_seq, limit)
    async with unit_of_work(request) as conn:
        records, total = await audit(request).query(conn, q)
    return {"total": total, "records": [{"seq": seq, **rec} for seq, rec in records]}


@router.get("/totals")
async def totals(request: Request, office: str | None = None, purpose: Purpose | None = None,
                 since: AwareDatetime | None = None, until: AwareDatetime | None = None, actor: Actor = Depends(dpo)):
    q = _query(request, None, office, purpose, None, None, since, until)
    async with unit_of_work(request) as conn:
        return {"totals": await audit(request).totals(conn, q)}


@router.get("/keys")
async def keys(request: Request, actor: Actor = Depends(dpo)):
    hub = request.app.state.hub
    return {"origin": hub.settings.log_origin, "hub": hub.signer.vkey,
            "cosigners": [v.vkey for v in hub.cosigners]}


@router.get("/checkpoints/latest")
async def latest_checkpoint(request: Request, actor: Actor = Depends(dpo)):
    async with unit_of_work(request) as conn:
        return await service.checkpoint_note(conn)


@router.get("/checkpoints/{size}")
async def checkpoint(size: Int64, request: Request, actor: Actor = Depends(dpo)):
    async with unit_of_work(request) as conn:
        return await service.checkpoint_note(conn, size)


class Cosignature(BaseModel):
    model_config = ConfigDict(extra="forbid")  # no whitespace stripping: a signed note is byte-exact

    note: str = Field(max_length=20_000)


@router.post("/checkpoints/{size}/cosignatures", status_code=201)
async def cosign(size: Int64, body: Cosignature, request: Request, actor: Actor = Depends(dpo)):
    hub = request.app.state.hub
    async with unit_of_work(request) as conn:
        return await service.add_cosignature(conn, size, body.note, hub.signer.verifier(), hub.cosigners)


@router.get("/proofs/inclusion")
async def inclusion_proof(request: Request, index: Annotated[Int64, Query(ge=0)],
                          size: Annotated[Int64 | None, Query(ge=1)] = None,
                          actor: Actor = Depends(dpo)):
    async with unit_of_work(request) as conn:
        return await service.inclusion(conn, index, size)


@router.get("/proofs/consistency")
async def consistency_proof(request: Request, old: Annotated[Int64, Query(ge=1)],
                            new: Annotated[Int64 | None, Query(ge=1)] = None,
                            actor: Actor = Depends(dpo)):
    async with unit_of_work(request) as conn:
        return await service.consistency(conn, old, new)


@router.get("/export", response_class=StreamingResponse)
async def export(request: Request, start: Annotated[Int64, Query(ge=0)] = 0,
                 end: Annotated[Int64 | None, Query(ge=1)] = None,
                 actor: Actor = Depends(dpo)):
    """JSON Lines for ``kimhub audit verify``."""
    engine = request.app.state.hub.engine

    async def lines():
        async with engine.connect() as conn:
            async for line in audit_log.export(conn, start, end):
                yield line

    return StreamingResponse(lines(), media_type="application/x-ndjson")


@router.get("/persons/{person}/report")
async def access_report(request: Request, person: str = Path(pattern=PERSON_PATTERN),
                        format: str = Query("json", pattern="^(json|html)$"), actor: Actor = Depends(dpo)):
    hub = request.app.state.hub
    await Checkpointer(hub.engine, hub.signer, hub.settings.log_origin, 0, hub.notify_outbox).checkpoint()
    async with unit_of_work(request) as conn:
        report = await service.access_report(conn, audit(request), person, utcnow())
    if format == "html":
        names = {o.id: o.name for o in hub.directory.offices.values()}
        return HTMLResponse(render(report, names))
    return report
