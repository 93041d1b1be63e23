"""Form input for the pages: German messages for invalid input, uploads, the bus's answers."""
from __future__ import annotations

import hashlib
import re
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
    "recipient": "Stelle", "direction": "Richtung",
}
TYPE_TEXTS = {
    "missing": "Angabe fehlt.", "string_too_short": "Angabe fehlt.", "too_short": "Bitte mindestens eins wählen.",
    "string_too_long": "Der Text ist zu lang.", "string_pattern_mismatch": "hat nicht das erwartete Format.",
    "date_from_datetime_parsing": "ist kein gültiges Datum.", "date_parsing": "ist kein gültiges Datum.",
    "datetime_parsing": "ist kein gültiger Zeitpunkt.", "enum": "ist kein zulässiger Wert.",
    "literal_error": "ist kein zulässiger Wert.", "too_long": "Das sind zu viele.",
}
MAX_SIGNED_FORM_BYTES = 20 * 1024 * 1024


def messages(exc: Exception, route: str = "") -> list[str]:
    """What went wrong, in German, naming each field in words (``route``: as the API's route names
    the fields of an ``InvalidFields``, e.g. "versions" for a checklist template)."""
    if isinstance(exc, InvalidFields):
        return list(dict.fromkeys(f"{field_label(tuple(e['loc']), route)}: {german_text(e)}" for e in exc.errors))
    if isinstance(exc, ServiceError):
        return [_provision_named(exc.field or "") + exc.message]
    if isinstance(exc, ValidationError):
        out = []
        for e in exc.errors():
            names = [str(p) for p in e["loc"] if isinstance(p, str)]
            label = next((FIELD_LABELS[n] for n in reversed(names) if n in FIELD_LABELS), "Eingabe")
            if e["type"] == "value_error" and "valid_until" in names:
                out.append("Gültig bis: muss nach „Gültig ab“ liegen.")
            else:
                where = _provision_named(".".join(str(p) for p in e["loc"]))
                out.append(f"{where}{label}: {TYPE_TEXTS.get(e['type'], 'ist ungültig.')}")
        return list(dict.fromkeys(out))
    raise exc


def _provision_named(path: str) -> str:
    """"Bestimmung 2: " for a field of the second provision (``provisions.1.purposes``), else nothing."""
    found = re.match(r"provisions\.(\d+)", path)
    return f"Bestimmung {int(found[1]) + 1}: " if found else ""


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


# The consent form: one fieldset per provision, its fields named p<N>-<field> (p0-recipient_kind,
# p0-purposes, ...). Two submit buttons edit the list without saving: ADD_PROVISION adds an empty
# fieldset, REMOVE_PROVISION=<N> leaves fieldset N out; the page is shown again as typed.
PROVISION_FIELD = re.compile(r"^p(\d{1,3})-(recipient_kind|purposes|categories|direction)$")
ADD_PROVISION, REMOVE_PROVISION = "bestimmung_hinzufuegen", "bestimmung_entfernen"
MAX_PROVISIONS = 50  # as many as ConsentTerms takes
NEW_PROVISION = {"recipient_kind": "abh", "purposes": [], "categories": [], "direction": "both"}


def typed_provisions(form) -> list[dict]:
    """The provisions as typed into the consent form, in the order of their index N (gaps are fine):
    ``recipient_kind`` (a kind, or "office:<id>"), ``purposes``, ``categories``, ``direction``. The
    fieldset whose "Bestimmung entfernen" was pressed is left out, "Weitere Bestimmung hinzufügen" adds
    an empty one; at least one is always there."""
    found: dict[int, dict] = {}
    for key in dict.fromkeys(form.keys()):
        if match := PROVISION_FIELD.match(key):
            index, field = int(match[1]), match[2]
            values = [v for v in form.getlist(key) if isinstance(v, str)]
            fields = found.setdefault(index, {**NEW_PROVISION, "recipient_kind": "", "direction": "outbound"})
            fields[field] = values if field in ("purposes", "categories") else next(iter(values), "")
    removed = _text(form, REMOVE_PROVISION)  # the index as the page wrote it
    typed = [found[i] for i in sorted(found) if str(i) != removed]
    if not typed or (ADD_PROVISION in form and len(typed) < MAX_PROVISIONS):
        typed.append(dict(NEW_PROVISION))
    return typed


def edits_provisions(form) -> bool:
    """Whether a button that adds or removes a provision was pressed: the form is shown again, nothing saved."""
    return ADD_PROVISION in form or REMOVE_PROVISION in form


def provision_fields(provisions) -> list[tuple[str, str]]:
    """The consent form's fields for ``provisions`` (the contract's ``Provision`` objects): the amend form's prefill."""
    fields = []
    for i, p in enumerate(provisions):
        recipient = f"office:{p.recipient.office}" if p.recipient.office else str(p.recipient.kind)
        fields += [(f"p{i}-recipient_kind", recipient), *[(f"p{i}-purposes", str(x)) for x in p.purposes],
                   *[(f"p{i}-categories", str(c)) for c in p.categories], (f"p{i}-direction", str(p.direction))]
    return fields


def consent_fields(form, named_offices=()) -> dict:
    """What the consent fields' template shows besides ``form``: the fieldsets as typed, whether one
    was just added (it gets the focus) or removed (the add button gets it), the offices a fieldset may
    name (those named so far)."""
    typed = typed_provisions(form)
    typed_offices = [p["recipient_kind"][7:] for p in typed if p["recipient_kind"].startswith("office:")]
    return {"provisions": typed, "added": ADD_PROVISION in form, "removed": REMOVE_PROVISION in form,
            "max_provisions": MAX_PROVISIONS, "named_offices": list(dict.fromkeys([*named_offices, *typed_offices]))}


def consent_terms(form, form_sha256: str) -> dict:
    """The consent terms from the form: every provision as typed (``typed_provisions``)."""
    return {
        "municipality": _text(form, "municipality"),
        "provisions": [_provision(p) for p in typed_provisions(form)],
        "valid_from": day_start(_text(form, "valid_from")),
        "valid_until": day_start(_text(form, "valid_until")) if _text(form, "valid_until") else None,
        "evidence": {"form_sha256": form_sha256, "form_version": _text(form, "form_version"),
                     "language": _text(form, "language")},
    }


def _provision(typed: dict) -> dict:
    chosen = typed["recipient_kind"]
    recipient = {"office": chosen[7:]} if chosen.startswith("office:") else {"kind": chosen}
    return {"recipient": recipient, "purposes": typed["purposes"], "categories": typed["categories"],
            "direction": typed["direction"]}


def _text(form, name: str) -> str:
    """A text field's value; "" when it is missing or a file came instead."""
    value = form.get(name)
    return value if isinstance(value, str) else ""
