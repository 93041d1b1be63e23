"""Checklist templates, pre-checks and document uploads."""
from typing import Annotated

from fastapi import APIRouter, Body, Depends, Header, Query, Request
from pydantic import Field

from contracts.base import Contract
from contracts.consent import PERSON_PATTERN
from gateway.auth import current_actor, require
from gateway.deps import bus, new_uow
from gateway.params import Int64
from services.checklists import views
from services.checklists.commands import CreatePrecheck, PublishTemplate, UploadDocument
from services.kernel.identity import Actor, Role

router = APIRouter(tags=["checklists"])
case_manager = require(Role.CASE_MANAGER)


@router.get("/checklists")
async def list_templates(request: Request, actor: Actor = Depends(current_actor)):
    return await views.list_templates(new_uow(request))


@router.get("/checklists/{procedure}")
async def get_template(procedure: str, request: Request, version: Annotated[Int64 | None, Query(ge=1)] = None,
                       actor: Actor = Depends(current_actor)):
    return await views.get_template(new_uow(request), procedure, version)


@router.post("/checklists/{procedure}/versions", status_code=201)
async def publish_template(procedure: str, request: Request, body: dict = Body(...),
                           actor: Actor = Depends(require(Role.ADMIN))):
    return await bus(request).handle(PublishTemplate(template={**body, "procedure": procedure}), actor)


class PrecheckRequest(Contract):
    person: str = Field(pattern=PERSON_PATTERN)
    procedure: str = Field(min_length=1, max_length=80)
    facts: dict = Field(default_factory=dict, description="Angaben zum Fall (Geburtsdatum, Einreisedatum, …)")
    items: dict[str, dict] = Field(default_factory=dict, description="Status je Checklisten-Punkt")


@router.post("/prechecks", status_code=201)
async def create_precheck(body: PrecheckRequest, request: Request, actor: Actor = Depends(case_manager)):
    cmd = CreatePrecheck(person=body.person, procedure=body.procedure, facts=body.facts, statuses=body.items)
    return await bus(request).handle(cmd, actor)


@router.get("/prechecks/{precheck_id}")
async def get_precheck(precheck_id: str, request: Request, actor: Actor = Depends(case_manager)):
    return await views.get_precheck(new_uow(request), actor, precheck_id)


@router.post("/documents", status_code=201, openapi_extra={"requestBody": {"content": {
    "application/pdf": {}, "image/jpeg": {}, "image/png": {}}, "required": True}})
async def upload_document(request: Request, person: str = Query(pattern=PERSON_PATTERN),
                          title: str = Query(min_length=1, max_length=200),
                          content_type: str | None = Header(None), actor: Actor = Depends(case_manager)):
    cmd = UploadDocument(person=person, title=title, declared_type=content_type, content=await request.body())
    return await bus(request).handle(cmd, actor)
