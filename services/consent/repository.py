"""Consents and their versions in the database. A version is added, never changed; a revocation
marks the consent. ``versions_for_many`` is the port the gate reads consents through."""
from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import bindparam, func, insert, literal_column, null, select, union_all, update
from sqlalchemy.ext.asyncio import AsyncConnection

from contracts.consent import ConsentTerms, RevocationMethod
from services.consent.domain import ConsentVersion, ProvisionRule
from services.consent.tables import consent_versions, consents
from services.rights.tables import restrictions

# Built once: composing the query costs more CPU than running it (the gate and every request use it).
_VERSIONS = (
    select(consents.c.id, consents.c.person, consents.c.recorded_office, consents.c.revoked_at,
           consent_versions.c.version, consent_versions.c.terms, consent_versions.c.recorded_at)
    .join(consent_versions, consent_versions.c.consent_id == consents.c.id)
    .where(consents.c.person.in_(bindparam("persons", expanding=True)),
           consents.c.recorded_office.in_(bindparam("offices", expanding=True)))
)
_VERSIONS_OF = _VERSIONS.order_by(consents.c.id, consent_versions.c.version)
# The same, plus a row without a consent (id NULL) for each restricted person (Art. 18): one round trip.
_VERSIONS_AND_RESTRICTIONS = union_all(_VERSIONS, select(
    null().label("id"), restrictions.c.person, null().label("recorded_office"), null().label("revoked_at"),
    null().label("version"), null().label("terms"), null().label("recorded_at"))
    .where(restrictions.c.person.in_(bindparam("restricted_of", expanding=True)))
).order_by(literal_column("id"), literal_column("version"))


class ConsentRepository:
    def __init__(self, conn: AsyncConnection):
        self.conn = conn

    async def add(self, consent_id: str, person: str, office: str, now: datetime) -> None:
        await self.conn.execute(insert(consents).values(id=consent_id, person=person, recorded_office=office,
                                                        created_at=now))

    async def add_version(self, consent_id: str, version: int, terms: ConsentTerms, recorded_by: str,
                          now: datetime) -> None:
        await self.conn.execute(insert(consent_versions).values(
            consent_id=consent_id, version=version, terms=terms.model_dump(mode="json"), recorded_by=recorded_by,
            recorded_at=now))

    async def get(self, consent_id: str):
        """The consent's row (person, recording office, revocation), or None."""
        return (await self.conn.execute(select(consents).where(consents.c.id == consent_id))).first()

    async def latest_version(self, consent_id: str) -> int:
        return int(await self.conn.scalar(select(func.max(consent_versions.c.version))
                                          .where(consent_versions.c.consent_id == consent_id)) or 0)

    async def mark_revoked(self, consent_id: str, now: datetime, by: str, method: RevocationMethod) -> None:
        await self.conn.execute(update(consents).where(consents.c.id == consent_id)
                                .values(revoked_at=now, revoked_by=by, revocation_method=method.value))

    async def of_person(self, person: str, office: str) -> list:
        return (await self.conn.execute(
            select(consents).where(consents.c.person == person, consents.c.recorded_office == office)
            .order_by(consents.c.created_at))).all()

    async def persons_of_office(self, office: str, limit: int) -> list:
        """The persons ``office`` recorded consents for, most recently added first: (person, consents, last)."""
        last = func.max(consents.c.created_at).label("last_recorded")
        return (await self.conn.execute(
            select(consents.c.person, func.count().label("consents"), last)
            .where(consents.c.recorded_office == office).group_by(consents.c.person)
            .order_by(last.desc()).limit(limit))).all()

    async def versions(self, consent_id: str) -> list:
        return (await self.conn.execute(select(consent_versions).where(consent_versions.c.consent_id == consent_id)
                                        .order_by(consent_versions.c.version))).all()

    async def revoked_at(self, consent_id: str) -> datetime | None:
        return await self.conn.scalar(select(consents.c.revoked_at).where(consents.c.id == consent_id))

    async def versions_for_many(self, persons: Iterable[str], offices: Iterable[str]) -> dict[str, list[ConsentVersion]]:
        """Every version of the consents ``offices`` recorded for ``persons``, as the coverage rule
        sees them, in one query: person -> versions, in (consent, version) order."""
        rows = (await self.conn.execute(_VERSIONS_OF, {"persons": sorted(set(persons)),
                                                       "offices": sorted(set(offices))})).all()
        return _versions(rows)

    async def versions_and_restrictions(
            self, persons: Iterable[str], offices: Iterable[str],
            restricted_of: Iterable[str]) -> tuple[dict[str, list[ConsentVersion]], set[str]]:
        """``versions_for_many``, and which of ``restricted_of`` are restricted (Art. 18), in one query."""
        rows = (await self.conn.execute(_VERSIONS_AND_RESTRICTIONS, {
            "persons": sorted(set(persons)), "offices": sorted(set(offices)),
            "restricted_of": sorted(set(restricted_of))})).all()
        return _versions([r for r in rows if r.id is not None]), {r.person for r in rows if r.id is None}


def _versions(rows) -> dict[str, list[ConsentVersion]]:
    """Person -> versions, from rows in (consent, version) order."""
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
