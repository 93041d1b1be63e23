"""Reading checklists: the templates (anyone signed in), a pre-check (the office that made it).

The last functions work inside a unit of work the caller has already entered; the gate uses
``prechecked_payload`` when a referral names a pre-check."""
from __future__ import annotations

from datetime import date

from contracts.checklist import ChecklistSnapshotV1, PrecheckedReferralV1
from contracts.referral import DocumentRef, ReferralV1
from services.checklists.catalogue import Catalogue
from services.infrastructure.db import utcnow
from services.kernel.errors import InvalidInput, NotFound
from services.kernel.identity import Actor
from services.unit_of_work import HubUnitOfWork


async def list_templates(uow: HubUnitOfWork, today: date | None = None) -> dict:
    """Every procedure with its versions, the version current ``today`` and whether all have expired."""
    today = today or utcnow().date()
    async with uow:
        cat = await uow.checklists.catalogue()
    return {"templates": [_template_summary(cat, procedure, today) for procedure in cat.procedures()]}


def _template_summary(cat: Catalogue, procedure: str, today: date) -> dict:
    versions = cat.versions(procedure)
    current = next((t for t in reversed(versions) if t.valid_from <= today
                    and (t.valid_until is None or today <= t.valid_until)), None)
    return {"procedure": procedure, "title": versions[-1].title, "versions": [t.version for t in versions],
            "current_version": current.version if current else None,
            "expired": current is None and versions[-1].valid_from <= today}


async def get_template(uow: HubUnitOfWork, procedure: str, version: int | None = None) -> dict:
    """One version of a template; without ``version`` the latest."""
    async with uow:
        cat = await uow.checklists.catalogue()
    try:
        template = cat.get(procedure, version) if version else cat.versions(procedure)[-1]
    except (KeyError, LookupError, IndexError):
        raise NotFound("Vorlage nicht gefunden.", field="procedure") from None
    return template.model_dump(mode="json")


async def get_precheck(uow: HubUnitOfWork, actor: Actor, precheck_id: str) -> dict:
    async with uow:
        return await own_precheck(uow, actor, precheck_id)


async def own_precheck(uow: HubUnitOfWork, actor: Actor, precheck_id: str) -> dict:
    """A pre-check of the actor's office (another office's is reported as missing); inside an open unit of work."""
    row = await uow.checklists.precheck(precheck_id)
    if row is None or row.office != actor.office:
        raise NotFound("Vorprüfung nicht gefunden.", field="precheck_id")
    return {"precheck_id": row.id, "person": row.person, "procedure": row.procedure, "version": row.version,
            "checked_on": row.checked_on, "complete": row.complete, "result": row.result, "hints": row.hints}


async def prechecked_payload(uow: HubUnitOfWork, actor: Actor, person: str, precheck_id: str,
                             referral: ReferralV1) -> tuple[PrecheckedReferralV1, bool]:
    """The referral with the stored pre-check's snapshot and its documents; and whether it is complete.
    Inside the caller's open unit of work."""
    pc = await own_precheck(uow, actor, precheck_id)
    if pc["person"] != person:
        raise InvalidInput("Die Vorprüfung gehört zu einer anderen Person.", field="precheck_id")
    snapshot = await _snapshot(uow, pc)
    result = pc["result"]
    doc_ids = sorted({d for item in result["items"] for d in item.get("documents", [])})
    refs = [DocumentRef(title=d.title, media_type=d.media_type, sha256=d.sha256)
            for d in await uow.checklists.document_refs(doc_ids)]
    data = referral.model_dump(exclude_none=True, exclude_unset=True)  # a default never sent stays unsent
    if refs:
        data["documents"] = [*data.get("documents", []), *[r.model_dump() for r in refs]]
    return PrecheckedReferralV1(**data, checklist=snapshot), bool(result["complete"])


async def _snapshot(uow: HubUnitOfWork, pc: dict) -> ChecklistSnapshotV1:
    """The pre-check as the recipient sees it, with the template version it was checked against."""
    template = (await uow.checklists.catalogue()).get(pc["procedure"], pc["version"])
    result = pc["result"]
    return ChecklistSnapshotV1(
        procedure=template.procedure, version=template.version, title=template.title,
        legal_basis=template.legal_basis, checked_on=pc["checked_on"], complete=result["complete"],
        open_items=result["open_items"], hints=pc["hints"], disclaimer=result["disclaimer"],
        items=[{k: i.get(k) for k in ("item_id", "label", "legal_reference", "category", "status", "reason",
                                      "documents", "open")} for i in result["items"]],
        not_applicable=[{k: i[k] for k in ("item_id", "label", "reason")} for i in result["not_applicable"]],
    )
