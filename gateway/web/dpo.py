"""Data-protection officer pages: the transfer log with filters, one record with its inclusion proof
(checked in the browser), the Art. 15 report (page and PDF). Checkpoints and cosigning: checkpoints.py."""
from __future__ import annotations

import json
import re
from datetime import datetime, timedelta

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse
from pydantic import ValidationError

from contracts.consent import PERSON_PATTERN
from contracts.purposes import Purpose
from contracts.transfer import Decision
from gateway.deps import bus, directory, new_uow
from gateway.routes.audit import pdf_response
from gateway.web.forms import day_start, messages
from gateway.web.render import page
from gateway.web.session import page_for
from services.audit import views as audit
from services.audit.commands import ReportAccess
from services.audit.views import LogFilter
from services.kernel.errors import InvalidInput, NotFound, ServiceError
from services.kernel.identity import Actor, Role

router = APIRouter(prefix="/ui")
dpo = page_for(Role.DPO)
DECISIONS = {"delivered": "zugestellt", "refused": "abgelehnt", "withheld": "zurückgehalten"}
EVENTS = {"granted": "erteilt", "amended": "geändert", "revoked": "widerrufen"}
READS = {"inbox_item": "Nachricht geöffnet", "document": "Dokument geöffnet", "timeline": "Fallverlauf geöffnet",
         "access_report": "Auskunft nach Art. 15 erstellt"}
KINDS = ("transfer", "consent", "access")
RECORD_LABELS = {
    "kind": "Art", "recorded_at": "Zeitpunkt (UTC)", "transfer_id": "Übermittlung", "message_type": "Nachrichtenart",
    "sender_office": "Sendende Stelle", "sender_user": "Gesendet von", "recipient_office": "Empfangende Stelle",
    "person": "Person (geschlüsseltes Pseudonym)", "purpose": "Zweck", "decision": "Entscheidung",
    "stage": "Prüfzeitpunkt", "categories_sent": "Übermittelte Kategorien", "categories_removed": "Entfernte Kategorien",
    "consent_id": "Einwilligung", "consent_version": "Version der Einwilligung", "legal_basis": "Rechtsgrundlage",
    "reasons": "Gründe (Codes)", "payload_sha256": "SHA-256 des Inhalts", "event": "Ereignis", "office": "Stelle",
    "recorded_by": "Erfasst von", "municipality": "Gemeinde (AGS)", "provisions": "Umfang",
    "valid_from": "Gültig ab", "valid_until": "Gültig bis", "evidence_sha256": "Nachweis (SHA-256 des Formulars)",
    "form_version": "Formularversion", "revocation_method": "Art des Widerrufs", "read": "Lesevorgang",
    "user": "Gelesen von", "roles": "Rollen", "document_sha256": "Dokument (SHA-256)",
}
BAD_PERSON = "Person: Das Pseudonym hat nicht das erwartete Format (p- und 32 Zeichen)."
FILTERS = ("person", "office", "purpose", "decision", "kind", "since", "until")


@router.get("/protokoll")
async def transfer_log(request: Request, actor: Actor = Depends(dpo)):
    asked = {k: request.query_params.get(k, "").strip() for k in FILTERS}
    asked["kind"] = asked["kind"] or "transfer"
    try:
        found = await audit.transfers(new_uow(request), actor, directory(request), _filter(asked), limit=200)
    except (ValidationError, ServiceError) as exc:
        return _log_page(request, asked, {"total": 0, "records": []}, messages(exc))
    return _log_page(request, asked, found)


def _log_page(request: Request, asked: dict, found: dict, errors: list[str] | None = None):
    return page(request, "audit_log.html", status_code=422 if errors else 200, title="Übermittlungsprotokoll",
                asked=asked, found=found, errors=errors or [], decisions=DECISIONS, events=EVENTS, reads=READS)


def _filter(asked: dict) -> LogFilter:
    """The DPO's filter from the form; dates are whole days (until: inclusive)."""
    if asked["person"] and not _matches(PERSON_PATTERN, asked["person"]):
        raise InvalidInput(BAD_PERSON)
    since, until = (_day(asked["since"], "Von"), _day(asked["until"], "Bis"))
    return LogFilter(
        person=asked["person"] or None, office=asked["office"] or None,
        purpose=Purpose(asked["purpose"]) if asked["purpose"] in Purpose._value2member_map_ else None,
        decision=Decision(asked["decision"]) if asked["decision"] in Decision._value2member_map_ else None,
        kind=asked["kind"] if asked["kind"] in KINDS else "transfer",
        since=since, until=until + timedelta(days=1) if until else None)


def _matches(pattern: str, value: str) -> bool:
    return re.fullmatch(pattern.strip("^$"), value) is not None


def _day(value: str, label: str) -> datetime | None:
    if not value:
        return None
    day = day_start(value)
    if isinstance(day, str):
        raise InvalidInput(f"{label}: ist kein gültiges Datum.")
    return day


@router.get("/protokoll/{index}")
async def record(request: Request, index: int, actor: Actor = Depends(dpo)):
    """One record with its inclusion proof in the latest signed checkpoint, and the checkpoint's note:
    the page's script recomputes the leaf hash and the root from them."""
    try:
        proof = await audit.inclusion(new_uow(request), actor, directory(request), index, None)
        note = (await audit.checkpoint(new_uow(request), actor, proof["tree_size"]))["note"]
    except (NotFound, InvalidInput) as exc:
        return page(request, "audit_record.html", title=f"Protokolleintrag {index}", index=index, proof=None,
                    pending=exc.message, decisions=DECISIONS, events=EVENTS)
    data = {"index": index, "tree_size": proof["tree_size"], "record": proof["record"], "proof": proof["proof"],
            "leaf_hash": proof["leaf_hash"], "note": note}
    return page(request, "audit_record.html", title=f"Protokolleintrag {index}", index=index, proof=proof,
                note=note, data=json.dumps(data, ensure_ascii=False).replace("</", "<\\/"), labels=RECORD_LABELS)


@router.get("/auskunft")
async def access_report(request: Request, person: str = "", actor: Actor = Depends(dpo)):
    """The Art. 15 report about one person as a printable page (the audit context renders it)."""
    if not _matches(PERSON_PATTERN, person):
        return _bad_person(request)
    command = ReportAccess(person=person, format="html", pdf_link=f"/ui/auskunft.pdf?person={person}")
    return HTMLResponse(await bus(request).handle(command, actor))


@router.get("/auskunft.pdf")
async def access_report_pdf(request: Request, person: str = "", actor: Actor = Depends(dpo)):
    """The same report as a printable PDF."""
    if not _matches(PERSON_PATTERN, person):
        return _bad_person(request)
    return pdf_response(await bus(request).handle(ReportAccess(person=person, format="pdf"), actor), person)


def _bad_person(request: Request):
    return page(request, "error.html", status_code=422, title="Auskunft nach Art. 15 DSGVO", message=BAD_PERSON)
