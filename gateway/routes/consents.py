"""Consents: record, amend, revoke, list per person (case managers of the recording office)."""
from datetime import datetime

from fastapi import APIRouter, Depends, Path, Request
from pydantic import BaseModel, Field

from contracts.consent import PERSON_PATTERN, ConsentTerms, RevocationMethod
from contracts.base import Contract
from gateway.auth import require
from gateway.deps import audit, directory, unit_of_work
from services.consent import service
from services.kernel.identity import Actor, Role

router = APIRouter(prefix="/consents", tags=["consents"])
case_manager = require(Role.CASE_MANAGER, Role.CLERK)  # any office that obtains consent records it


class RecordConsent(ConsentTerms):
    person: str | None = Field(None, pattern=PERSON_PATTERN,
                               description="Pseudonym einer bereits erfassten Person; leer = neue Person")


class Revoke(Contract):
    method: RevocationMethod = Field(description="Wie der Widerruf erklärt wurde")


class ConsentOut(BaseModel):
    consent_id: str
    person: str
    recorded_office: str
    revoked_at: datetime | None
    revoked_by: str | None
    revocation_method: str | None
    versions: list[dict]


@router.post("", status_code=201, response_model=ConsentOut)
async def record_consent(body: RecordConsent, request: Request, actor: Actor = Depends(case_manager)):
    terms = ConsentTerms.model_validate(body.model_dump(exclude={"person"}))
    async with unit_of_work(request) as conn:
        consent_id, _, _ = await service.record(conn, actor, terms, directory(request), audit(request), person=body.person)
        return (await service.get(conn, actor, consent_id)).__dict__


@router.post("/{consent_id}/versions", status_code=201, response_model=ConsentOut)
async def amend_consent(consent_id: str, body: ConsentTerms, request: Request, actor: Actor = Depends(case_manager)):
    async with unit_of_work(request) as conn:
        await service.amend(conn, actor, consent_id, body, directory(request), audit(request))
        return (await service.get(conn, actor, consent_id)).__dict__


@router.post("/{consent_id}/revocation", response_model=ConsentOut)
async def revoke_consent(consent_id: str, body: Revoke, request: Request, actor: Actor = Depends(case_manager)):
    async with unit_of_work(request) as conn:
        await service.revoke(conn, actor, consent_id, body.method, audit(request))
        return (await service.get(conn, actor, consent_id)).__dict__


@router.get("/{consent_id}", response_model=ConsentOut)
async def get_consent(consent_id: str, request: Request, actor: Actor = Depends(case_manager)):
    async with unit_of_work(request) as conn:
        return (await service.get(conn, actor, consent_id)).__dict__


persons = APIRouter(prefix="/persons", tags=["consents"])


@persons.get("/{person}/consents", response_model=list[ConsentOut])
async def list_consents(request: Request, person: str = Path(pattern=PERSON_PATTERN),
                        actor: Actor = Depends(case_manager)):
    async with unit_of_work(request) as conn:
        return [v.__dict__ for v in await service.list_for_person(conn, actor, person)]
