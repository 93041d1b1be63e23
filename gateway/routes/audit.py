"""The transfer log for the data-protection officer: metadata only, never payloads."""
from datetime import datetime

from fastapi import APIRouter, Depends, Query, Request
from pydantic import AwareDatetime

from contracts.purposes import Purpose
from contracts.transfer import Decision
from gateway.auth import require
from gateway.deps import unit_of_work
from services.audit.log import LogQuery, query
from services.shared.errors import InvalidInput
from services.shared.identity import Actor, Role

router = APIRouter(prefix="/audit", tags=["audit"])
dpo = require(Role.DPO)


@router.get("/transfers")
async def transfer_log(
    request: Request,
    person: str | None = None,
    office: str | None = None,
    purpose: Purpose | None = None,
    decision: Decision | None = None,
    since: AwareDatetime | None = Query(None, description="Inclusive, RFC 3339 with zone"),
    until: AwareDatetime | None = Query(None, description="Exclusive, RFC 3339 with zone"),
    after_seq: int = Query(0, ge=0),
    limit: int = Query(100, ge=1, le=1000),
    actor: Actor = Depends(dpo),
):
    if office is not None and office not in request.app.state.hub.directory.offices:
        raise InvalidInput("Unbekannte Stelle.", field="office")
    if since and until and until <= since:
        raise InvalidInput("'until' muss nach 'since' liegen.", field="until")
    q = LogQuery(person=person, office=office, purpose=purpose.value if purpose else None,
                 decision=decision.value if decision else None, since=since, until=until,
                 after_seq=after_seq, limit=limit)
    async with unit_of_work(request) as conn:
        records, total = await query(conn, q)
    return {"total": total, "records": [{"seq": seq, **rec} for seq, rec in records]}
