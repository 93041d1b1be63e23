"""The data-protection officer's totals: transfers by sending office and month (delivered, refused,
withheld) as server-rendered SVG bar charts, each with its numbers as a table."""
from __future__ import annotations

from datetime import datetime, timezone

from fastapi import APIRouter, Depends, Request

from gateway.deps import directory, new_uow
from gateway.web.render import page
from gateway.web.session import page_for
from services.audit import charts
from services.audit import views as audit
from services.audit.views import LogFilter
from services.infrastructure.db import utcnow
from services.kernel.identity import Actor, Role

router = APIRouter(prefix="/ui")
dpo = page_for(Role.DPO)
MONTHS_SHOWN = 12
DECISIONS = {"delivered": "zugestellt", "refused": "abgelehnt", "withheld": "zurückgehalten"}


@router.get("/statistik")
async def monthly_totals(request: Request, actor: Actor = Depends(dpo)):
    since = first_of_month(utcnow(), MONTHS_SHOWN - 1)
    rows = await audit.monthly_totals(new_uow(request), actor, directory(request), LogFilter(since=since))
    offices = request.app.state.hub.directory.offices
    found = charts.monthly_charts(rows, lambda o: offices[o].name if o in offices else o)
    return page(request, "statistik.html", title="Übermittlungen je Stelle und Monat", charts=found, since=since,
                decisions=DECISIONS, geometry=charts)


def first_of_month(now: datetime, months_back: int) -> datetime:
    """The first day (UTC) of the month ``months_back`` months before ``now``'s."""
    index = now.year * 12 + now.month - 1 - months_back
    return datetime(index // 12, index % 12 + 1, 1, tzinfo=timezone.utc)
