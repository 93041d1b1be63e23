"""Record, amend, revoke and read consents. Every change is a new row; nothing is overwritten."""
from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from contracts.consent import ConsentRevokedV1, ConsentTerms, ConsentVersionV1, RevocationMethod
from contracts.envelope import Envelope
from contracts.registry import by_model, dataschema_uri
from services.audit.log import AuditLog
from services.audit.record import ConsentLogRecord
from services.consent.domain import ConsentVersion, ProvisionRule
from services.consent.tables import consent_versions, consents
from services.directory.model import Directory
from services.infrastructure import topics
from services.infrastructure.db import utcnow
from services.kernel.errors import Conflict, InvalidInput, NotFound
from services.kernel.identity import Actor
from services.infrastructure.outbox import enqueue

SOURCE = "urn:kimhub:consent"


def new_person() -> str:
    return f"p-{uuid.uuid4().hex}"


@dataclass(frozen=True)
class ConsentView:
    consent_id: str
    person: str
    recorded_office: str
    revoked_at: datetime | None
    revoked_by: str | None
    revocation_method: str | None
    versions: list[dict]  # {version, terms, recorded_by, recorded_at}


def check_terms(terms: ConsentTerms, directory: Directory) -> None:
    if terms.municipality not in directory.municipality_names:
        raise InvalidInput("Unbekannte Gemeinde (AGS).", field="municipality")
    for i, p in enumerate(terms.provisions):
        if p.recipient.office is not None and p.recipient.office not in directory.offices:
            raise InvalidInput("Unbekannte Stelle.", field=f"provisions.{i}.recipient.office")


async def record(conn: AsyncConnection, actor: Actor, terms: ConsentTerms, directory: Directory, audit: AuditLog,
                 person: str | None = None) -> tuple[str, int, str]:
    """A new consent (version 1). Without ``person`` a new pseudonym is created."""
    check_terms(terms, directory)
    head = await audit.lock_head(conn)  # before the change and its time: see AuditLog.lock_head
    person = person or new_person()
    consent_id = f"c-{uuid.uuid4().hex}"
    now = utcnow()
    await conn.execute(insert(consents).values(id=consent_id, person=person, recorded_office=actor.office, created_at=now))
    await _add_version(conn, audit, head, consent_id, 1, person, terms, actor, now, "granted")
    return consent_id, 1, person


async def amend(conn: AsyncConnection, actor: Actor, consent_id: str, terms: ConsentTerms,
                directory: Directory, audit: AuditLog) -> int:
    check_terms(terms, directory)
    head = await audit.lock_head(conn)  # before the change: see AuditLog.lock_head
    row = await _own_consent(conn, actor, consent_id)
    if row.revoked_at is not None:
        raise Conflict("Die Einwilligung wurde widerrufen und kann nicht geändert werden.", field="consent_id")
    latest = await conn.scalar(select(func.max(consent_versions.c.version)).where(consent_versions.c.consent_id == consent_id))
    version = int(latest or 0) + 1
    await _add_version(conn, audit, head, consent_id, version, row.person, terms, actor, utcnow(), "amended")
    return version


async def revoke(conn: AsyncConnection, actor: Actor, consent_id: str, method: RevocationMethod,
                 audit: AuditLog) -> datetime:
    head = await audit.lock_head(conn)  # before the change and its time: see AuditLog.lock_head
    row = await _own_consent(conn, actor, consent_id)
    if row.revoked_at is not None:
        raise Conflict("Die Einwilligung ist bereits widerrufen.", field="consent_id")
    now = utcnow()
    await conn.execute(
        update(consents).where(consents.c.id == consent_id)
        .values(revoked_at=now, revoked_by=actor.user, revocation_method=method.value)
    )
    event = ConsentRevokedV1(event="revoked", consent_id=consent_id, person=row.person, revoked_at=now, revoked_by=actor.user, method=method)
    await enqueue(conn, topics.CONSENT, _envelope(event, row.person, f"{consent_id}/revoked", now), event)
    await audit.append(conn, ConsentLogRecord(
        recorded_at=now, event="revoked", consent_id=consent_id, consent_version=None, person=row.person,
        office=actor.office, recorded_by=actor.user, revocation_method=method.value), head)
    return now


async def list_for_person(conn: AsyncConnection, actor: Actor, person: str) -> list[ConsentView]:
    rows = (await conn.execute(
        select(consents).where(consents.c.person == person, consents.c.recorded_office == actor.office)
        .order_by(consents.c.created_at)
    )).all()
    return [await _view(conn, r) for r in rows]


async def get(conn: AsyncConnection, actor: Actor, consent_id: str) -> ConsentView:
    return await _view(conn, await _own_consent(conn, actor, consent_id))


async def versions_for(conn: AsyncConnection, person: str, *offices: str) -> list[ConsentVersion]:
    """All versions of the consents ``offices`` recorded for ``person``, as the coverage rule sees them."""
    return (await versions_for_many(conn, [person], offices)).get(person, [])


# Built once: composing the query costs more CPU than running it (the gate and every request use it).
_VERSIONS_OF = (
    select(consents.c.id, consents.c.person, consents.c.recorded_office, consents.c.revoked_at,
           consent_versions.c.version, consent_versions.c.terms, consent_versions.c.recorded_at)
    .join(consent_versions, consent_versions.c.consent_id == consents.c.id)
    .where(consents.c.person.in_(bindparam("persons", expanding=True)),
           consents.c.recorded_office.in_(bindparam("offices", expanding=True)))
    .order_by(consents.c.id, consent_versions.c.version)
)


async def versions_for_many(conn: AsyncConnection, persons: Iterable[str],
                            offices: Iterable[str]) -> dict[str, list[ConsentVersion]]:
    """``versions_for`` for many persons in one query: person -> versions, in (consent, version) order."""
    rows = (await conn.execute(_VERSIONS_OF, {"persons": sorted(set(persons)), "offices": sorted(set(offices))})).all()
    out: dict[str, list[ConsentVersion]] = {}
    for i, r in enumerate(rows):
        nxt = rows[i + 1] if i + 1 < len(rows) and rows[i + 1].id == r.id else None
        out.setdefault(r.person, []).append(
            to_domain(r.id, r.version, r.person, r.recorded_office, _terms(r.id, r.version, r.terms),
                      r.recorded_at, nxt.recorded_at if nxt else None, r.revoked_at))
    return out


_TERMS_CACHE: dict[tuple[str, int], ConsentTerms] = {}


def _terms(consent_id: str, version: int, raw: dict) -> ConsentTerms:
    """A version's terms never change once written, so each is validated once per process."""
    key = (consent_id, version)
    terms = _TERMS_CACHE.get(key)
    if terms is None:
        if len(_TERMS_CACHE) >= 50_000:
            _TERMS_CACHE.clear()
        terms = _TERMS_CACHE[key] = ConsentTerms.model_validate(raw)
    return terms


async def revoked_at(conn: AsyncConnection, consent_id: str) -> datetime | None:
    return await conn.scalar(select(consents.c.revoked_at).where(consents.c.id == consent_id))


def to_domain(consent_id: str, version: int, person: str, office: str, terms: ConsentTerms, recorded_at: datetime,
              superseded_at: datetime | None, revoked_at: datetime | None) -> ConsentVersion:
    return ConsentVersion(
        consent_id=consent_id, version=version, person=person, recorded_office=office,
        municipality=terms.municipality,
        provisions=tuple(
            ProvisionRule(
                purposes=frozenset(p.purposes), categories=frozenset(p.categories),
                office=p.recipient.office, kind=p.recipient.kind.value if p.recipient.kind else None,
                direction=p.direction.value,
            ) for p in terms.provisions
        ),
        valid_from=terms.valid_from, valid_until=terms.valid_until, recorded_at=recorded_at,
        superseded_at=superseded_at, revoked_at=revoked_at,
    )


async def _own_consent(conn: AsyncConnection, actor: Actor, consent_id: str):
    row = (await conn.execute(select(consents).where(consents.c.id == consent_id))).first()
    # Another office's consent is reported as missing: its existence is not this office's business.
    if row is None or row.recorded_office != actor.office:
        raise NotFound("Einwilligung nicht gefunden.", field="consent_id")
    return row


async def _add_version(conn, audit: AuditLog, head, consent_id, version, person, terms: ConsentTerms, actor: Actor,
                       now, event_kind) -> None:
    """The version, its event and its log record; ``head``: the log head this transaction holds."""
    await conn.execute(insert(consent_versions).values(
        consent_id=consent_id, version=version, terms=terms.model_dump(mode="json"),
        recorded_by=actor.user, recorded_at=now,
    ))
    event = ConsentVersionV1(event=event_kind, consent_id=consent_id, version=version, person=person, terms=terms,
                             recorded_by=actor.user, recorded_office=actor.office, recorded_at=now)
    await enqueue(conn, topics.CONSENT, _envelope(event, person, f"{consent_id}/v{version}", now), event)
    await audit.append(conn, ConsentLogRecord(
        recorded_at=now, event=event_kind, consent_id=consent_id, consent_version=version, person=person,
        office=actor.office, recorded_by=actor.user, municipality=terms.municipality,
        provisions=tuple(p.model_dump(mode="json", exclude_none=True) for p in terms.provisions),
        valid_from=terms.valid_from, valid_until=terms.valid_until,
        evidence_sha256=terms.evidence.form_sha256, form_version=terms.evidence.form_version), head)


async def _view(conn, row) -> ConsentView:
    versions = (await conn.execute(
        select(consent_versions).where(consent_versions.c.consent_id == row.id).order_by(consent_versions.c.version)
    )).all()
    return ConsentView(
        consent_id=row.id, person=row.person, recorded_office=row.recorded_office, revoked_at=row.revoked_at,
        revoked_by=row.revoked_by, revocation_method=row.revocation_method,
        versions=[{"version": v.version, "terms": v.terms, "recorded_by": v.recorded_by, "recorded_at": v.recorded_at}
                  for v in versions],
    )


def _envelope(event, person: str, event_id: str, now: datetime) -> Envelope:
    info = by_model(type(event))
    return Envelope(id=event_id, source=SOURCE, type=info.ce_type, subject=person, time=now,
                    dataschema=dataschema_uri(info))
