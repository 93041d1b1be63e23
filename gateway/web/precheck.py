"""The optional checklist pre-check of a referral page: the template's items with a status and a
document each, the case facts its conditions ask about; stored as a pre-check before the referral."""
from __future__ import annotations

from starlette.datastructures import UploadFile

from gateway.deps import bus, new_uow
from gateway.web.forms import read_upload
from services.checklists import views as checklists
from services.checklists.commands import CreatePrecheck, UploadDocument
from services.checklists.facts import FACTS
from services.checklists.precheck import ItemStatus
from services.kernel.errors import InvalidInput
from services.kernel.identity import Actor

BASE_FACT = {"age": "date_of_birth", "years_since_entry": "entry_date"}  # derived facts and what they come from
STATUSES = [(s.value, s.label) for s in ItemStatus]


async def current_templates(request) -> list[dict]:
    """Procedures with a version valid today, for the choice on the referral page."""
    listed = await checklists.list_templates(new_uow(request))
    return [t for t in listed["templates"] if t["current_version"] is not None]


async def checklist(request, procedure: str | None) -> dict | None:
    """The chosen template with the facts its conditions ask about (label, kind, choices)."""
    if not procedure:
        return None
    template = await checklists.get_template(new_uow(request), procedure)
    names = dict.fromkeys(BASE_FACT.get(n, n) for item in template["items"] for n in _facts_in(item.get("applies_if")))
    facts = [{"name": n, "label": FACTS[n].label, "kind": FACTS[n].kind,
              "choices": [(m.value, m.label) for m in FACTS[n].enum] if FACTS[n].enum else []}
             for n in names if n in FACTS]
    return {**template, "facts": facts, "statuses": STATUSES}


def _facts_in(condition) -> list[str]:
    if isinstance(condition, dict):
        found = [condition["fact"]] if isinstance(condition.get("fact"), str) else []
        return found + [n for value in condition.values() for n in _facts_in(value)]
    if isinstance(condition, list):
        return [n for value in condition for n in _facts_in(value)]
    return []


async def store(request, actor: Actor, person: str, form) -> str | None:
    """Upload the items' documents and store the pre-check; its id (None when no checklist was chosen)."""
    template = await checklist(request, form.get("procedure") or None)
    if template is None:
        return None
    statuses = {}
    for item in template["items"]:
        status = form.get(f"status_{item['id']}")
        if not status:
            continue
        documents = await _upload(request, actor, person, form.get(f"file_{item['id']}"), item["label"])
        statuses[item["id"]] = {"status": status, "reason": form.get(f"reason_{item['id']}") or None,
                                "documents": documents}
    facts = {f["name"]: _fact(f, form.get(f"fact_{f['name']}")) for f in template["facts"]
             if form.get(f"fact_{f['name']}")}
    stored = await bus(request).handle(CreatePrecheck(person=person, procedure=template["procedure"], facts=facts,
                                                      statuses=statuses), actor)
    return stored["precheck_id"]


def _fact(spec: dict, value: str):
    return {"ja": True, "nein": False}.get(value, value) if spec["kind"] == "bool" else value


async def _upload(request, actor: Actor, person: str, upload, title: str) -> list[str]:
    try:
        content = await read_upload(upload if isinstance(upload, UploadFile) else None,
                                    request.app.state.hub.settings.max_document_bytes)
    except ValueError:
        raise InvalidInput(f"{title}: Die Datei ist zu groß.", field="document") from None
    if content is None:
        return []
    stored = await bus(request).handle(UploadDocument(person=person, title=title[:200], declared_type=None,
                                                      content=content), actor)
    return [stored["document_id"]]
