"""The consent handlers on PostgreSQL, each in its own unit of work: versions are added, never
overwritten; every change is published; a refused change commits nothing."""
from __future__ import annotations

import hashlib
import json
from datetime import datetime, timezone

import pytest
from sqlalchemy import select

from contracts.consent import ConsentTerms, RevocationMethod
from services.consent import handlers, views
from services.consent.commands import AmendConsent, RecordConsent, RevokeConsent
from services.consent.repository import ConsentRepository
from services.unit_of_work import HubUnitOfWork
from services.consent.tables import consent_versions
from services.infrastructure import topics
from services.kernel.errors import Conflict, NotFound
from services.kernel.identity import Actor, Role
from services.directory.model import load_directory
from services.kernel.settings import Settings
from tests.conftest import make_audit_log, make_keys

from services.infrastructure.tables import outbox

AUDIT = make_audit_log()

CM = Actor("cm.rsk", "rsk-kim", roles=frozenset({Role.CASE_MANAGER}))
OTHER = Actor("cm.me", "me-kim", roles=frozenset({Role.CASE_MANAGER}))


def terms(categories: list[str], municipality: str = "05382068") -> ConsentTerms:
    return ConsentTerms.model_validate({
        "municipality": municipality,
        "provisions": [{"recipient": {"kind": "abh"}, "purposes": ["aufenthaltsperspektive"],
                        "categories": categories}],
        "valid_from": "2025-01-01T00:00:00Z",
        "valid_until": "2099-01-01T00:00:00Z",
        "evidence": {"form_sha256": hashlib.sha256(b"signed form").hexdigest(), "form_version": "KIM-EW-2025-1",
                     "language": "ar"},
    })


V1_TERMS = terms(["stammdaten", "falldaten"])
V2_TERMS = terms(["stammdaten", "falldaten", "sozialdaten"])


def uow(engine) -> HubUnitOfWork:
    return HubUnitOfWork(engine, AUDIT)


async def record(engine, directory, terms_: ConsentTerms, actor: Actor = CM):
    return await handlers.record(RecordConsent(terms=terms_), actor, uow(engine), directory)


async def amend(engine, directory, consent_id: str, terms_: ConsentTerms, actor: Actor = CM):
    return await handlers.amend(AmendConsent(consent_id=consent_id, terms=terms_), actor, uow(engine), directory,
                                make_keys())


async def revoke(engine, consent_id: str, method: RevocationMethod, actor: Actor = CM):
    return await handlers.revoke(RevokeConsent(consent_id=consent_id, method=method), actor, uow(engine),
                                 load_directory(Settings().directory_file), make_keys())


async def _versions_rows(conn, consent_id: str):
    return (await conn.execute(
        select(consent_versions).where(consent_versions.c.consent_id == consent_id).order_by(consent_versions.c.version)
    )).all()


async def _consent_events(conn, person: str):
    """The person's consent events (by their subject: the key is the consent id, for compaction)."""
    rows = (await conn.execute(
        select(outbox).where(outbox.c.topic == topics.CONSENT, outbox.c.headers["ce_subject"].as_string() == person)
        .order_by(outbox.c.id)
    )).all()
    return rows


async def test_record_amend_revoke_lifecycle(engine, directory):
    recorded = await record(engine, directory, V1_TERMS)
    consent_id, person = recorded.consent_id, recorded.person
    assert [v["version"] for v in recorded.versions] == [1]
    async with engine.connect() as conn:
        v1_row = (await _versions_rows(conn, consent_id))[0]
    view = await views.get(uow(engine), CM, consent_id)
    assert view == recorded
    assert view.person == person and view.recorded_office == "rsk-kim" and view.revoked_at is None
    assert [v["version"] for v in view.versions] == [1]
    assert ConsentTerms.model_validate(view.versions[0]["terms"]) == V1_TERMS

    assert [v["version"] for v in (await amend(engine, directory, consent_id, V2_TERMS)).versions] == [1, 2]
    async with engine.connect() as conn:
        rows = await _versions_rows(conn, consent_id)
    assert [r.version for r in rows] == [1, 2]
    assert rows[0] == v1_row  # version 1 unchanged, byte for byte
    assert ConsentTerms.model_validate(rows[0].terms) == V1_TERMS
    assert ConsentTerms.model_validate(rows[1].terms) == V2_TERMS
    assert rows[1].recorded_at >= rows[0].recorded_at

    revoked_at = (await revoke(engine, consent_id, RevocationMethod.WRITTEN)).revoked_at
    assert revoked_at.tzinfo is not None
    view = await views.get(uow(engine), CM, consent_id)
    async with engine.connect() as conn:
        assert await _versions_rows(conn, consent_id) == rows  # revocation adds no version, changes none
    assert view.revoked_at == revoked_at
    assert view.revoked_by == "cm.rsk"
    assert view.revocation_method == RevocationMethod.WRITTEN.value

    with pytest.raises(Conflict):
        await amend(engine, directory, consent_id, V1_TERMS)
    with pytest.raises(Conflict):
        await revoke(engine, consent_id, RevocationMethod.ORAL)
    async with engine.connect() as conn:
        assert len(await _versions_rows(conn, consent_id)) == 2
        assert len(await _consent_events(conn, person)) == 3  # the refused changes published nothing


async def test_other_office_sees_nothing(engine, directory):
    recorded = await record(engine, directory, V1_TERMS)
    consent_id, person = recorded.consent_id, recorded.person
    for attempt in (
        lambda: views.get(uow(engine), OTHER, consent_id),
        lambda: amend(engine, directory, consent_id, V2_TERMS, actor=OTHER),
        lambda: revoke(engine, consent_id, RevocationMethod.ELECTRONIC, actor=OTHER),
    ):
        with pytest.raises(NotFound):
            await attempt()
    assert await views.of_person(uow(engine), OTHER, person) == []
    view = await views.get(uow(engine), CM, consent_id)
    assert view.revoked_at is None and len(view.versions) == 1
    async with engine.connect() as conn:
        assert await ConsentRepository(conn).versions_for_many([person], [OTHER.office]) == {}
        assert len(await _consent_events(conn, person)) == 1


async def test_versions_for_and_outbox_events(engine, directory):
    recorded = await record(engine, directory, V1_TERMS)
    consent_id, person = recorded.consent_id, recorded.person
    await amend(engine, directory, consent_id, V2_TERMS)

    async with engine.connect() as conn:
        v1, v2 = (await ConsentRepository(conn).versions_for_many([person], [CM.office]))[person]
    assert (v1.consent_id, v1.version, v2.version) == (consent_id, 1, 2)
    assert v1.person == v2.person == person and v1.recorded_office == "rsk-kim"
    assert v1.municipality == "05382068"
    assert v1.superseded_at == v2.recorded_at
    assert v2.superseded_at is None
    assert v1.revoked_at is None and v2.revoked_at is None
    assert {c for p in v1.provisions for c in p.categories} == {"stammdaten", "falldaten"}
    assert {c for p in v2.provisions for c in p.categories} == {"stammdaten", "falldaten", "sozialdaten"}
    assert v1.provisions[0].kind == "abh" and v1.provisions[0].office is None
    assert v1.valid_from == datetime(2025, 1, 1, tzinfo=timezone.utc)

    revoked_at = (await revoke(engine, consent_id, RevocationMethod.ORAL)).revoked_at
    async with engine.connect() as conn:
        versions = (await ConsentRepository(conn).versions_for_many([person], [CM.office]))[person]
        events = await _consent_events(conn, person)
    assert [v.version for v in versions] == [1, 2]
    assert all(v.revoked_at == revoked_at for v in versions)
    assert versions[0].superseded_at == versions[1].recorded_at

    # record, amend, revoke: three events on kim.consent.v1, keyed by the consent, subject-ed by the person
    assert len(events) == 3
    headers = [e.headers for e in events]
    for h in headers:
        assert h["ce_specversion"] == "1.0"
        assert h["ce_subject"] == person
        assert h["ce_source"] == handlers.SOURCE
        assert h["content-type"] == "application/json"
        assert h["ce_dataschema"].startswith("urn:kimhub:schema:")
        datetime.fromisoformat(h["ce_time"].replace("Z", "+00:00"))
    assert [h["ce_type"] for h in headers] == [
        "de.nrw.kim.consent.version.v1", "de.nrw.kim.consent.version.v1", "de.nrw.kim.consent.revoked.v1"]
    assert len({h["ce_id"] for h in headers}) == 3
    assert [h["ce_id"] for h in headers] == [f"{consent_id}/v1", f"{consent_id}/v2", f"{consent_id}/revoked"]
    assert all(e.key == consent_id for e in events)  # compaction keeps each consent's latest event
    bodies = [json.loads(e.value) for e in events]
    assert [b["event"] for b in bodies] == ["granted", "amended", "revoked"]
    assert [b.get("version") for b in bodies] == [1, 2, None]
    assert all(b["consent_id"] == consent_id and b["person"] == person for b in bodies)
