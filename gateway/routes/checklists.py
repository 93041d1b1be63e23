"""Checklist templates, pre-checks and document uploads."""
from typing import Annotated

from fastapi import APIRouter, Body, Depends, Header, Query, Request
from pydantic import Field

from contracts.base import Contract
from contracts.consent import PERSON_PATTERN
from gateway.auth import current_actor, require
from gateway.deps import directory, unit_of_work
from gateway.params import Int64
from services.checklists import service
from services.infrastructure.db import utcnow
from services.kernel.errors import NotFound
from services.kernel.identity import Actor, Role

router = APIRouter(tags=["checklists"])
case_manager = require(Role.CASE_MANAGER)


@router.get("/checklists")
async def list_templates(request: Request, actor: Actor = Depends(current_actor)):
    today = utcnow().date()
    async with unit_of_work(request) as conn:
        cat = await service.catalogue(conn)
    out = []
    for procedure in cat.procedures():
        versions = cat.versions(procedure)
        current = next((t for t in reversed(versions) if t.valid_from <= today
                        and (t.valid_until is None or today <= t.valid_until)), None)
        out.append({"procedure": procedure, "title": versions[-1].title, "versions": [t.version for t in versions],
                    "current_version": current.version if current else None,
                    "expired": current is None and versions[-1].valid_from <= today})
    return {"templates": out}


@router.get("/checklists/{procedure}")
async def get_template(procedure: str, request: Request, version: Annotated[Int64 | None, Query(ge=1)] = None,
                       actor: Actor = Depends(current_actor)):
    async with unit_of_work(request) as conn:
        cat = await service.catalogue(conn)
    try:
        template = cat.get(procedure, version) if version else cat.versions(procedure)[-1]
    except (KeyError, LookupError, IndexError):
        raise NotFound("Vorlage nicht gefunden.", field="procedure") from None
    return template.model_dump(mode="json")


@router.post("/checklists/{procedure}/versions", status_code=201)
async def publish_template(procedure: str, request: Request, body: dict = Body(...),
                           actor: Actor = Depends(require(Role.ADMIN))):
    body = {**body, "procedure": procedure}
    async with unit_of_work(request) as conn:
        return await service.publish(conn, actor, body, directory(request))


class PrecheckRequest(Contract):
    person: str = Field(pattern=PERSON_PATTERN)
    procedure: str = Field(min_length=1, max_length=80)
    facts: dict = Field(default_factory=dict, description="Angaben zum Fall (Geburtsdatum, Einreisedatum, …)")
    items: dict[str, dict] = Field(default_factory=dict, description="Status je Checklisten-Punkt")


@router.post("/prechecks", status_code=201)
async def create_precheck(body: PrecheckRequest, request: Request, actor: Actor = Depends(case_manager)):
    async with unit_of_work(request) as conn:
        return await service.create_precheck(conn, actor, body.person, body.procedure, body.facts, body.items,
                                             utcnow().date())


@router.get("/prechecks/{precheck_id}")
async def get_precheck(precheck_id: str, request: Request, actor: Actor = Depends(case_manager)):
    async with unit_of_work(request) as conn:
        return await service.get_precheck(conn, actor, precheck_id)


@router.post("/documents", status_code=201, openapi_extra={"requestBody": {"content": {
    "application/pdf": {}, "image/jpeg": {}, "image/png": {}}, "required": True}})
async def upload_document(request: Request, person: str = Query(pattern=PERSON_PATTERN),
                          title: str = Query(min_length=1, max_length=200),
                          content_type: str | None = Header(None), actor: Actor = Depends(case_manager)):
    data = await request.body()
    async with unit_of_work(request) as conn:
        return await service.upload(conn, actor, person, title, content_type, data)
