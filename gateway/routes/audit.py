"""The data-protection officer's view of the transfer log: metadata, proofs, checkpoints, reports.
Never payloads."""
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import HTMLResponse, Response, StreamingResponse
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from contracts.consent import PERSON_PATTERN
from contracts.purposes import Purpose
from contracts.transfer import Decision
from gateway.auth import require
from gateway.deps import bus, directory, new_uow
from gateway.params import Int64
from services.audit import views
from services.audit.commands import AddCosignature, ReportAccess
from services.audit.views import LogFilter
from services.kernel.identity import Actor, Role

router = APIRouter(prefix="/audit", tags=["audit"])
dpo = require(Role.DPO)
# Checkpoints, keys and consistency proofs hold no records: every user may read them, so that an office
# can run a witness (kimhub audit witness); a cosignature is taken only from a configured cosigner key.
anyone = require(*Role)


@router.get("/transfers")
async def transfer_log(
    request: Request,
    person: str | None = Query(None, pattern=PERSON_PATTERN),
    office: str | None = None,
    purpose: Purpose | None = None,
    decision: Decision | None = None,
    kind: str | None = Query("transfer", pattern="^(transfer|consent|access|revocation|rights)$",
                             description="transfer, consent, access (Lesezugriffe auf Inhalte und Auskünfte) "
                                         "revocation (Schritte eines Widerrufs) oder rights (Rechte nach Art. 17, 18, 20)"),
    since: AwareDatetime | None = Query(None, description="Beginn (einschließlich), RFC 3339 mit Zeitzone"),
    until: AwareDatetime | None = Query(None, description="Ende (ausschließlich), RFC 3339 mit Zeitzone"),
    after_seq: Annotated[Int64, Query(ge=-1)] = -1,
    limit: Annotated[Int64, Query(ge=1, le=1000)] = 100,
    actor: Actor = Depends(dpo),
):
    log_filter = LogFilter(person, office, purpose, decision, kind, since, until)
    return await views.transfers(new_uow(request), actor, directory(request), log_filter, after_seq, limit)


@router.get("/totals")
async def totals(request: Request, office: str | None = None, purpose: Purpose | None = None,
                 since: AwareDatetime | None = None, until: AwareDatetime | None = None, actor: Actor = Depends(dpo)):
    log_filter = LogFilter(office=office, purpose=purpose, since=since, until=until)
    return await views.totals(new_uow(request), actor, directory(request), log_filter)


@router.get("/keys")
async def keys(request: Request, actor: Actor = Depends(anyone)):
    hub = request.app.state.hub
    return views.signing_keys(hub.settings.log_origin, hub.signer, hub.cosigners)


@router.get("/checkpoints/latest")
async def latest_checkpoint(request: Request, actor: Actor = Depends(anyone)):
    return await views.checkpoint(new_uow(request), actor)


@router.get("/checkpoints/{size}")
async def checkpoint(size: Int64, request: Request, actor: Actor = Depends(anyone)):
    return await views.checkpoint(new_uow(request), actor, size)


class Cosignature(BaseModel):
    model_config = ConfigDict(extra="forbid")  # no whitespace stripping: a signed note is byte-exact

    note: str = Field(max_length=20_000)


@router.post("/checkpoints/{size}/cosignatures", status_code=201)
async def cosign(size: Int64, body: Cosignature, request: Request, actor: Actor = Depends(anyone)):
    return await bus(request).handle(AddCosignature(size=size, note=body.note), actor)


@router.get("/proofs/inclusion")
async def inclusion_proof(request: Request, index: Annotated[Int64, Query(ge=0)],
                          size: Annotated[Int64 | None, Query(ge=1)] = None,
                          actor: Actor = Depends(dpo)):
    return await views.inclusion(new_uow(request), actor, directory(request), index, size)


@router.get("/proofs/consistency")
async def consistency_proof(request: Request, old: Annotated[Int64, Query(ge=1)],
                            new: Annotated[Int64 | None, Query(ge=1)] = None,
                            actor: Actor = Depends(anyone)):
    return await views.consistency(new_uow(request), actor, old, new)


@router.get("/export", response_class=StreamingResponse)
async def export(request: Request, start: Annotated[Int64, Query(ge=0)] = 0,
                 end: Annotated[Int64 | None, Query(ge=1)] = None,
                 actor: Actor = Depends(dpo)):
    """JSON Lines for ``kimhub audit verify``."""
    return StreamingResponse(views.export(new_uow(request), actor, directory(request), start, end),
                             media_type="application/x-ndjson")


@router.get("/persons/{person}/report")
async def access_report(request: Request, person: str = Path(pattern=PERSON_PATTERN),
                        format: str = Query("json", pattern="^(json|html)$"), actor: Actor = Depends(dpo)):
    pdf_link = f"/audit/persons/{person}/report.pdf" if format == "html" else None
    report = await bus(request).handle(ReportAccess(person=person, format=format, pdf_link=pdf_link), actor)
    return HTMLResponse(report) if format == "html" else report


@router.get("/persons/{person}/report.pdf", response_class=Response,
            responses={200: {"content": {"application/pdf": {}}, "description": "Die Auskunft als PDF"}})
async def access_report_pdf(request: Request, person: str = Path(pattern=PERSON_PATTERN), actor: Actor = Depends(dpo)):
    """The Art. 15 report as a printable PDF (the same content as the HTML page)."""
    return pdf_response(await bus(request).handle(ReportAccess(person=person, format="pdf"), actor), person)


def pdf_response(content: bytes, person: str) -> Response:
    return Response(content, media_type="application/pdf",
                    headers={"Content-Disposition": f'inline; filename="auskunft-art15-{person}.pdf"'})
