"""The Art. 15 report as a PDF (services/audit/report_pdf.py): it parses, holds the report's texts, and
nothing the HTML page does not show (no log pseudonym, leaf hashes or proofs)."""
import html
import re
from datetime import datetime, timezone

from services.audit import report_html, report_pdf

NAMES = {"abh-troisdorf": "Ausländerbehörde Stadt Troisdorf", "kim-rsk": "KIM Rhein-Sieg-Kreis"}
REPORT = {
    "person": "p-" + "a" * 32, "log_pseudonym": "f" * 64, "generated_at": datetime(2026, 5, 4, 9, 30, tzinfo=timezone.utc),
    "checkpoint": {"size": 7, "root_hash": "cm9vdA==", "note": "kimhub-test/transfer-log\n7\ncm9vdA==\n\n"
                                                              "\u2014 kimhub-test AAAAsignatur==\n"},
    "transfers": [
        {"index": 3, "kind": "transfer", "recorded_at": "2026-05-01T10:00:00Z", "recipient_office": "abh-troisdorf",
         "purpose": "aufenthaltsperspektive", "categories_sent": ["stammdaten"], "categories_removed": ["falldaten"],
         "consent_id": "c-1", "consent_version": 2, "decision": "refused", "reasons": ["purpose_not_covered"],
         "leaf_hash": "TEFGSEFTSA==", "inclusion_proof": ["UFJPT0ZPTkU=", "UFJPT0ZUV08="], "person": "e" * 64},
        {"index": 8, "kind": "transfer", "recorded_at": "2026-05-02T10:00:00Z", "recipient_office": "abh-troisdorf",
         "purpose": "einbuergerung", "categories_sent": ["stammdaten", "dokumente"], "categories_removed": [],
         "consent_id": None, "consent_version": None, "decision": "delivered", "reasons": [],
         "inclusion_proof": None, "person": "e" * 64}],
    "consents": [{"index": 1, "kind": "consent", "recorded_at": "2026-04-01T08:00:00Z", "event": "granted",
                  "consent_id": "c-1", "consent_version": 1, "office": "kim-rsk", "leaf_hash": "Q09OU0VOVA==",
                  "inclusion_proof": []}],
}


def pdf_text(pdf: bytes) -> str:
    """The text an uncompressed fpdf2 document shows (its Tj strings), joined by spaces."""
    strings = re.findall(rb"\(((?:[^()\\]|\\.)*)\)\s*Tj", pdf)
    return " ".join(re.sub(rb"\\(.)", rb"\1", s).decode("latin-1") for s in strings)


def words(text: str) -> set[str]:
    return {w.rstrip(".:") for w in re.findall(r"[\w\-./=+:]+", text)}


def test_the_pdf_parses_and_holds_the_report():
    pdf = report_pdf.render(REPORT, NAMES, compress=False)
    assert pdf.startswith(b"%PDF-") and pdf.rstrip().endswith(b"%%EOF")
    text = pdf_text(pdf)
    for expected in ("Auskunft nach Art. 15 DSGVO: Übermittlungen Ihrer Daten über kimhub", "Troisdorf",
                     "Einbürgerung", "abgelehnt (vor dem Versand)", "Zweck nicht umfasst", "c-1 (Version 2)",
                     "Ihre Einwilligungen", "erteilt", "KIM Rhein-Sieg-Kreis", "kimhub-test/transfer-log",
                     "- kimhub-test AAAAsignatur==", "LDI NRW", REPORT["person"]):
        assert expected in text, expected


def test_the_pdf_shows_nothing_the_html_page_does_not():
    text = pdf_text(report_pdf.render(REPORT, NAMES, compress=False))
    page = html.unescape(re.sub(r"<[^>]+>", " ", report_html.render(REPORT, NAMES)))
    assert words(text) - words(report_pdf.latin1(page)) == set()
    for secret in (REPORT["log_pseudonym"], "TEFGSEFTSA==", "UFJPT0ZPTkU=", "Q09OU0VOVA==", "e" * 64):
        assert secret not in text


def test_the_compressed_pdf_is_smaller_and_still_a_pdf():
    assert report_pdf.render(REPORT, NAMES).startswith(b"%PDF-")
    empty = report_pdf.render(REPORT | {"transfers": [], "consents": []}, NAMES, compress=False)
    assert "Keine Übermittlungen." in pdf_text(empty) and "Keine Einträge." in pdf_text(empty)


def test_the_html_page_links_to_the_pdf_only_when_asked():
    assert "Diese Auskunft als PDF herunterladen" not in report_html.render(REPORT, NAMES)
    linked = report_html.render(REPORT, NAMES, "/ui/auskunft.pdf?person=p-1")
    assert 'href="/ui/auskunft.pdf?person=p-1"' in linked
