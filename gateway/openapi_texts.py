"""German titles for what users of ``/docs`` and ``/redoc`` read first: each operation's summary and
each tag's description. The schema is made by FastAPI; these texts are laid over it once."""
from __future__ import annotations

from fastapi import FastAPI

TAGS = [
    {"name": "consents", "description": "Einwilligungen erfassen, ändern, widerrufen und einsehen"},
    {"name": "transfers", "description": "Übermittlungen senden, ihren Stand verfolgen, Mitteilungen kraft Gesetzes"},
    {"name": "inbox", "description": "Posteingang der Stelle: lesen, Eingang bestätigen, antworten"},
    {"name": "checklists", "description": "Checklisten, Vorprüfungen und Unterlagen"},
    {"name": "audit", "description": "Übermittlungsprotokoll für die Datenschutzbeauftragten: Einträge, "
                                     "Prüfpunkte, Nachweise, Auskunft nach Art. 15 DSGVO"},
    {"name": "cases", "description": "Fälle (eine oder mehrere Personen): anlegen, Personen hinzufügen, "
                                     "archivieren; Löschung nach Ablauf der Frist"},
    {"name": "rights", "description": "Rechte der betroffenen Person: Löschung (Art. 17), Einschränkung "
                                      "(Art. 18), eigene Daten maschinenlesbar (Art. 20 DSGVO)"},
    {"name": "admin", "description": "Administration: nicht zustellbare Nachrichten, E-Mail-Benachrichtigungen"},
    {"name": "meta", "description": "Betriebszustand und Vokabulare"},
]

SUMMARIES = {
    ("get", "/health/live"): "Prozess läuft",
    ("get", "/health/ready"): "Bereit (Datenbank und Broker erreichbar)",
    ("get", "/vocabulary"): "Vokabulare: Zwecke, Datenkategorien, Stellen, Gemeinden",
    ("get", "/directory/offices/{office}/keys"): "Öffentliche Verschlüsselungsschlüssel einer Stelle (JWK-Set)",
    ("post", "/consents/fhir"): "Einwilligung als FHIR-Consent-Ressource (R4) einlesen",
    ("get", "/persons/{person}/consents/fhir"): "Einwilligungen einer Person als FHIR-Consent-Ressourcen (R4)",
    ("post", "/consents"): "Einwilligung erfassen",
    ("post", "/consents/{consent_id}/versions"): "Einwilligung ändern (neue Fassung)",
    ("post", "/consents/{consent_id}/revocation"): "Widerruf erfassen",
    ("get", "/consents/{consent_id}"): "Einwilligung mit allen Fassungen",
    ("get", "/persons/{person}/consents"): "Einwilligungen einer Person",
    ("post", "/transfers"): "Übermittlung senden (Einwilligung wird sofort geprüft)",
    ("get", "/transfers/{transfer_id}"): "Stand einer Übermittlung",
    ("post", "/transfers/{transfer_id}/rectifications"): "Berichtigung (Art. 16 DSGVO) an die empfangende Stelle senden",
    ("post", "/notices/einbuergerung"): "Einbürgerungsmitteilung an die Ausländerbehörde (kraft Gesetzes)",
    ("get", "/persons/{person}/timeline"): "Verlauf einer Person mit offenen Aufgaben",
    ("get", "/inbox"): "Posteingang der Stelle",
    ("get", "/offices/{office}/notifications"): "E-Mail-Benachrichtigungen einer Stelle: Empfangsadressen",
    ("put", "/offices/{office}/notifications"): "E-Mail-Benachrichtigungen einer Stelle festlegen",
    ("get", "/inbox/{transfer_id}"): "Nachricht lesen",
    ("post", "/inbox/{transfer_id}/receipt"): "Eingang bestätigen",
    ("get", "/inbox/{transfer_id}/documents/{sha256}"): "Unterlage einer empfangenen Nachricht",
    ("post", "/inbox/{transfer_id}/replies/nachforderung"): "Antwort: Unterlagen nachfordern",
    ("post", "/inbox/{transfer_id}/replies/termin"): "Antwort: Termin mitteilen",
    ("post", "/inbox/{transfer_id}/replies/sachstand"): "Antwort: Sachstand mitteilen",
    ("post", "/inbox/{transfer_id}/replies/ergebnis"): "Antwort: Ergebnis mitteilen",
    ("post", "/inbox/{transfer_id}/replies/nicht-zustaendig"): "Antwort: nicht zuständig (weitergeleitet)",
    ("get", "/revocation-notices"): "Widerrufshinweise der Stelle",
    ("get", "/revocation-notices/{notice_id}"): "Widerrufshinweis lesen",
    ("post", "/revocation-notices/{notice_id}/confirmation"): "Widerrufshinweis beantworten: gelöscht oder "
                                                              "aufbewahrt mit Rechtsgrundlage",
    ("get", "/audit/revocation-notices"): "Widerrufshinweise und ihre Bestätigungen (Datenschutz)",
    ("get", "/audit/transfers"): "Einträge des Übermittlungsprotokolls",
    ("get", "/audit/totals"): "Summen je Entscheidung",
    ("get", "/audit/keys"): "Schlüssel der Prüfpunkt-Signaturen",
    ("get", "/audit/checkpoints/latest"): "Neuester signierter Prüfpunkt",
    ("get", "/audit/checkpoints/{size}"): "Signierter Prüfpunkt einer Baumgröße",
    ("post", "/audit/checkpoints/{size}/cosignatures"): "Prüfpunkt mitsignieren",
    ("get", "/audit/proofs/inclusion"): "Nachweis, dass ein Eintrag im Protokoll steht",
    ("get", "/audit/proofs/consistency"): "Nachweis, dass das Protokoll nur fortgeschrieben wurde",
    ("get", "/audit/export"): "Protokoll exportieren (JSON Lines, für kimhub audit verify)",
    ("get", "/audit/persons/{person}/report"): "Auskunft nach Art. 15 DSGVO",
    ("get", "/audit/persons/{person}/report.pdf"): "Auskunft nach Art. 15 DSGVO als PDF zum Ausdrucken",
    ("get", "/admin/dead-letters"): "Nicht zustellbare Nachrichten",
    ("post", "/admin/dead-letters/{dead_letter_id}/replay"): "Nachricht erneut zustellen",
    ("get", "/checklists"): "Checklisten-Vorlagen",
    ("get", "/checklists/{procedure}"): "Checklisten-Vorlage eines Verfahrens",
    ("post", "/checklists/{procedure}/versions"): "Neue Fassung einer Checklisten-Vorlage veröffentlichen",
    ("post", "/prechecks"): "Unterlagen vorprüfen (Hinweis, keine Entscheidung)",
    ("get", "/prechecks/{precheck_id}"): "Vorprüfung abrufen",
    ("post", "/documents"): "Unterlage hochladen (PDF, JPEG, PNG)",
    ("post", "/cases"): "Fall anlegen (mit einer oder mehreren Personen)",
    ("get", "/cases"): "Fälle der Stelle (Datenschutzbeauftragte: des Verantwortlichen)",
    ("get", "/cases/{case_id}"): "Fall anzeigen",
    ("post", "/cases/{case_id}/persons"): "Person einem offenen Fall hinzufügen",
    ("post", "/cases/{case_id}/archive"): "Fall archivieren (die Löschfrist beginnt)",
    ("post", "/cases/{case_id}/erasure"): "Archivierten Fall jetzt löschen (Art. 17 DSGVO)",
    ("post", "/rights/persons/{person}/erasure"): "Daten einer Person löschen (Art. 17 DSGVO)",
    ("put", "/rights/persons/{person}/restriction"): "Verarbeitung einschränken (Art. 18 DSGVO)",
    ("delete", "/rights/persons/{person}/restriction"): "Einschränkung der Verarbeitung aufheben",
    ("get", "/rights/persons/{person}/data"): "Eigene Daten der Person als JSON (Art. 20 DSGVO)",
}


# German descriptions of the request bodies' schemas as /docs and /redoc show them, by schema and field
# ("" = the schema itself). The contracts' docstrings and Field descriptions stay English: they are code
# documentation (and the exported JSON Schemas in contracts/schemas keep them); the API's readers in the
# offices read these. tests/unit/test_openapi_german.py keeps every request body's description German.
SCHEMA_TEXTS: dict[str, dict[str, str]] = {
    "ConsentTerms": {"": "Wozu die Person eingewilligt hat: der Teil, den das Fallmanagement erfasst, gleich bei "
                         "Erteilung und Änderung.",
                     "municipality": "Amtlicher Gemeindeschlüssel (AGS) des Wohnorts der Person"},
    "RecordConsentBody": {"municipality": "Amtlicher Gemeindeschlüssel (AGS) des Wohnorts der Person"},
    "DataCategory": {"": "Arten personenbezogener Daten, die eine Einwilligung umfassen kann; die Werte sind feste "
                         "Kennungen."},
    "EinbuergerungsmitteilungV1": {"": "Die Einbürgerungsbehörde teilt der Ausländerbehörde eine Einbürgerung mit."},
    "Evidence": {"": "Nachweis des unterschriebenen Formulars; der Scan selbst bleibt beim Fallmanagement.",
                 "form_sha256": "SHA-256-Prüfsumme des gescannten unterschriebenen Formulars (hexadezimal)",
                 "language": "Sprache, in der die Einwilligung erläutert wurde (BCP 47, z. B. „de“ oder „ar“)"},
    "NoticeAnswer": {"": "Antwort der Stelle auf einen Widerrufshinweis: gelöscht („deleted“) oder aufbewahrt "
                         "(„kept“) auf der genannten Rechtsgrundlage."},
    "NotificationAddresses": {"": "Welche Adressen einer Stelle welche Benachrichtigung erhalten (leere Liste: "
                                  "keine)."},
    "Provision": {"": "Eine Erlaubnis der Einwilligung: zwischen der erfassenden und einer anderen Stelle, für diese "
                      "Zwecke und Datenkategorien, in dieser Richtung."},
    "RecipientSpec": {"": "Entweder eine bestimmte Stelle („office“) oder jede für die Person zuständige Stelle "
                          "einer Art („kind“)."},
    "ReferralV1": {"": "Überleitung: Eine Stelle übergibt das Anliegen einer Person an eine andere. Jedes Feld "
                       "gehört zu einer Datenkategorie; Pflichtfelder muss die Einwilligung umfassen, nicht "
                       "umfasste freiwillige Felder werden vor der Zustellung entfernt."},
    "SendTransfer": {"": "Eine Nachricht über eine Person senden. Ein Feld für Datenkategorien gibt es bewusst "
                         "nicht: Der Hub leitet sie aus dem Vertrag des Inhalts ab."},
}


def _describe(schemas: dict) -> None:
    for name, texts in SCHEMA_TEXTS.items():
        schema = schemas.get(name)
        if schema is None:
            continue
        for field, text in texts.items():
            target = schema if field == "" else schema.get("properties", {}).get(field)
            if target is not None:
                target["description"] = text


def install(app: FastAPI) -> None:
    """Lay the German texts over the schema FastAPI makes (operations not listed keep theirs)."""
    make_schema = app.openapi

    def openapi() -> dict:
        schema = make_schema()
        schema["tags"] = TAGS
        for path, operations in schema.get("paths", {}).items():
            for method, operation in operations.items():
                operation["summary"] = SUMMARIES.get((method, path), operation.get("summary"))
        _describe(schema.get("components", {}).get("schemas", {}))
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
