"""Amending a consent on the case manager's pages: the form prefilled from the current version (every
provision, one fieldset each), what changes in plain German (before and after, updated while the form is
edited), a new version on saving (``AmendConsent``, as ``POST /consents/{id}/versions``). The earlier
versions stay as they were."""
from __future__ import annotations

from datetime import timezone

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse
from pydantic import ValidationError
from starlette.datastructures import FormData

from contracts.consent import ConsentTerms
from gateway.deps import bus, new_uow
from gateway.web.case_manager import LANGUAGES, PERSON, PersonPath, case_manager
from gateway.web.forms import (consent_fields, consent_terms, edits_provisions, messages, provision_fields,
                               signed_form_sha256)
from gateway.web.render import page
from gateway.web.session import csrf_checked
from services.consent import views as consents
from services.consent.commands import AmendConsent
from services.consent.explain import changes, covered
from services.kernel.errors import Conflict, NotFound, ServiceError
from services.kernel.identity import Actor

router = APIRouter(prefix="/ui/personen")
AMEND = f"/{PERSON}/einwilligungen/{{consent_id}}/aendern"


@router.get(AMEND)
async def amend_form(request: Request, person: PersonPath, consent_id: str, actor: Actor = Depends(case_manager)):
    current = await _current(request, actor, person, consent_id)
    return _page(request, person, consent_id, current, _prefill(current))


@router.post(AMEND, dependencies=[Depends(csrf_checked)])
async def amend(request: Request, person: PersonPath, consent_id: str, actor: Actor = Depends(case_manager)):
    current = await _current(request, actor, person, consent_id)
    form = await request.form()
    if edits_provisions(form):  # "Weitere Bestimmung hinzufügen" or "Bestimmung entfernen": nothing saved
        return _page(request, person, consent_id, current, form)
    try:
        terms = ConsentTerms.model_validate(consent_terms(form, await signed_form_sha256(form)))
        await bus(request).handle(AmendConsent(consent_id=consent_id, terms=terms), actor)
    except (ValidationError, ServiceError) as exc:
        return _page(request, person, consent_id, current, form, messages(exc))
    return RedirectResponse(f"/ui/personen/{person}?geaendert=1", status_code=303)


@router.post(AMEND + "/vorschau", dependencies=[Depends(csrf_checked)])
async def preview(request: Request, person: PersonPath, consent_id: str, actor: Actor = Depends(case_manager)):
    """What the form as it stands would change (htmx puts it into the page while the form is edited)."""
    current = await _current(request, actor, person, consent_id)
    return page(request, "_consent_changes.html", **_changes(request, current, await request.form()))


async def _current(request: Request, actor: Actor, person: str, consent_id: str) -> ConsentTerms:
    """The terms of the consent's current version; a consent of another person or office is not found."""
    found = await consents.get(new_uow(request), actor, consent_id)
    if found.person != person:
        raise NotFound("Einwilligung nicht gefunden.", field="consent_id")
    if found.revoked_at is not None:
        raise Conflict("Die Einwilligung wurde widerrufen und kann nicht geändert werden.", field="consent_id")
    return ConsentTerms.model_validate(found.versions[-1]["terms"])


def _prefill(current: ConsentTerms) -> FormData:
    """The form as the current version has it: every provision, one fieldset each."""
    until = current.valid_until.astimezone(timezone.utc).date().isoformat() if current.valid_until else ""
    return FormData([
        ("municipality", current.municipality), *provision_fields(current.provisions),
        ("valid_from", current.valid_from.astimezone(timezone.utc).date().isoformat()), ("valid_until", until),
        ("form_version", current.evidence.form_version), ("language", current.evidence.language)])


def _changes(request: Request, current: ConsentTerms, form) -> dict:
    """Before and after in plain German; the signed form is compared only on saving (not uploaded twice)."""
    names = request.app.state.hub.directory.municipality_names
    try:
        after = ConsentTerms.model_validate(consent_terms(form, current.evidence.form_sha256))
    except ValidationError as exc:
        return {"changes": None, "incomplete": messages(exc)}
    place_before, place_after = (names.get(current.municipality, current.municipality),
                                 names.get(after.municipality, after.municipality))
    return {"changes": changes(current, after, _office_name(request), place_before, place_after), "incomplete": []}


def _office_name(request: Request):
    offices = request.app.state.hub.directory.offices
    return lambda o: offices[o].name if o in offices else o


def _page(request: Request, person: str, consent_id: str, current: ConsentTerms, form, errors: list[str] | None = None):
    names = request.app.state.hub.directory.municipality_names
    office_name = _office_name(request)
    place = names.get(current.municipality, current.municipality)
    named = [p.recipient.office for p in current.provisions if p.recipient.office]
    return page(request, "consent_amend.html", status_code=422 if errors else 200, title="Einwilligung ändern",
                person=person, consent_id=consent_id, form=form, errors=errors or [], languages=LANGUAGES,
                municipalities=sorted(names.items(), key=lambda kv: kv[1]), **consent_fields(form, named),
                before=covered(current, office_name, place), **_changes(request, current, form))
