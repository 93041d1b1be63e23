"""Checklists with storage: the catalogue (shipped files + published versions), pre-checks and
uploaded documents, and the pre-checked referral built from a stored pre-check."""
from __future__ import annotations

import hashlib
import uuid
from datetime import date

from pydantic import ValidationError
from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from contracts.checklist import ChecklistSnapshotV1, PrecheckedReferralV1
from contracts.referral import DocumentRef, ReferralV1
from services.checklists.catalogue import Catalogue, PublishError, TemplateExpired, TemplateNotFound, load_shipped_catalogue
from services.checklists.model import TemplateError, parse_template
from services.checklists.precheck import hints, precheck
from services.checklists.sniff import sniff_media_type
from services.checklists.tables import checklist_versions, documents, prechecks
from services.directory.model import Directory
from services.infrastructure.db import utcnow
from services.kernel.errors import Conflict, Forbidden, InvalidInput, NotFound, UnsupportedMediaType
from services.kernel.identity import Actor

SHIPPED = load_shipped_catalogue()


async def catalogue(conn: AsyncConnection) -> Catalogue:
    """The shipped example templates plus every version published over the API."""
    result = SHIPPED
    rows = (await conn.execute(select(checklist_versions.c.template)
                               .order_by(checklist_versions.c.procedure, checklist_versions.c.version))).all()
    for row in rows:
        result = result.publish(parse_template(row.template, "database"))
    return result


async def publish(conn: AsyncConnection, actor: Actor, raw: dict, directory: Directory) -> dict:
    """The owning office's admin publishes a new template version; earlier cases keep theirs."""
    try:
        template = parse_template(raw, "request body")
    except TemplateError as exc:
        raise InvalidInput(str(exc), field="body") from None
    office = directory.office(actor.office)
    if office.kind != template.owner_office_kind or (template.owner_office and template.owner_office != office.id):
        raise Forbidden("Nur die zuständige Stelle darf diese Vorlage veröffentlichen.", field="owner_office_kind")
    try:
        (await catalogue(conn)).publish(template)
    except PublishError as exc:
        raise Conflict(str(exc), field="version") from None
    await conn.execute(insert(checklist_versions).values(
        procedure=template.procedure, version=template.version, template=template.model_dump(mode="json"),
        published_by=actor.user, published_office=actor.office, published_at=utcnow()))
    return {"procedure": template.procedure, "version": template.version, "valid_from": template.valid_from,
            "valid_until": template.valid_until}


async def create_precheck(conn: AsyncConnection, actor: Actor, person: str, procedure: str, facts: dict,
                          statuses: dict, today: date) -> dict:
    try:
        template = (await catalogue(conn)).current(procedure, today)
    except TemplateExpired as exc:
        raise Conflict(f"Die Vorlage ist abgelaufen und kann nicht für neue Vorprüfungen genutzt werden: {exc}",
                       field="procedure") from None
    except TemplateNotFound:
        raise InvalidInput("Unbekannte oder noch nicht gültige Vorlage.", field="procedure") from None
    referenced = {d for entry in statuses.values() if isinstance(entry, dict) for d in entry.get("documents", [])}
    if referenced:
        found = set((await conn.execute(select(documents.c.id).where(
            documents.c.id.in_(referenced), documents.c.office == actor.office,
            documents.c.person == person))).scalars())
        if missing := sorted(referenced - found):
            raise InvalidInput(f"Unbekannte Dokumente: {', '.join(missing)}", field="items")
    try:
        result = precheck(template, facts, statuses, today)
        derived = [str(h) for h in hints(template, facts, today)]
    except ValidationError as exc:
        raise InvalidInput("; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors()),
                           field="facts") from None
    precheck_id = f"pc-{uuid.uuid4().hex}"
    await conn.execute(insert(prechecks).values(
        id=precheck_id, office=actor.office, person=person, procedure=template.procedure, version=template.version,
        checked_on=today, facts=facts, statuses=statuses, result=result.model_dump(mode="json"), hints=derived,
        complete=result.complete, created_by=actor.user, created_at=utcnow()))
    return await get_precheck(conn, actor, precheck_id)


async def get_precheck(conn: AsyncConnection, actor: Actor, precheck_id: str) -> dict:
    row = (await conn.execute(select(prechecks).where(prechecks.c.id == precheck_id))).first()
    if row is None or row.office != actor.office:
        raise NotFound("Vorprüfung nicht gefunden.", field="precheck_id")
    return {"precheck_id": row.id, "person": row.person, "procedure": row.procedure, "version": row.version,
            "checked_on": row.checked_on, "complete": row.complete, "result": row.result, "hints": row.hints}


async def upload(conn: AsyncConnection, actor: Actor, person: str, title: str, declared: str | None,
                 data: bytes) -> dict:
    actual = sniff_media_type(data)
    if actual is None:
        raise UnsupportedMediaType("Nur PDF, JPEG oder PNG (am Inhalt erkannt) sind erlaubt.", field="body")
    if declared and declared.split(";")[0].strip() != actual:
        raise InvalidInput(f"Angegebener Typ {declared} passt nicht zum Inhalt ({actual}).", field="content-type")
    doc_id = f"d-{uuid.uuid4().hex}"
    digest = hashlib.sha256(data).hexdigest()
    await conn.execute(insert(documents).values(
        id=doc_id, office=actor.office, person=person, title=title, media_type=actual, sha256=digest,
        size=len(data), content=data, uploaded_by=actor.user, uploaded_at=utcnow()))
    return {"document_id": doc_id, "media_type": actual, "sha256": digest, "size": len(data), "title": title}


async def prechecked_payload(conn: AsyncConnection, actor: Actor, person: str, precheck_id: str,
                             referral: ReferralV1) -> tuple[PrecheckedReferralV1, bool]:
    """The referral with the stored pre-check's snapshot and its documents; and whether it is complete."""
    pc = await get_precheck(conn, actor, precheck_id)
    if pc["person"] != person:
        raise InvalidInput("Die Vorprüfung gehört zu einer anderen Person.", field="precheck_id")
    template = (await catalogue(conn)).get(pc["procedure"], pc["version"])  # the version it was checked against
    result = pc["result"]
    doc_ids = sorted({d for item in result["items"] for d in item.get("documents", [])})
    docs = (await conn.execute(select(documents.c.id, documents.c.title, documents.c.media_type, documents.c.sha256)
                               .where(documents.c.id.in_(doc_ids)))).all() if doc_ids else []
    snapshot = ChecklistSnapshotV1(
        procedure=template.procedure, version=template.version, title=template.title,
        legal_basis=template.legal_basis, checked_on=pc["checked_on"], complete=result["complete"],
        open_items=result["open_items"], hints=pc["hints"], disclaimer=result["disclaimer"],
        items=[{k: i.get(k) for k in ("item_id", "label", "legal_reference", "category", "status", "reason",
                                      "documents", "open")} for i in result["items"]],
        not_applicable=[{k: i[k] for k in ("item_id", "label", "reason")} for i in result["not_applicable"]],
    )
    refs = [DocumentRef(title=d.title, media_type=d.media_type, sha256=d.sha256) for d in docs]
    data = referral.model_dump(exclude_none=True)
    if refs:
        data["documents"] = [*data.get("documents", []), *[r.model_dump() for r in refs]]
    return PrecheckedReferralV1(**data, checklist=snapshot), bool(result["complete"])


async def document_for_office(conn: AsyncConnection, office: str, sha256: str) -> tuple[bytes, str, str]:
    """A document's content by hash, for a recipient office whose delivered payload names it."""
    row = (await conn.execute(select(documents.c.content, documents.c.media_type, documents.c.title)
                              .where(documents.c.sha256 == sha256).limit(1))).first()
    if row is None:
        raise NotFound("Dokument nicht gefunden.", field="sha256")
    return bytes(row.content), row.media_type, row.title
