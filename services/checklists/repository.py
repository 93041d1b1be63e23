"""Checklist versions, pre-checks and documents in the database. A published template version, a
pre-check and a document are added, never changed; the catalogue is the shipped files plus every
published version."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from services.checklists.catalogue import Catalogue, load_shipped_catalogue
from services.checklists.model import Template, parse_template
from services.checklists.tables import checklist_versions, documents, prechecks

SHIPPED = load_shipped_catalogue()


class ChecklistRepository:
    def __init__(self, conn: AsyncConnection):
        self.conn = conn

    async def catalogue(self) -> Catalogue:
        """The shipped example templates plus every version published over the API."""
        result = SHIPPED
        rows = (await self.conn.execute(select(checklist_versions.c.template)
                                        .order_by(checklist_versions.c.procedure, checklist_versions.c.version))).all()
        for row in rows:
            result = result.publish(parse_template(row.template, "database"))
        return result

    async def add_version(self, template: Template, published_by: str, office: str, now: datetime) -> None:
        await self.conn.execute(insert(checklist_versions).values(
            procedure=template.procedure, version=template.version, template=template.model_dump(mode="json"),
            published_by=published_by, published_office=office, published_at=now))

    async def add_precheck(self, precheck_id: str, office: str, person: str, template: Template, checked_on: date,
                           facts: dict, statuses: dict, result: dict, hints: list[str], complete: bool,
                           created_by: str, now: datetime) -> None:
        await self.conn.execute(insert(prechecks).values(
            id=precheck_id, office=office, person=person, procedure=template.procedure, version=template.version,
            checked_on=checked_on, facts=facts, statuses=statuses, result=result, hints=hints, complete=complete,
            created_by=created_by, created_at=now))

    async def precheck(self, precheck_id: str):
        """The pre-check's row, or None."""
        return (await self.conn.execute(select(prechecks).where(prechecks.c.id == precheck_id))).first()

    async def add_document(self, document_id: str, office: str, person: str, title: str, media_type: str,
                           sha256: str, sealed: bytes, size: int, uploaded_by: str, now: datetime) -> None:
        """``sealed``: the content sealed under the person's key; ``size`` the plaintext's."""
        await self.conn.execute(insert(documents).values(
            id=document_id, office=office, person=person, title=title, media_type=media_type, sha256=sha256,
            size=size, content=sealed, uploaded_by=uploaded_by, uploaded_at=now))

    async def document_ids_of(self, ids: set[str], office: str, person: str) -> set[str]:
        """Those of ``ids`` that ``office`` uploaded for ``person``."""
        if not ids:
            return set()
        return set((await self.conn.execute(select(documents.c.id).where(
            documents.c.id.in_(ids), documents.c.office == office, documents.c.person == person))).scalars())

    async def document_refs(self, ids: list[str]) -> list:
        """Title, media type and hash (no content) of the documents ``ids``."""
        if not ids:
            return []
        return (await self.conn.execute(
            select(documents.c.id, documents.c.title, documents.c.media_type, documents.c.sha256)
            .where(documents.c.id.in_(ids)))).all()

    async def sealed_documents(self, office: str, person: str) -> dict[str, bytes]:
        """sha256 → stored content (sealed for the person) of what ``office`` uploaded for ``person``."""
        rows = await self.conn.execute(select(documents.c.sha256, documents.c.content).where(
            documents.c.office == office, documents.c.person == person))
        return {r.sha256: bytes(r.content) for r in rows}

    async def media_type_of(self, sha256: str) -> str:
        return (await self.conn.execute(select(documents.c.media_type).where(documents.c.sha256 == sha256)
                                        .limit(1))).scalar() or "application/octet-stream"
