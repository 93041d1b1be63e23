"""Health (no authentication) and the vocabularies a client needs to build requests."""
from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, Response

from contracts.agency import OfficeKind
from contracts.categories import DataCategory
from contracts.purposes import Purpose
from gateway.auth import current_actor
from services.crypto.errors import NoKeys
from services.infrastructure import metrics
from services.infrastructure.db import utcnow
from services.kernel.errors import NotFound
from services.kernel.identity import Actor

router = APIRouter(tags=["meta"])


@router.get("/health/live")
async def live():
    return {"status": "ok"}


@router.get("/health/ready")
async def ready(request: Request):
    state = await request.app.state.hub.ready()
    ok = all(state.values())
    return JSONResponse({"status": "ready" if ok else "not ready", **state}, status_code=200 if ok else 503)


@router.get("/metrics", include_in_schema=False)
async def prometheus_metrics():
    """The process's Prometheus metrics (no authentication, like the health checks: counts by
    office and route only; keep the port inside the cluster)."""
    body, content_type = metrics.exposition()
    return Response(body, media_type=content_type)


@router.get("/vocabulary")
async def vocabulary(request: Request, _actor: Actor = Depends(current_actor)):
    d = request.app.state.hub.directory
    return {
        "purposes": [{"id": p.value, "label": p.label} for p in Purpose],
        "categories": [{"id": c.value, "label": c.label} for c in DataCategory],
        "office_kinds": [{"id": k.value, "label": k.label} for k in OfficeKind],
        "offices": [o.model_dump() for o in d.offices.values()],
        "municipalities": [{"key": k, "name": n} for k, n in sorted(d.municipality_names.items())],
        "directory_note": d.note, "demo": d.demo,
    }


@router.get("/directory/offices/{office}/keys")
async def office_keys(office: str, request: Request):
    """The office's public encryption keys as a JWK set (``use: enc``, RSA-OAEP-256): what a payload
    for this office is sealed with. Public by nature; the private keys stay with the office."""
    hub = request.app.state.hub
    if office not in hub.directory.offices:
        raise NotFound("Unbekannte Stelle.", field="office")
    try:
        return hub.keys.public_jwks(office, utcnow())
    except NoKeys:
        raise NotFound("Für diese Stelle sind keine Schlüssel hinterlegt.", field="office") from None
