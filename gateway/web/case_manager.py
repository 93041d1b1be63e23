"""Case manager pages: persons and their consents, referrals to the competent office, answers to
requests from offices."""
from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import RedirectResponse
from pydantic import ValidationError
from starlette.datastructures import FormData, UploadFile

from contracts.consent import PERSON_PATTERN, ConsentTerms
from contracts.referral import DocumentRef, ReferralV1
from gateway.deps import bus, directory, keys, new_uow
from gateway.web import precheck
from gateway.web.forms import consent_fields, consent_terms, edits_provisions, messages, read_upload, signed_form_sha256
from gateway.web.rectify_form import rectifiable
from gateway.web.render import page
from gateway.web.session import csrf_checked, page_for
from services.checklists.commands import UploadDocument
from services.consent import views as consents
from services.consent.commands import RecordConsent, RevokeConsent
from services.gate import views as transfers
from services.gate.commands import SendTransfer
from services.infrastructure.db import utcnow
from services.kernel.errors import NotFound, ServiceError
from services.kernel.identity import Actor, Role

router = APIRouter(prefix="/ui/personen")
case_manager = page_for(Role.CASE_MANAGER)
LANGUAGES = {"de": "Deutsch", "ar": "Arabisch", "en": "Englisch", "fa": "Persisch (Farsi)", "ru": "Russisch",
             "ti": "Tigrinya", "tr": "Türkisch", "uk": "Ukrainisch"}
PERSON = "{person}"
PersonPath = Annotated[str, Path(pattern=PERSON_PATTERN)]


@router.get("")
async def persons(request: Request, actor: Actor = Depends(case_manager)):
    rows = await consents.persons(new_uow(request), actor)
    return page(request, "persons.html", title="Personen und Einwilligungen", persons=rows)


@router.get("/neu")
async def new_consent_form(request: Request, actor: Actor = Depends(case_manager)):
    return _consent_form(request, FormData())


def _consent_form(request: Request, form: dict, errors: list[str] | None = None):
    names = request.app.state.hub.directory.municipality_names
    return page(request, "consent_form.html", status_code=422 if errors else 200,
                title="Einwilligung erfassen", form=form, errors=errors or [], languages=LANGUAGES,
                municipalities=sorted(names.items(), key=lambda kv: kv[1]), **consent_fields(form))


@router.post("/neu", dependencies=[Depends(csrf_checked)])
async def record_consent(request: Request, actor: Actor = Depends(case_manager)):
    form = await request.form()
    if edits_provisions(form):  # "Weitere Bestimmung hinzufügen" or "Bestimmung entfernen": nothing saved
        return _consent_form(request, form)
    try:
        terms = ConsentTerms.model_validate(consent_terms(form, await signed_form_sha256(form)))
        result = await bus(request).handle(RecordConsent(terms=terms), actor)
    except (ValidationError, ServiceError) as exc:
        return _consent_form(request, form, messages(exc))
    return RedirectResponse(f"/ui/personen/{result.person}?erfasst=1", status_code=303)


@router.get(f"/{PERSON}")
async def person(request: Request, person: PersonPath, erfasst: bool = False, gesendet: str | None = None,
                 widerrufen: bool = False, geaendert: bool = False, berichtigt: str | None = None,
                 actor: Actor = Depends(case_manager)):
    found = await consents.of_person(new_uow(request), actor, person)
    if not found:
        raise NotFound("Für diese Person hat Ihre Stelle keine Einwilligung erfasst.", field="person")
    timeline = await transfers.timeline(new_uow(request), actor, person, utcnow().date(), keys(request),
                                     directory(request))
    names = request.app.state.hub.directory.municipality_names
    return page(request, "person.html", title="Person", person=person, consents=found, timeline=timeline,
                recorded=erfasst, sent=gesendet, revoked=widerrufen, amended=geaendert, rectified=berichtigt,
                rectifiable=rectifiable, municipality_name=lambda k: names.get(k, k), languages=LANGUAGES)


async def _municipality(request: Request, actor: Actor, person: str) -> str:
    """Where the person lives, as their latest consent says."""
    found = await consents.of_person(new_uow(request), actor, person)
    if not found:
        raise NotFound("Für diese Person hat Ihre Stelle keine Einwilligung erfasst.", field="person")
    return found[-1].versions[-1]["terms"]["municipality"]


@router.post(f"/{PERSON}/einwilligungen/{{consent_id}}/widerruf", dependencies=[Depends(csrf_checked)])
async def revoke_consent(request: Request, person: PersonPath, consent_id: str, actor: Actor = Depends(case_manager)):
    """Record a revocation (how it was declared); transfers not yet delivered are withheld."""
    form = await request.form()
    try:
        await bus(request).handle(RevokeConsent(consent_id=consent_id, method=form.get("method", "")), actor)
    except ValidationError as exc:
        return page(request, "error.html", status_code=422, title="Widerruf nicht gespeichert",
                    message=" ".join(messages(exc)))
    return RedirectResponse(f"/ui/personen/{person}?widerrufen=1", status_code=303)


@router.get(f"/{PERSON}/ueberleitung")
async def referral_form(request: Request, person: PersonPath, verfahren: str | None = None,
                        actor: Actor = Depends(case_manager)):
    await _municipality(request, actor, person)
    return await _referral_page(request, person, FormData({"procedure": verfahren or ""}))


async def _referral_page(request: Request, person: str, form, errors: list[str] | None = None, outcome=None):
    """The referral form; with a chosen checklist, its items to pre-check."""
    return page(request, "referral_form.html", status_code=422 if errors else 200,
                title="Überleitung an die Ausländerbehörde", person=person, form=form, errors=errors or [],
                outcome=outcome, templates=await precheck.current_templates(request),
                checklist=await precheck.checklist(request, form.get("procedure") or None))


@router.post(f"/{PERSON}/ueberleitung", dependencies=[Depends(csrf_checked)])
async def send_referral(request: Request, person: PersonPath, actor: Actor = Depends(case_manager)):
    form = await request.form()
    municipality = await _municipality(request, actor, person)
    try:
        payload = ReferralV1.model_validate(_referral_payload(form))
        precheck_id = await precheck.store(request, actor, person, form)
        command = SendTransfer(person=person, municipality=municipality, recipient={"kind": "abh"},
                               purpose=form.get("purpose", ""), payload=payload, precheck_id=precheck_id)
        outcome = await bus(request).handle(command, actor)
    except (ValidationError, ServiceError) as exc:
        return await _referral_page(request, person, form, messages(exc))
    if outcome.status.value == "refused":
        return await _referral_page(request, person, form, outcome=outcome)
    return RedirectResponse(f"/ui/personen/{person}?gesendet={outcome.transfer_id}", status_code=303)


def _referral_payload(form) -> dict:
    details = {k: form.get(k) or None for k in ("given_name", "family_name", "date_of_birth")}
    payload = {"reason": form.get("reason", ""), "requested_action": form.get("requested_action", ""),
               "urgency": form.get("urgency") or "normal", "case_notes": form.get("case_notes") or None}
    if any(details.values()):
        payload["person"] = details
    return payload


@router.post(f"/{PERSON}/antworten/{{transfer_id}}", dependencies=[Depends(csrf_checked)])
async def answer_request(request: Request, person: PersonPath, transfer_id: str, actor: Actor = Depends(case_manager)):
    """Answer an office's request (Nachforderung): a referral back to it, naming the request, with documents."""
    form = await request.form()
    timeline = await transfers.timeline(new_uow(request), actor, person, utcnow().date(), keys(request),
                                     directory(request))
    task = next((t for t in timeline["open_tasks"] if t["transfer_id"] == transfer_id), None)
    if task is None:
        raise NotFound("Diese Anfrage ist nicht (mehr) offen.", field="transfer_id")
    try:
        documents = await _upload(request, actor, person, form)
        payload = ReferralV1(reason="Antwort auf die Nachforderung", requested_action=form.get("answer") or "",
                             in_reply_to=transfer_id, documents=documents or None)
        command = SendTransfer(person=person, municipality=await _municipality(request, actor, person),
                               recipient={"office": task["from_office"]}, purpose=task["purpose"], payload=payload)
        outcome = await bus(request).handle(command, actor)
    except (ValidationError, ServiceError) as exc:
        return page(request, "error.html", status_code=422, title="Antwort nicht gesendet",
                    message=" ".join(messages(exc)))
    return RedirectResponse(f"/ui/personen/{person}?gesendet={outcome.transfer_id}", status_code=303)


async def _upload(request: Request, actor: Actor, person: str, form) -> list[DocumentRef]:
    upload = form.get("document")
    limit = request.app.state.hub.settings.max_document_bytes
    try:
        content = await read_upload(upload if isinstance(upload, UploadFile) else None, limit)
    except ValueError:
        raise ServiceError("Die Datei ist zu groß.", field="document") from None
    if content is None:
        return []
    title = (form.get("document_title") or upload.filename)[:200]
    stored = await bus(request).handle(UploadDocument(person=person, title=title, declared_type=None,
                                                      content=content), actor)
    return [DocumentRef(title=stored["title"], media_type=stored["media_type"], sha256=stored["sha256"])]
