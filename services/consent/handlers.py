"""Record, amend and revoke a consent: one handler each, one unit of work, one commit. Every change
is a new version or a revocation mark, published on ``kim.consent.v1`` and logged."""
from __future__ import annotations

import uuid
from datetime import datetime

from contracts.consent import ConsentRevokedV1, ConsentTerms, ConsentVersionV1
from contracts.envelope import Envelope
from contracts.registry import by_model, dataschema_uri
from services.audit.record import ConsentLogRecord
from services.consent.commands import AmendConsent, RecordConsent, RevokeConsent
from services.consent.explain import expired_on_recording
from services.consent.repository import to_domain
from services.consent.views import ConsentView, view
from services.directory.model import Directory
from services.gate.notices import notify_offices
from services.infrastructure import topics
from services.infrastructure.db import utcnow
from services.kernel.errors import Conflict, InvalidInput, NotFound
from services.kernel.identity import Actor
from services.keys.holder import Keys
from services.unit_of_work import HubUnitOfWork

SOURCE = "urn:kimhub:consent"


def new_person() -> str:
    return f"p-{uuid.uuid4().hex}"


async def record(cmd: RecordConsent, actor: Actor, uow: HubUnitOfWork, directory: Directory) -> ConsentView:
    """A new consent (version 1); without ``person`` a new pseudonym."""
    check_terms(cmd.terms, directory, utcnow())
    async with uow:
        head = await uow.log.lock_head()  # before the change and its time: see AuditLog.lock_head
        person, consent_id, now = cmd.person or new_person(), f"c-{uuid.uuid4().hex}", utcnow()
        await uow.consents.add(consent_id, person, actor.office, now)
        await _add_version(uow, head, consent_id, 1, person, cmd.terms, actor, now, "granted")
        result = await view(uow, await uow.consents.get(consent_id))
        await uow.commit()
    return result


async def amend(cmd: AmendConsent, actor: Actor, uow: HubUnitOfWork, directory: Directory,
                keys: Keys) -> ConsentView:
    """A new version; offices that received data it no longer covers are notified (``gate/notices.py``)."""
    check_terms(cmd.terms, directory, utcnow())
    async with uow:
        head = await uow.log.lock_head()  # before the change: see AuditLog.lock_head
        consent = await own_consent(uow, actor, cmd.consent_id)
        if consent.revoked_at is not None:
            raise Conflict("Die Einwilligung wurde widerrufen und kann nicht geändert werden.", field="consent_id")
        version, now = await uow.consents.latest_version(cmd.consent_id) + 1, utcnow()
        await _add_version(uow, head, cmd.consent_id, version, consent.person, cmd.terms, actor, now, "amended")
        latest = to_domain(consent.id, version, consent.person, consent.recorded_office, cmd.terms, now, None, None)
        await uow.log.append_many(await notify_offices(uow, directory, keys.signer, consent, version - 1, latest, now))
        result = await view(uow, await uow.consents.get(cmd.consent_id))
        await uow.commit()
    return result


async def revoke(cmd: RevokeConsent, actor: Actor, uow: HubUnitOfWork, directory: Directory,
                 keys: Keys) -> ConsentView:
    """The consent ends; every office that received data under it is notified (``gate/notices.py``)."""
    async with uow:
        head = await uow.log.lock_head()  # before the change and its time: see AuditLog.lock_head
        consent = await own_consent(uow, actor, cmd.consent_id)
        if consent.revoked_at is not None:
            raise Conflict("Die Einwilligung ist bereits widerrufen.", field="consent_id")
        now = utcnow()
        await uow.consents.mark_revoked(cmd.consent_id, now, actor.user, cmd.method)
        event = ConsentRevokedV1(event="revoked", consent_id=cmd.consent_id, person=consent.person, revoked_at=now,
                                 revoked_by=actor.user, method=cmd.method)
        await uow.outbox.add(topics.CONSENT, _envelope(event, consent.person, f"{cmd.consent_id}/revoked", now), event,
                             key=cmd.consent_id)
        await uow.log.append(ConsentLogRecord(
            recorded_at=now, event="revoked", consent_id=cmd.consent_id, consent_version=None, person=consent.person,
            office=actor.office, recorded_by=actor.user, revocation_method=cmd.method.value), head)
        before = await uow.consents.latest_version(cmd.consent_id)
        await uow.log.append_many(await notify_offices(uow, directory, keys.signer, consent, before, None, now))
        result = await view(uow, await uow.consents.get(cmd.consent_id))
        await uow.commit()
    return result


def check_terms(terms: ConsentTerms, directory: Directory, now: datetime) -> None:
    if terms.valid_until is not None and terms.valid_until <= now:
        raise InvalidInput(expired_on_recording(terms.valid_until), field="valid_until")
    if terms.municipality not in directory.municipality_names:
        raise InvalidInput("Unbekannte Gemeinde (AGS).", field="municipality")
    for i, p in enumerate(terms.provisions):
        if p.recipient.office is not None and p.recipient.office not in directory.offices:
            raise InvalidInput("Unbekannte Stelle.", field=f"provisions.{i}.recipient.office")


async def own_consent(uow: HubUnitOfWork, actor: Actor, consent_id: str):
    consent = await uow.consents.get(consent_id)
    # Another office's consent is reported as missing: its existence is not this office's business.
    if consent is None or consent.recorded_office != actor.office:
        raise NotFound("Einwilligung nicht gefunden.", field="consent_id")
    return consent


async def _add_version(uow: HubUnitOfWork, head, consent_id: str, version: int, person: str, terms: ConsentTerms,
                       actor: Actor, now: datetime, event_kind: str) -> None:
    """The version, its event and its log record; ``head``: the log head this unit of work holds."""
    await uow.consents.add_version(consent_id, version, terms, actor.user, now)
    event = ConsentVersionV1(event=event_kind, consent_id=consent_id, version=version, person=person, terms=terms,
                             recorded_by=actor.user, recorded_office=actor.office, recorded_at=now)
    await uow.outbox.add(topics.CONSENT, _envelope(event, person, f"{consent_id}/v{version}", now), event,
                         key=consent_id)  # compacted: the latest event of each consent stays
    await uow.log.append(ConsentLogRecord(
        recorded_at=now, event=event_kind, consent_id=consent_id, consent_version=version, person=person,
        office=actor.office, recorded_by=actor.user, municipality=terms.municipality,
        provisions=tuple(p.model_dump(mode="json", exclude_none=True) for p in terms.provisions),
        valid_from=terms.valid_from, valid_until=terms.valid_until,
        evidence_sha256=terms.evidence.form_sha256, form_version=terms.evidence.form_version), head)


def _envelope(event, person: str, event_id: str, now: datetime) -> Envelope:
    info = by_model(type(event))
    return Envelope(id=event_id, source=SOURCE, type=info.ce_type, subject=person, time=now,
                    dataschema=dataschema_uri(info))
