"""Reading consents: a case manager sees only the consents of their own office."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from contracts.consent import ConsentTerms
from services.consent import fhir
from services.kernel.errors import NotFound
from services.kernel.identity import Actor
from services.unit_of_work import HubUnitOfWork


@dataclass(frozen=True)
class ConsentView:
    consent_id: str
    person: str
    recorded_office: str
    revoked_at: datetime | None
    revoked_by: str | None
    revocation_method: str | None
    versions: list[dict]  # {version, terms, recorded_by, recorded_at}


async def get(uow: HubUnitOfWork, actor: Actor, consent_id: str) -> ConsentView:
    async with uow:
        consent = await uow.consents.get(consent_id)
        if consent is None or consent.recorded_office != actor.office:
            raise NotFound("Einwilligung nicht gefunden.", field="consent_id")
        return await view(uow, consent)


async def of_person(uow: HubUnitOfWork, actor: Actor, person: str) -> list[ConsentView]:
    async with uow:
        return [await view(uow, c) for c in await uow.consents.of_person(person, actor.office)]


async def persons(uow: HubUnitOfWork, actor: Actor, limit: int = 200) -> list[dict]:
    """The persons the actor's office recorded consents for, most recent first."""
    async with uow:
        rows = await uow.consents.persons_of_office(actor.office, limit)
    return [{"person": r.person, "consents": r.consents, "last_recorded": r.last_recorded} for r in rows]


async def view(uow: HubUnitOfWork, consent) -> ConsentView:
    versions = await uow.consents.versions(consent.id)
    return ConsentView(
        consent_id=consent.id, person=consent.person, recorded_office=consent.recorded_office,
        revoked_at=consent.revoked_at, revoked_by=consent.revoked_by, revocation_method=consent.revocation_method,
        versions=[{"version": v.version, "terms": v.terms, "recorded_by": v.recorded_by, "recorded_at": v.recorded_at}
                  for v in versions],
    )


async def fhir_of_person(uow: HubUnitOfWork, actor: Actor, person: str) -> dict:
    """The person's consents recorded by the actor's office as a FHIR R4 Bundle: every version a
    Consent resource, active only the latest version of a consent not revoked."""
    resources = []
    for consent in await of_person(uow, actor, person):
        last = len(consent.versions)
        for v in consent.versions:
            resources.append(fhir.to_fhir(
                ConsentTerms.model_validate(v["terms"]), resource_id=f"{consent.consent_id}-v{v['version']}",
                person=consent.person, office=consent.recorded_office, recorded_at=v["recorded_at"],
                active=consent.revoked_at is None and v["version"] == last))
    return fhir.bundle(resources)
