"""The Art. 15 access report as a printable PDF (fpdf2, core font Helvetica: Latin-1 covers German).

The same data and the same texts as the HTML page (``report_html``): the PDF shows nothing the page
does not (no log pseudonym, no leaf hashes or proofs: those are in the machine-readable JSON)."""
from __future__ import annotations

from fpdf import FPDF
from fpdf.fonts import FontFace

from services.audit import report_html as page

# Characters outside Latin-1 that the report's texts use, as the core font can print them.
_LATIN1 = str.maketrans({"\u2014": "-", "\u2013": "-", "\u201e": '"', "\u201c": '"', "\u201d": '"', "\u2019": "'",
                         "\u201a": "'", "\u2018": "'", "\u2026": "..."})
_HEAD = FontFace(emphasis="BOLD", fill_color=(238, 238, 238))
TRANSFER_WIDTHS = (28, 40, 40, 38, 30, 38, 44, 12)
CONSENT_WIDTHS = (40, 30, 80, 90, 15)
READ_WIDTHS = (40, 50, 80, 70, 15)


def latin1(text: str) -> str:
    """``text`` as Helvetica prints it: typographic dashes and quotes plain, anything else a '?'."""
    return text.translate(_LATIN1).encode("latin-1", "replace").decode("latin-1")


def render(report: dict, office_names: dict[str, str], compress: bool = True) -> bytes:
    """The access report (the DPO view's dict) as PDF bytes, A4 landscape; ``office_names`` by office id."""
    pdf = FPDF(orientation="landscape", format="A4")
    pdf.set_compression(compress)
    pdf.set_title(latin1("Auskunft nach Art. 15 DSGVO"))
    pdf.set_lang("de")
    pdf.set_creator("kimhub")
    pdf.set_auto_page_break(True, margin=15)
    pdf.add_page()
    _heading(pdf, page.HEADING, 14)
    _text(pdf, f"Erstellt am {page.generated_on(report)}. Kennung der Person (Pseudonym): {report['person']}.")
    _text(pdf, page.INTRO)
    _heading(pdf, "Übermittlungen", 12)
    _table(pdf, page.TRANSFER_HEADINGS, TRANSFER_WIDTHS,
           [page.transfer_columns(t, office_names) for t in report["transfers"]], "Keine Übermittlungen.")
    _heading(pdf, "Ihre Einwilligungen", 12)
    _table(pdf, page.CONSENT_HEADINGS, CONSENT_WIDTHS,
           [page.consent_columns(c, office_names) for c in report["consents"]], "Keine Einträge.")
    _heading(pdf, "Wer Ihre Daten gelesen hat", 12)
    _table(pdf, page.READ_HEADINGS, READ_WIDTHS,
           [page.read_columns(r, office_names) for r in report.get("reads", [])], "Keine Einträge.")
    _heading(pdf, "Nachweis", 12)
    _text(pdf, page.proof_text(report["checkpoint"]["size"]), size=8)
    pdf.set_font("Courier", size=7)
    pdf.multi_cell(0, 3.5, latin1(report["checkpoint"]["note"]), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)
    _text(pdf, page.COMPLAINT, size=8)
    return bytes(pdf.output())


def _heading(pdf: FPDF, text: str, size: int) -> None:
    pdf.ln(2)
    pdf.set_font("Helvetica", style="B", size=size)
    pdf.multi_cell(0, size * 0.5, latin1(text), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(1)


def _text(pdf: FPDF, text: str, size: int = 10) -> None:
    pdf.set_font("Helvetica", size=size)
    pdf.multi_cell(0, size * 0.5, latin1(text), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(1)


def _table(pdf: FPDF, headings: tuple[str, ...], widths: tuple[int, ...], rows: list[list[str]], empty: str) -> None:
    pdf.set_font("Helvetica", size=8)
    with pdf.table(col_widths=widths, width=sum(widths), align="LEFT", text_align="LEFT", headings_style=_HEAD,
                   line_height=4, repeat_headings=1) as table:
        table.row([latin1(h) for h in headings])
        for cells in rows:
            table.row([latin1(c) for c in cells])
        if not rows:
            table.row().cell(latin1(empty), colspan=len(headings))
    pdf.ln(2)
