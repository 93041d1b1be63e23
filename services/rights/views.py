"""Art. 20 GDPR: the person's own data as structured, machine-readable JSON: their consents (every
version as recorded), the cases they are in, and what was sent about them: each transfer's metadata
and, where the delivered copy is still at rest, its payload fields, opened through the key service
with the recipient office's key and the person key (nothing opens after an erasure)."""
from __future__ import annotations

from datetime import datetime

from contracts.transfer import SealedPayloadV1
from services.cases.domain import CaseStatus
from services.crypto.errors import CryptoError
from services.directory.model import Directory
from services.kernel.errors import Forbidden, NotFound
from services.kernel.identity import Actor
from services.keys.holder import Keys
from services.keys.release import open_parts
from services.unit_of_work import HubUnitOfWork

FORMAT = "urn:kimhub:art20:v1"
NOT_AT_REST = "Der Inhalt ist beim Hub nicht (mehr) gespeichert; nur die Angaben zur Übermittlung sind verzeichnet."
CLOSED = "Der Inhalt lässt sich nicht mehr öffnen (Schlüssel gelöscht oder nicht verfügbar)."
UNKNOWN = "Person nicht gefunden: keine Stelle Ihres Verantwortlichen hat Daten zu dieser Person."


async def known_offices(uow: HubUnitOfWork, actor: Actor, directory: Directory, person: str) -> frozenset[str]:
    """The actor's controller's offices, if one of them knows the person; otherwise not found
    (in an open unit of work)."""
    offices = directory.same_controller(actor.office)
    if not await uow.person_data.known_to(person, offices):
        raise NotFound(UNKNOWN, field="person")
    return offices


async def person_state(uow: HubUnitOfWork, actor: Actor, directory: Directory, person: str) -> dict:
    """What the DPO sees before acting on a person's rights: whether processing is restricted, the
    controller's cases of the person (open ones refuse an erasure) and whether the person is erased in
    them; whether another controller has an open case of the person (an erasure waits for it too: the
    person key is one for the hub). Metadata only, nothing opened, so nothing logged."""
    async with uow:
        offices = await known_offices(uow, actor, directory, person)
        restriction = await uow.restrictions.get(person)
        every = await uow.cases.of_person(person)
        cases = [c for c in every if c.office in offices]
        erased = {c.id for c in cases if person in await uow.cases.erased_persons(c.id)}
    return {
        "person": person, "restricted": restriction is not None,
        "restricted_at": restriction.restricted_at if restriction else None,
        "restricted_by": restriction.restricted_by if restriction else None,
        "cases": [{"case_id": c.id, "office": c.office, "status": c.status.value, "archived_at": c.archived_at,
                   "person_erased": c.id in erased} for c in cases],
        "open_cases": [c.id for c in cases if c.status == CaseStatus.OPEN],
        "open_elsewhere": any(c.status == CaseStatus.OPEN and c.office not in offices for c in every),
        "erased": bool(cases) and len(erased) == len(cases),
    }


async def person_data(uow: HubUnitOfWork, keys: Keys | None, person: str, offices: frozenset[str],
                      now: datetime) -> dict:
    """In an open unit of work; ``offices``: the DPO's controller's."""
    return {
        "format": FORMAT, "person": person, "generated_at": now,
        "restricted": await uow.restrictions.get(person) is not None,
        "cases": [{"case_id": c.id, "office": c.office, "status": c.status.value, "created_at": c.created_at,
                   "archived_at": c.archived_at} for c in await uow.cases.of_person(person) if c.office in offices],
        "consents": [_consent(row, versions) for row, versions in await uow.person_data.consents(person, offices)],
        "transfers": [await _transfer(uow, keys, row, person, now)
                      for row in await uow.person_data.transfers(person, offices)],
    }


def _consent(row, versions) -> dict:
    return {"consent_id": row.id, "recorded_office": row.recorded_office, "recorded_at": row.created_at,
            "revoked_at": row.revoked_at, "revocation_method": row.revocation_method,
            "versions": [{"version": v.version, "recorded_at": v.recorded_at, "terms": v.terms} for v in versions]}


async def _transfer(uow: HubUnitOfWork, keys: Keys | None, row, person: str, now: datetime) -> dict:
    out = {"transfer_id": row.id, "message_type": row.message_type, "sender_office": row.sender_office,
           "recipient_office": row.recipient_office, "purpose": row.purpose, "status": row.status,
           "requested_at": row.requested_at, "updated_at": row.updated_at, "categories": row.categories,
           "removed_categories": row.removed_categories, "consent_id": row.consent_id,
           "consent_version": row.consent_version, "payload": None, "payload_note": NOT_AT_REST}
    if row.sealed is None or keys is None:
        return out
    try:
        sealed = SealedPayloadV1.model_validate(row.sealed)
        ring = keys.ring(row.recipient_office, now)
        out["payload"] = await open_parts(sealed, ring, keys.person_keys(uow), person)
        out["payload_note"] = None
    except (CryptoError, Forbidden):
        out["payload_note"] = CLOSED
    return out
