"""Publish a template version, store a pre-check, store an uploaded document: one handler each, one
unit of work, one commit. Nothing is changed afterwards: earlier cases keep their template version."""
from __future__ import annotations

import hashlib
import uuid
from datetime import date

from pydantic import ValidationError

from services.checklists.commands import CreatePrecheck, PublishTemplate, UploadDocument
from services.checklists.catalogue import PublishError, TemplateExpired, TemplateNotFound
from services.checklists.facts import CaseFacts
from services.checklists.hints import hints
from services.checklists.conditions import TAG_PREFIX
from services.checklists.model import Template
from services.checklists.precheck import precheck
from services.checklists.sniff import sniff_media_type
from services.checklists.views import own_precheck
from services.directory.model import Directory
from services.infrastructure.db import utcnow
from services.crypto.seal import seal_for_person
from services.kernel.errors import Conflict, Forbidden, InvalidFields, InvalidInput, UnsupportedMediaType
from services.kernel.identity import Actor
from services.keys.holder import Keys
from services.unit_of_work import HubUnitOfWork


async def publish(cmd: PublishTemplate, actor: Actor, uow: HubUnitOfWork, directory: Directory) -> dict:
    """The owning office's admin publishes a new template version; earlier cases keep theirs."""
    template = _valid_template(cmd.template)
    office = directory.office(actor.office)
    if office.kind != template.owner_office_kind or (template.owner_office and template.owner_office != office.id):
        raise Forbidden("Nur die zuständige Stelle darf diese Vorlage veröffentlichen.", field="owner_office_kind")
    async with uow:
        try:
            (await uow.checklists.catalogue()).publish(template)
        except PublishError as exc:
            raise Conflict(exc.german, field="version") from None
        await uow.checklists.add_version(template, actor.user, actor.office, utcnow())
        await uow.commit()
    return {"procedure": template.procedure, "version": template.version, "valid_from": template.valid_from,
            "valid_until": template.valid_until}


async def create_precheck(cmd: CreatePrecheck, actor: Actor, uow: HubUnitOfWork) -> dict:
    """A pre-check of the person's documents against the template version current on ``checked_on``:
    advice (open items, hints), never a decision."""
    today = cmd.checked_on or utcnow().date()
    async with uow:
        template = _current_template(await uow.checklists.catalogue(), cmd.procedure, today)
        referenced = {d for entry in cmd.statuses.values() if isinstance(entry, dict)
                      for d in entry.get("documents", [])}
        found = await uow.checklists.document_ids_of(referenced, actor.office, cmd.person)
        if missing := sorted(referenced - found):
            raise InvalidInput(f"Unbekannte Dokumente: {', '.join(missing)}", field="items")
        try:
            result = precheck(template, cmd.facts, cmd.statuses, today)
            derived = [str(h) for h in hints(template, cmd.facts, today)]
        except ValidationError as exc:
            raise InvalidFields(_in_request(exc)) from None
        precheck_id = f"pc-{uuid.uuid4().hex}"
        await uow.checklists.add_precheck(
            precheck_id, actor.office, cmd.person, template, today, cmd.facts, cmd.statuses,
            result.model_dump(mode="json"), derived, result.complete, actor.user, utcnow())
        stored = await own_precheck(uow, actor, precheck_id)
        await uow.commit()
    return stored


def _valid_template(raw: dict) -> Template:
    """The template to publish; each problem named by its field and item (in German at the gateway)."""
    try:
        return Template.model_validate(raw)
    except ValidationError as exc:
        raise InvalidFields([{**e, "loc": ("body", *(p for p in e["loc"] if not str(p).startswith(TAG_PREFIX)))}
                             for e in exc.errors(include_url=False)]) from None


def _in_request(exc: ValidationError) -> list[dict]:
    """A pre-check's validation errors placed in the request body: under its facts or its items."""
    top = "facts" if exc.title == CaseFacts.__name__ else "items"
    return [{**e, "loc": ("body", top, *e["loc"])} for e in exc.errors(include_url=False)]


def _current_template(catalogue, procedure: str, today: date) -> Template:
    try:
        return catalogue.current(procedure, today)
    except TemplateExpired as exc:
        until = f"{exc.last.valid_until:%d.%m.%Y}" if exc.last.valid_until else "–"
        raise Conflict(f"Die Vorlage ist abgelaufen und kann nicht für neue Vorprüfungen genutzt werden: Ihre "
                       f"letzte Version ({exc.last.version}) galt bis {until}.", field="procedure") from None
    except TemplateNotFound:
        raise InvalidInput("Unbekannte oder noch nicht gültige Vorlage.", field="procedure") from None


async def upload_document(cmd: UploadDocument, actor: Actor, uow: HubUnitOfWork, keys: Keys) -> dict:
    """A copy of a PDF, JPEG or PNG document (the type recognised from the content) for one person,
    stored sealed under the person's key (it is sealed again for an office when a referral names it)."""
    actual = sniff_media_type(cmd.content)
    if actual is None:
        raise UnsupportedMediaType("Nur PDF, JPEG oder PNG (am Inhalt erkannt) sind erlaubt.", field="body")
    if cmd.declared_type and cmd.declared_type.split(";")[0].strip() != actual:
        raise InvalidInput(f"Angegebener Typ {cmd.declared_type} passt nicht zum Inhalt ({actual}).",
                           field="content-type")
    doc_id = f"d-{uuid.uuid4().hex}"
    digest = hashlib.sha256(cmd.content).hexdigest()
    async with uow:
        now = utcnow()
        sealed = seal_for_person(cmd.content, await keys.person_keys(uow).for_sealing(cmd.person, now))
        await uow.checklists.add_document(doc_id, actor.office, cmd.person, cmd.title, actual, digest,
                                          sealed.encode(), len(cmd.content), actor.user, now)
        await uow.commit()
    return {"document_id": doc_id, "media_type": actual, "sha256": digest, "size": len(cmd.content),
            "title": cmd.title}
