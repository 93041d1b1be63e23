"""The Art. 15 access report as a printable German HTML page."""
from __future__ import annotations

from datetime import datetime
from html import escape

from contracts.categories import DataCategory
from contracts.purposes import Purpose

DECISIONS = {"delivered": "übermittelt", "refused": "abgelehnt (vor dem Versand)",
             "withheld": "zurückgehalten (vor der Zustellung)"}
EVENTS = {"granted": "erteilt", "amended": "geändert", "revoked": "widerrufen"}
REASONS = {
    "no_consent": "keine Einwilligung", "consent_revoked": "Einwilligung widerrufen",
    "consent_expired": "Einwilligung abgelaufen", "consent_not_yet_valid": "Einwilligung noch nicht gültig",
    "recipient_not_covered": "Empfänger nicht umfasst", "other_jurisdiction": "andere Zuständigkeit",
    "purpose_not_covered": "Zweck nicht umfasst", "category_not_covered": "Datenkategorie nicht umfasst",
    "unknown_office": "Empfänger unbekannt", "no_competent_office": "keine zuständige Stelle",
}
READS = {"inbox_item": "Nachricht geöffnet", "document": "Dokument geöffnet", "timeline": "Fallverlauf geöffnet",
         "access_report": "Auskunft nach Art. 15 erstellt"}

STYLE = """
body{font-family:system-ui,sans-serif;margin:2em;color:#111;max-width:60em}
h1{font-size:1.4em}h2{font-size:1.1em;margin-top:1.6em}
table{border-collapse:collapse;width:100%;font-size:.9em}th,td{border:1px solid #999;padding:.3em .5em;
text-align:left;vertical-align:top}th{background:#eee}.small{font-size:.8em;color:#444}
pre{white-space:pre-wrap;font-size:.75em;background:#f6f6f6;padding:.5em}
@media print{body{margin:0}.noprint{display:none}}
"""


def _date(value) -> str:
    if isinstance(value, str):
        value = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return value.strftime("%d.%m.%Y %H:%M UTC") if value else ""


def _categories(values) -> str:
    return ", ".join(DataCategory(c).label.split(" (")[0] for c in values) or "–"


def _purpose(value: str | None) -> str:
    return Purpose(value).label if value else "–"


def _office(office_names: dict[str, str], office_id: str | None) -> str:
    return escape(office_names.get(office_id, office_id or "–"))


def _version(consent_version: int | None) -> str:
    return " (Version " + str(consent_version) + ")" if consent_version else ""


def _reasons(reasons: list[str]) -> str:
    """The reasons of a refusal or withholding, in German, on a line of their own; empty if none."""
    if not reasons:
        return ""
    return "<br><span class=small>" + escape(", ".join(REASONS.get(r, r) for r in reasons)) + "</span>"


def _headings(names: tuple[str, ...]) -> str:
    return "".join(f"<th>{escape(n)}</th>" for n in names)


def _transfer_rows(transfers: list[dict], office_names: dict[str, str]) -> str:
    return "".join(
        f"<tr><td>{_date(t['recorded_at'])}</td><td>{_office(office_names, t['recipient_office'])}</td>"
        f"<td>{escape(_purpose(t['purpose']))}</td><td>{escape(_categories(t['categories_sent']))}</td>"
        f"<td>{escape(_categories(t['categories_removed']))}</td>"
        f"<td>{escape(t['consent_id'] or '–')}{_version(t['consent_version'])}</td>"
        f"<td>{escape(DECISIONS.get(t['decision'], t['decision']))}{_reasons(t['reasons'])}</td>"
        f"<td class=small>{t['index']}</td></tr>"
        for t in transfers
    ) or "<tr><td colspan=8>Keine Übermittlungen.</td></tr>"


def _consent_rows(consents: list[dict], office_names: dict[str, str]) -> str:
    return "".join(
        f"<tr><td>{_date(c['recorded_at'])}</td><td>{escape(EVENTS.get(c['event'], c['event']))}</td>"
        f"<td>{escape(c['consent_id'])}{_version(c['consent_version'])}</td>"
        f"<td>{_office(office_names, c['office'])}</td><td class=small>{c['index']}</td></tr>"
        for c in consents
    ) or "<tr><td colspan=5>Keine Einträge.</td></tr>"


def _read_rows(reads: list[dict], office_names: dict[str, str]) -> str:
    return "".join(
        "<tr>" + "".join(f"<td>{escape(c)}</td>" for c in read_columns(r, office_names)[:-1])
        + f"<td class=small>{r['index']}</td></tr>"
        for r in reads
    ) or "<tr><td colspan=5>Keine Einträge.</td></tr>"


HEADING = "Auskunft nach Art. 15 DSGVO: Übermittlungen Ihrer Daten über kimhub"
TRANSFER_HEADINGS = ("Zeitpunkt", "Empfangende Stelle", "Zweck", "Übermittelte Datenkategorien",
                     "Entfernte Datenkategorien", "Einwilligung", "Entscheidung", "Nr.")
CONSENT_HEADINGS = ("Zeitpunkt", "Vorgang", "Einwilligung", "Erfassende Stelle", "Nr.")
READ_HEADINGS = ("Zeitpunkt", "Vorgang", "Lesende Stelle", "Übermittlung", "Nr.")
INTRO = ("Diese Auskunft nennt jede Übermittlung Ihrer Daten zwischen Behörden über kimhub, auch abgelehnte, mit "
         "empfangender Stelle, Zweck, Datenkategorien und der Einwilligung, auf der sie beruhte. Inhalte der "
         "Nachrichten sind im Protokoll nicht gespeichert.")
COMPLAINT = ("Beschwerden können Sie an die Landesbeauftragte für Datenschutz und Informationsfreiheit "
             "Nordrhein-Westfalen (LDI NRW) richten (Art. 77 DSGVO).")


def transfer_columns(t: dict, office_names: dict[str, str]) -> list[str]:
    """One transfer in the report's columns as plain text (for the PDF; the page shows the same)."""
    reasons = ", ".join(REASONS.get(r, r) for r in t["reasons"])
    decision = DECISIONS.get(t["decision"], t["decision"]) + (f" ({reasons})" if reasons else "")
    return [_date(t["recorded_at"]), office_names.get(t["recipient_office"], t["recipient_office"] or "–"),
            _purpose(t["purpose"]), _categories(t["categories_sent"]), _categories(t["categories_removed"]),
            (t["consent_id"] or "–") + _version(t["consent_version"]), decision, str(t["index"])]


def consent_columns(c: dict, office_names: dict[str, str]) -> list[str]:
    return [_date(c["recorded_at"]), EVENTS.get(c["event"], c["event"]), c["consent_id"] + _version(c["consent_version"]),
            office_names.get(c["office"], c["office"] or "–"), str(c["index"])]


def read_columns(r: dict, office_names: dict[str, str]) -> list[str]:
    """One read (who opened what about the person, when) in the report's columns as plain text."""
    return [_date(r["recorded_at"]), READS.get(r["read"], r["read"]), office_names.get(r["office"], r["office"]),
            r["transfer_id"] or "–", str(r["index"])]


def generated_on(report: dict) -> str:
    return _date(report["generated_at"])


def proof_text(size: int) -> str:
    return (f"Jeder Eintrag ist im manipulationssicheren Protokoll (Merkle-Baum nach RFC 9162) enthalten. Der "
            f"signierte Prüfpunkt unten umfasst {size} Einträge; die maschinenlesbare Fassung dieser Auskunft "
            f"(JSON, Art. 20 DSGVO) enthält zu jedem Eintrag den Inklusionsnachweis.")


def render(report: dict, office_names: dict[str, str], pdf_link: str | None = None) -> str:
    """The access report (the DPO view's dict) as one HTML page; ``office_names`` by office id;
    ``pdf_link``: where the same report is as a PDF."""
    pdf = (f'<p class=noprint><a href="{escape(pdf_link)}">Diese Auskunft als PDF herunterladen</a></p>'
           if pdf_link else "")
    transfers = _transfer_rows(report["transfers"], office_names)
    consents = _consent_rows(report["consents"], office_names)
    reads = _read_rows(report.get("reads", []), office_names)
    cp = report["checkpoint"]
    return f"""<!doctype html>
<html lang="de"><head><meta charset="utf-8"><title>Auskunft nach Art. 15 DSGVO</title>
<style>{STYLE}</style></head><body>
<h1>{HEADING}</h1>
<p>Erstellt am {generated_on(report)}. Kennung der Person (Pseudonym): <code>{escape(report['person'])}</code>.</p>
<p>{INTRO}</p>{pdf}
<h2>Übermittlungen</h2>
<table><tr>{_headings(TRANSFER_HEADINGS)}</tr>{transfers}</table>
<h2>Ihre Einwilligungen</h2>
<table><tr>{_headings(CONSENT_HEADINGS)}</tr>{consents}</table>
<h2>Wer Ihre Daten gelesen hat</h2>
<table><tr>{_headings(READ_HEADINGS)}</tr>{reads}</table>
<h2>Nachweis</h2>
<p class=small>{proof_text(cp['size'])}</p>
<pre>{escape(cp['note'])}</pre>
<p class=small>{COMPLAINT}</p>
</body></html>
"""
