"""German names for the fields and parameters of the API's requests, as a clerk would say them.

A field path (``payload.person.given_name``, ``provisions.0.recipient.office``, ``query.limit``) gets
the label of its longest known suffix (``person.given_name`` → "Vorname der Person"), then the
positions of list items it passes through ("Regelung 1") and any free keys (a pre-check's item ids).
A route may name a field differently (``items`` of a Nachforderung vs. of a pre-check): such entries
are keyed ``<last path segment of the route>:<suffix>``. A path nothing here knows is named as it is
("Feld „x.y“"), never dropped. ``tests/unit/test_german_validation.py`` checks that every field of
every request model in the OpenAPI has a label here.
"""
from __future__ import annotations

from services.checklists.facts import FACTS

LABELS: dict[str, str] = {
    # who and where
    "person": "Pseudonym der Person",
    "persons": "Personen des Falls (Pseudonyme)",
    "case_id": "Fall",
    "municipality": "Gemeindeschlüssel (AGS)",
    "recipient": "Empfänger",
    "recipient.office": "Empfangende Stelle",
    "recipient.kind": "Art der empfangenden Stelle",
    "office": "Stelle",
    "kind": "Art",
    # consents
    "provisions": "Regelungen der Einwilligung",
    "purposes": "Zwecke",
    "purpose": "Zweck",
    "categories": "Datenkategorien",
    "direction": "Richtung der Übermittlung",
    "valid_from": "Beginn der Gültigkeit",
    "valid_until": "Ende der Gültigkeit",
    "evidence": "Nachweis der unterschriebenen Einwilligung",
    "evidence.form_sha256": "SHA-256-Prüfsumme des unterschriebenen Formulars",
    "evidence.form_version": "Version des Einwilligungsformulars",
    "evidence.language": "Sprache, in der die Einwilligung erläutert wurde",
    "method": "Art des Widerrufs",
    # revocation notices
    "state": "Stand des Widerrufshinweises",
    "confirmation:outcome": "Antwort auf den Widerrufshinweis",
    "legal_basis": "Rechtsgrundlage zum Aufbewahren",
    # transfers and their payloads
    "message_type": "Nachrichtenart",
    "payload": "Inhalt der Nachricht",
    "precheck_id": "Vorprüfung",
    "payload.reason": "Anlass der Überleitung",
    "requested_action": "Erbetene Handlung",
    "urgency": "Dringlichkeit",
    "reply_to": "Stelle für Antworten",
    "payload.person": "Angaben zur Person",
    "person.given_name": "Vorname der Person",
    "person.family_name": "Familienname der Person",
    "person.date_of_birth": "Geburtsdatum der Person",
    "person.address": "Anschrift der Person",
    "person.phone": "Telefonnummer der Person",
    "person.email": "E-Mail-Adresse der Person",
    "person.family_status": "Familienstand der Person",
    "person.education": "Bildung der Person",
    "social_situation": "Sozialdaten",
    "housing": "Wohnsituation",
    "benefits": "Sozialleistungen",
    "work_permit": "Arbeitserlaubnis",
    "health_notes": "Gesundheit, Behinderung, Förderbedarf (Art. 9 DSGVO)",
    "case_notes": "Beratungsverlauf",
    "documents": "Unterlagen",
    "documents.title": "Titel der Unterlage",
    "documents.media_type": "Dateiart der Unterlage",
    "documents.sha256": "SHA-256-Prüfsumme der Unterlage",
    "in_reply_to": "Übermittlung, auf die geantwortet wird",
    "naturalised_on": "Tag der Aushändigung der Einbürgerungsurkunde",
    # a rectification (Art. 16 DSGVO): the corrected fields at the body's top
    "explanation": "Erläuterung der Berichtigung",
    "rectifications:reason": "Anlass der Überleitung",
    "rectifications:person": "Angaben zur Person",
    # replies of the receiving office
    "items": "Angeforderte Unterlagen",
    "items.item_id": "Checklisten-Punkt",
    "items.label": "Bezeichnung der Unterlage",
    "items.note": "Anmerkung zur Unterlage",
    "deadline": "Frist",
    "note": "Anmerkung",
    "starts_at": "Beginn des Termins",
    "location": "Ort des Termins",
    "status_text": "Sachstand",
    "outcome": "Ergebnis",
    "decided_on": "Tag der Entscheidung",
    "forwarded_to": "Stelle, an die weitergeleitet wurde",
    # e-mail notifications of an office
    "new_items": "E-Mail-Adressen für neue Nachrichten",
    "overdue_replies": "E-Mail-Adressen für abgelaufene Antwortfristen",
    # pre-checks and documents
    "procedure": "Verfahren der Checkliste",
    "facts": "Angaben zum Fall",
    "prechecks:items": "Status der Checklisten-Punkte",
    "prechecks:items.status": "Status des Checklisten-Punkts",
    "prechecks:items.reason": "Begründung zum Checklisten-Punkt",
    "prechecks:items.documents": "Dokumente zum Checklisten-Punkt",
    "title": "Titel",
    # a checklist template version as an admin publishes it (POST /checklists/{procedure}/versions)
    "versions:procedure": "Verfahren (procedure)",
    "versions:version": "Version",
    "versions:title": "Titel der Checkliste (title)",
    "versions:legal_basis": "Rechtsgrundlage der Checkliste (legal_basis)",
    "versions:owner_office_kind": "Zuständige Art von Stelle (owner_office_kind)",
    "versions:owner_office": "Zuständige Stelle (owner_office)",
    "versions:valid_from": "Beginn der Gültigkeit (valid_from)",
    "versions:valid_until": "Ende der Gültigkeit (valid_until)",
    "versions:example": "Beispielvorlage (example)",
    "versions:review_note": "Prüfvermerk (review_note)",
    "versions:items": "Punkte der Checkliste (items)",
    "versions:items.id": "Kennung des Punkts (id)",
    "versions:items.label": "Bezeichnung des Punkts (label)",
    "versions:items.documents": "Geeignete Unterlagen (documents)",
    "versions:items.legal_reference": "Rechtsgrundlage des Punkts (legal_reference)",
    "versions:items.category": "Datenkategorie des Punkts (category)",
    "versions:items.applies_if": "Bedingung des Punkts (applies_if)",
    "versions:items.hint": "Hinweis zum Punkt (hint)",
    "content-type": "Inhaltstyp",
    # the DPO's log, proofs and checkpoints
    "cosignatures:note": "Signierte Notiz mit Mitsignatur",
    "consent_id": "Einwilligung",
    "transfer_id": "Übermittlung",
    "dead_letter_id": "Nachricht",
    "sha256": "SHA-256-Prüfsumme",
    "size": "Baumgröße des Prüfpunkts",
    "after_seq": "Fortsetzen nach Eintrag",
    "decision": "Entscheidung",
    "start": "Erster Eintrag",
    "end": "Erster nicht mehr enthaltener Eintrag",
    "index": "Eintrag",
    "old": "Frühere Baumgröße",
    "new": "Spätere Baumgröße",
    "since": "Beginn des Zeitraums",
    "until": "Ende des Zeitraums",
    "limit": "Höchstzahl der Einträge",
    "format": "Format",
    "include_replayed": "Auch erneut zugestellte Nachrichten",
    "unread": "Nur ungelesene",
    "version": "Version",
    "status": "Stand des Falls",
    **{f"facts.{name}": spec.label for name, spec in FACTS.items()},
}

# What one item of a list is called, for "(Regelung 2)".
ITEM_NAMES = {"provisions": "Regelung", "documents": "Unterlage", "items": "Punkt", "persons": "Person"}
SOURCES = {"query": "Parameter", "path": "Adressteil", "header": "Kopfzeile"}
_KNOWN_NAMES = {part for key in LABELS for part in key.split(":")[-1].split(".")}


def _lookup(names: list[str], route: str) -> str | None:
    """The label of the longest known suffix of ``names``."""
    for start in range(len(names)):
        suffix = ".".join(names[start:])
        label = LABELS.get(f"{route}:{suffix}") or LABELS.get(suffix)
        if label is not None:
            return label
    return None


def _context(loc: tuple) -> list[str]:
    """List positions and free keys (a pre-check's item ids) on the way to the field."""
    parts, previous = [], None
    for part in loc:
        if isinstance(part, int):
            parts.append(f"{ITEM_NAMES.get(previous, 'Eintrag')} {part + 1}")
        else:
            if part not in _KNOWN_NAMES:
                parts.append(f"„{part}“")
            previous = part
    return parts


def _label(loc: tuple, route: str) -> str:
    named = [p for p in loc if isinstance(p, str)]
    if not named:
        return "Inhalt der Anfrage"
    if named[-1] not in _KNOWN_NAMES:  # a field the model does not have (or a free key)
        parent = loc[:loc.index(named[-1]) if named.count(named[-1]) == 1 else len(loc) - 1]
        inside = f" in „{_label(parent, route)}“" if any(isinstance(p, str) for p in parent) else ""
        return f"Feld „{named[-1]}“{inside}"
    label = _lookup([n for n in named if n in _KNOWN_NAMES], route) or f"Feld „{named[-1]}“"
    context = _context(loc[:-1] if isinstance(loc[-1], str) else loc)
    return f"{label} ({', '.join(context)})" if context else label


def field_label(loc: tuple | list, route: str = "") -> str:
    """The German name of the field at ``loc`` (pydantic's error location, ``body``/``query``/… first);
    ``route`` is the last segment of the request's path."""
    loc = tuple(loc)
    source = loc[0] if loc and loc[0] in ("body", *SOURCES) else None
    rest = loc[1:] if source else loc
    label = _label(rest, route)
    if source in SOURCES and rest:
        name = f"{SOURCES[source]} „{rest[-1]}“"
        return name if label.startswith("Feld „") else f"{label} ({name})"
    return label


def path_label(field: str, route: str = "") -> str:
    """The German name of a dotted field path (``provisions.0.recipient.office``) as services name them."""
    return field_label(tuple(int(p) if p.isdigit() else p for p in field.split(".")), route)
