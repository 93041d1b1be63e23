"""Form input for the pages: German messages for invalid input, uploads, the bus's answers."""
from __future__ import annotations

import hashlib
from datetime import date, datetime, time, timezone

from starlette.datastructures import UploadFile
from pydantic import ValidationError

from gateway.field_labels import field_label
from gateway.validation_texts import german_text
from services.kernel.errors import InvalidFields, InvalidInput, ServiceError

FIELD_LABELS = {
    "municipality": "Wohnort (Gemeinde)", "provisions": "Umfang der Einwilligung", "purposes": "Zwecke",
    "categories": "Datenkategorien", "valid_from": "Gültig ab", "valid_until": "Gültig bis",
    "form_sha256": "Unterschriebenes Formular", "form_version": "Formularversion", "language": "Sprache",
    "reason": "Anlass", "requested_action": "Erbetene Handlung", "given_name": "Vorname",
    "family_name": "Nachname", "date_of_birth": "Geburtsdatum", "case_notes": "Beratungsverlauf",
    "purpose": "Zweck", "items": "Angeforderte Unterlagen", "label": "Bezeichnung", "deadline": "Frist",
    "starts_at": "Termin", "location": "Ort", "status_text": "Sachstand", "outcome": "Ergebnis",
    "forwarded_to": "Weitergeleitet an", "note": "Hinweis", "decided_on": "Entschieden am",
    "new_items": "Adressen für neue Nachrichten", "overdue_replies": "Adressen für abgelaufene Antwortfristen",
}
TYPE_TEXTS = {
    "missing": "Angabe fehlt.", "string_too_short": "Angabe fehlt.", "too_short": "Bitte mindestens eins wählen.",
    "string_too_long": "Der Text ist zu lang.", "string_pattern_mismatch": "hat nicht das erwartete Format.",
    "date_from_datetime_parsing": "ist kein gültiges Datum.", "date_parsing": "ist kein gültiges Datum.",
    "datetime_parsing": "ist kein gültiger Zeitpunkt.", "enum": "ist kein zulässiger Wert.",
    "literal_error": "ist kein zulässiger Wert.",
}
MAX_SIGNED_FORM_BYTES = 20 * 1024 * 1024


def messages(exc: Exception, route: str = "") -> list[str]:
    """What went wrong, in German, naming each field in words (``route``: as the API's route names
    the fields of an ``InvalidFields``, e.g. "versions" for a checklist template)."""
    if isinstance(exc, InvalidFields):
        return list(dict.fromkeys(f"{field_label(tuple(e['loc']), route)}: {german_text(e)}" for e in exc.errors))
    if isinstance(exc, ServiceError):
        return [exc.message]
    if isinstance(exc, ValidationError):
        out = []
        for e in exc.errors():
            names = [str(p) for p in e["loc"] if isinstance(p, str)]
            label = next((FIELD_LABELS[n] for n in reversed(names) if n in FIELD_LABELS), "Eingabe")
            if e["type"] == "value_error" and "valid_until" in names:
                out.append("Gültig bis: muss nach „Gültig ab“ liegen.")
            else:
                out.append(f"{label}: {TYPE_TEXTS.get(e['type'], 'ist ungültig.')}")
        return list(dict.fromkeys(out))
    raise exc


def day_start(value: str) -> datetime | str:
    """A date field as the start of that day (UTC); the raw text when it is no date (validation names it)."""
    try:
        return datetime.combine(date.fromisoformat(value), time(), tzinfo=timezone.utc)
    except ValueError:
        return value


async def read_upload(upload: UploadFile | None, limit: int) -> bytes | None:
    """An uploaded file's bytes (None when no file was chosen)."""
    if upload is None or not upload.filename:
        return None
    content = await upload.read(limit + 1)
    if len(content) > limit:
        raise ValueError("too large")
    return content


async def signed_form_sha256(form) -> str:
    """The SHA-256 of the uploaded scan of the signed consent form (the scan itself is not kept)."""
    signed = form.get("signed_form")
    try:
        content = await read_upload(signed if isinstance(signed, UploadFile) else None, MAX_SIGNED_FORM_BYTES)
    except ValueError:
        raise InvalidInput("Unterschriebenes Formular: Die Datei ist zu groß (höchstens 20 MB).",
                           field="signed_form") from None
    if content is None:
        raise InvalidInput("Unterschriebenes Formular: Bitte laden Sie den Scan hoch.", field="signed_form")
    return hashlib.sha256(content).hexdigest()


def consent_terms(form, form_sha256: str, kept: list[dict] | tuple = ()) -> dict:
    """The consent terms from the form: one provision (recipient, purposes, categories, direction),
    then ``kept``, further provisions an amendment leaves as they were."""
    chosen = form.get("recipient_kind", "")
    recipient = {"office": chosen[7:]} if chosen.startswith("office:") else {"kind": chosen}
    return {
        "municipality": form.get("municipality", ""),
        "provisions": [{"recipient": recipient, "purposes": form.getlist("purposes"),
                        "categories": form.getlist("categories"), "direction": form.get("direction", "outbound")},
                       *kept],
        "valid_from": day_start(form.get("valid_from", "")),
        "valid_until": day_start(form["valid_until"]) if form.get("valid_until") else None,
        "evidence": {"form_sha256": form_sha256, "form_version": form.get("form_version", ""),
                     "language": form.get("language", "")},
    }
