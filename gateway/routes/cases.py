"""Cases: the case manager creates them with persons, adds persons, archives; the DPO sees their
controller's and erases an archived one on request (Art. 17)."""
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request
from pydantic import Field

from contracts.base import Contract
from contracts.consent import PERSON_PATTERN
from gateway.auth import require
from gateway.deps import bus, directory, new_uow
from gateway.params import Int64
from services.cases import views
from services.cases.commands import AddPerson, ArchiveCase, CreateCase
from services.cases.domain import CaseStatus
from services.kernel.identity import Actor, Role
from services.rights.commands import EraseCase

router = APIRouter(prefix="/cases", tags=["cases"])
case_manager = require(Role.CASE_MANAGER)
readers = require(Role.CASE_MANAGER, Role.DPO)
CaseId = Annotated[str, Path(max_length=40)]


class NewPerson(Contract):
    person: str = Field(pattern=PERSON_PATTERN)


@router.post("", status_code=201)
async def create_case(body: CreateCase, request: Request, actor: Actor = Depends(case_manager)):
    return await bus(request).handle(body, actor)


@router.get("")
async def list_cases(request: Request, status: CaseStatus | None = None,
                     limit: Annotated[Int64, Query(ge=1, le=1000)] = 100, actor: Actor = Depends(readers)):
    return await views.list_cases(new_uow(request), actor, directory(request), status, limit)


@router.get("/{case_id}")
async def show_case(case_id: CaseId, request: Request, actor: Actor = Depends(readers)):
    return await views.show(new_uow(request), actor, directory(request), case_id)


@router.post("/{case_id}/persons")
async def add_person(case_id: CaseId, body: NewPerson, request: Request, actor: Actor = Depends(case_manager)):
    return await bus(request).handle(AddPerson(case_id=case_id, person=body.person), actor)


@router.post("/{case_id}/archive")
async def archive_case(case_id: CaseId, request: Request, actor: Actor = Depends(case_manager)):
    return await bus(request).handle(ArchiveCase(case_id=case_id), actor)


@router.post("/{case_id}/erasure")
async def erase_case(case_id: CaseId, request: Request, actor: Actor = Depends(require(Role.DPO))):
    return await bus(request).handle(EraseCase(case_id=case_id), actor)
