"""Consents: record, amend, revoke, list per person (case managers of the recording office)."""
from datetime import datetime

from typing import Any

from fastapi import APIRouter, Body, Depends, Path, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from contracts.consent import PERSON_PATTERN, ConsentTerms, RevocationMethod
from contracts.base import Contract
from gateway.auth import require
from gateway.deps import bus, new_uow
from services.consent import fhir, views
from services.consent.commands import AmendConsent, RecordConsent, RevokeConsent
from services.kernel.identity import Actor, Role

router = APIRouter(prefix="/consents", tags=["consents"])
case_manager = require(Role.CASE_MANAGER, Role.CLERK)  # any office that obtains consent records it


class RecordConsentBody(ConsentTerms):
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
async def record_consent(body: RecordConsentBody, request: Request, actor: Actor = Depends(case_manager)):
    terms = ConsentTerms.model_validate(body.model_dump(exclude={"person"}))
    return (await bus(request).handle(RecordConsent(terms=terms, person=body.person), actor)).__dict__


@router.post("/fhir", status_code=201, response_model=ConsentOut)
async def import_fhir_consent(request: Request, resource: dict[str, Any] = Body(
        description="Eine HL7-FHIR-R4-Consent-Ressource (Abbildung: services/consent/fhir.py)"),
        actor: Actor = Depends(case_manager)):
    """Record a consent given as an HL7 FHIR R4 Consent resource (validated with fhir.resources)."""
    terms, person = fhir.from_fhir(resource)
    return (await bus(request).handle(RecordConsent(terms=terms, person=person), actor)).__dict__


@router.post("/{consent_id}/versions", status_code=201, response_model=ConsentOut)
async def amend_consent(consent_id: str, body: ConsentTerms, request: Request, actor: Actor = Depends(case_manager)):
    return (await bus(request).handle(AmendConsent(consent_id=consent_id, terms=body), actor)).__dict__


@router.post("/{consent_id}/revocation", response_model=ConsentOut)
async def revoke_consent(consent_id: str, body: Revoke, request: Request, actor: Actor = Depends(case_manager)):
    return (await bus(request).handle(RevokeConsent(consent_id=consent_id, method=body.method), actor)).__dict__


@router.get("/{consent_id}", response_model=ConsentOut)
async def get_consent(consent_id: str, request: Request, actor: Actor = Depends(case_manager)):
    return (await views.get(new_uow(request), actor, consent_id)).__dict__


persons = APIRouter(prefix="/persons", tags=["consents"])


@persons.get("/{person}/consents", response_model=list[ConsentOut])
async def list_consents(request: Request, person: str = Path(pattern=PERSON_PATTERN),
                        actor: Actor = Depends(case_manager)):
    return [v.__dict__ for v in await views.of_person(new_uow(request), actor, person)]


@persons.get("/{person}/consents/fhir")
async def export_fhir_consents(request: Request, person: str = Path(pattern=PERSON_PATTERN),
                               actor: Actor = Depends(case_manager)):
    """The person's consents of the actor's office as an HL7 FHIR R4 Bundle of Consent resources."""
    bundle = await views.fhir_of_person(new_uow(request), actor, person)
    return JSONResponse(bundle, media_type="application/fhir+json")
