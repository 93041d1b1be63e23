"""The checklists handlers and views on PostgreSQL, each in its own unit of work: a template version,
a pre-check and a document are stored once and never changed; a refused one stores nothing; an office
sees only its own pre-checks; the pre-checked referral carries the snapshot and the document refs."""
from __future__ import annotations

import hashlib
import uuid
from datetime import date

import pytest

from services.crypto.person_keys import PersonKeys
from services.crypto.seal import open_for_person, person_key_id
from services.keys.repository import PersonKeyRepository
from tests.conftest import make_keys
from sqlalchemy import func, select

from contracts.referral import ReferralV1
from services.checklists import handlers, views
from services.checklists.commands import CreatePrecheck, PublishTemplate, UploadDocument
from services.checklists.tables import documents, prechecks
from services.kernel.errors import Conflict, Forbidden, InvalidInput, NotFound, UnsupportedMediaType
from services.kernel.identity import Actor, Role
from services.unit_of_work import HubUnitOfWork
from tests.conftest import make_audit_log

AUDIT = make_audit_log()

CM = Actor("cm.rsk", "rsk-kim", roles=frozenset({Role.CASE_MANAGER}))
OTHER = Actor("cm.me", "me-kim", roles=frozenset({Role.CASE_MANAGER}))
EBH_ADMIN = Actor("admin.troisdorf-ebh", "troisdorf-ebh", roles=frozenset({Role.ADMIN}))
ABH_ADMIN = Actor("admin.troisdorf-abh", "troisdorf-abh", roles=frozenset({Role.ADMIN}))

PDF = b"%PDF-1.7\n% kimhub test document\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
FACTS = {"date_of_birth": "1990-04-02", "entry_date": "2017-03-15", "family_status": "ledig",
         "has_children": False, "has_passport": True, "receives_benefits": False,
         "german_school_certificate": False}
ALL_PRESENT = {i: {"status": "present"} for i in
               ("pass", "aufenthaltstitel", "meldebescheinigung", "geburtsurkunde", "lebensunterhalt",
                "sprachnachweis", "einbuergerungstest")}
CHECKED_ON = date(2026, 3, 1)


def uow(engine) -> HubUnitOfWork:
    return HubUnitOfWork(engine, AUDIT)


def new_person() -> str:
    return f"p-{uuid.uuid4().hex}"


def template(procedure: str, version: int = 1, valid_from: str = "2026-01-01", kind: str = "ebh") -> dict:
    return {"procedure": procedure, "version": version, "title": "Testvorlage", "legal_basis": "§ 1 Test",
            "owner_office_kind": kind, "valid_from": valid_from, "example": True, "review_note": "Nur für Tests",
            "items": [{"id": "pass", "label": "Pass", "documents": ["Nationalpass"],
                       "legal_reference": "§ 1 Test", "category": "stammdaten"}]}


async def upload(engine, person: str, content: bytes = PDF, declared: str | None = "application/pdf",
                 actor: Actor = CM) -> dict:
    return await handlers.upload_document(UploadDocument(person=person, title="Reisepass", declared_type=declared,
                                                         content=content), actor, uow(engine), make_keys())


async def create_precheck(engine, person: str, statuses: dict, procedure: str = "einbuergerung-stag-10",
                          actor: Actor = CM, checked_on: date = CHECKED_ON) -> dict:
    return await handlers.create_precheck(CreatePrecheck(person=person, procedure=procedure, facts=FACTS,
                                                         statuses=statuses, checked_on=checked_on), actor, uow(engine))


async def count(engine, table, person: str) -> int:
    async with engine.connect() as conn:
        return await conn.scalar(select(func.count()).select_from(table).where(table.c.person == person))


async def test_an_upload_is_stored_with_the_type_found_in_its_content(engine):
    person = new_person()
    stored = await upload(engine, person, PNG, "image/png; charset=binary")
    assert stored["media_type"] == "image/png" and stored["sha256"] == hashlib.sha256(PNG).hexdigest()
    async with engine.connect() as conn:
        row = (await conn.execute(select(documents).where(documents.c.id == stored["document_id"]))).one()
    assert (row.media_type, row.title, row.size) == ("image/png", "Reisepass", len(PNG))
    assert PNG not in bytes(row.content)  # stored sealed under the person's key
    keys = make_keys()
    async with engine.connect() as conn:
        key = await PersonKeys(PersonKeyRepository(conn), keys.master).for_opening(person_key_id(row.content.decode()))
    assert open_for_person(bytes(row.content).decode(), key) == PNG


async def test_an_upload_of_another_type_or_a_wrong_declaration_stores_nothing(engine):
    person = new_person()
    with pytest.raises(UnsupportedMediaType):
        await upload(engine, person, b"plain text", None)
    with pytest.raises(InvalidInput, match="passt nicht zum Inhalt"):
        await upload(engine, person, PDF, "image/png")
    assert await count(engine, documents, person) == 0


async def test_a_precheck_is_stored_and_seen_only_by_its_office(engine):
    person = new_person()
    doc = (await upload(engine, person))["document_id"]
    pc = await create_precheck(engine, person, {**ALL_PRESENT, "pass": {"status": "verified", "documents": [doc]}})
    assert (pc["procedure"], pc["version"], pc["checked_on"], pc["complete"]) == (
        "einbuergerung-stag-10", 1, CHECKED_ON, True)
    assert await views.get_precheck(uow(engine), CM, pc["precheck_id"]) == pc
    with pytest.raises(NotFound):
        await views.get_precheck(uow(engine), OTHER, pc["precheck_id"])


async def test_a_precheck_naming_a_document_of_another_office_or_person_stores_nothing(engine):
    person = new_person()
    theirs = (await upload(engine, person, actor=OTHER))["document_id"]
    other_persons = (await upload(engine, new_person()))["document_id"]
    for doc in (theirs, other_persons, "d-unknown"):
        with pytest.raises(InvalidInput, match="Unbekannte Dokumente"):
            await create_precheck(engine, person, {"pass": {"status": "verified", "documents": [doc]}})
    assert await count(engine, prechecks, person) == 0


async def test_an_expired_or_unknown_template_is_refused(engine):
    person = new_person()
    with pytest.raises(Conflict, match=r"abgelaufen .*: Ihre letzte Version \(\d+\) galt bis \d\d\.\d\d\.\d{4}\.$"):
        await create_precheck(engine, person, {}, procedure="aufenthg-104c", checked_on=date(2026, 6, 1))
    with pytest.raises(InvalidInput, match="Unbekannte"):
        await create_precheck(engine, person, {}, procedure="no-such-procedure")
    assert (await create_precheck(engine, person, {}, procedure="aufenthg-104c",
                                  checked_on=date(2024, 1, 1)))["version"] == 1


async def test_the_prechecked_referral_carries_the_snapshot_and_the_document_refs(engine):
    person = new_person()
    doc = await upload(engine, person)
    pc = await create_precheck(engine, person, {k: v for k, v in ALL_PRESENT.items() if k != "sprachnachweis"}
                               | {"pass": {"status": "verified", "documents": [doc["document_id"]]}})
    referral = ReferralV1(reason="Einbürgerung", requested_action="Prüfen")
    async with uow(engine) as unit:
        payload, complete = await views.prechecked_payload(unit, CM, person, pc["precheck_id"], referral)
        with pytest.raises(InvalidInput, match="anderen Person"):
            await views.prechecked_payload(unit, CM, new_person(), pc["precheck_id"], referral)
        with pytest.raises(NotFound):
            await views.prechecked_payload(unit, OTHER, person, pc["precheck_id"], referral)
    assert complete is False and payload.checklist.open_items == ["sprachnachweis"]
    assert (payload.checklist.procedure, payload.checklist.version) == ("einbuergerung-stag-10", 1)
    assert [(d.title, d.sha256) for d in payload.documents] == [("Reisepass", doc["sha256"])]
    assert payload.reason == "Einbürgerung"


async def test_published_versions_join_the_catalogue_and_are_never_replaced(engine, directory):
    procedure = f"test-{uuid.uuid4().hex[:12]}"
    published = await handlers.publish(PublishTemplate(template=template(procedure)), EBH_ADMIN, uow(engine),
                                       directory)
    assert (published["procedure"], published["version"], published["valid_from"]) == (procedure, 1,
                                                                                        date(2026, 1, 1))
    with pytest.raises(Conflict):
        await handlers.publish(PublishTemplate(template=template(procedure)), EBH_ADMIN, uow(engine), directory)
    with pytest.raises(Forbidden):
        await handlers.publish(PublishTemplate(template=template(procedure, 2, "2026-06-01")), ABH_ADMIN,
                               uow(engine), directory)
    with pytest.raises(InvalidInput):
        await handlers.publish(PublishTemplate(template={"procedure": procedure}), EBH_ADMIN, uow(engine), directory)
    await handlers.publish(PublishTemplate(template=template(procedure, 2, "2026-06-01")), EBH_ADMIN, uow(engine),
                           directory)
    listed = {t["procedure"]: t for t in (await views.list_templates(uow(engine), date(2026, 3, 1)))["templates"]}
    assert listed[procedure] == {"procedure": procedure, "title": "Testvorlage", "versions": [1, 2],
                                 "current_version": 1, "expired": False}
    assert (await views.get_template(uow(engine), procedure))["version"] == 2
    assert (await views.get_template(uow(engine), procedure, 1))["valid_from"] == "2026-01-01"
    with pytest.raises(NotFound):
        await views.get_template(uow(engine), procedure, 3)
