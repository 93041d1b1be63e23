"""The DPO's pages beyond the walk: cosigning a checkpoint (the key stays with the DPO: the test plays
`kimhub audit cosign` on the DPO's machine), totals by office and month as charts, the Art. 15 report as a
PDF. axe-core on each page."""
from __future__ import annotations

import base64
import json

from services.audit.note_keys import NoteSigner, NoteVerifier
from services.audit.witness import cosign
from tests.conftest import TEST_DPO_SKEY
from tests.e2e.browser import assert_accessible, browser, screenshot, sign_in  # noqa: F401
from tests.e2e.conftest import consent_body, referral, wait_for

WITNESS = NoteSigner.from_skey(TEST_DPO_SKEY)


def _grow(cm, dpo) -> int:
    """One more transfer and a checkpoint over it: the new latest size."""
    before = dpo.get("/audit/checkpoints/latest").json().get("size", 0)
    person = cm.post("/consents", json=consent_body()).json()["person"]
    cm.post("/transfers", json=referral(person))
    return wait_for(lambda: (n := dpo.get("/audit/checkpoints/latest").json().get("size", 0)) > before and n)


def _download(page, base_url: str, link_name: str) -> bytes:
    href = page.get_by_role("link", name=link_name).get_attribute("href")
    response = page.context.request.get(base_url + href)
    assert response.ok, response.status
    return response.body()


def _paste(page, note: str) -> None:
    page.get_by_label("Gegengezeichneter Prüfpunkt").fill(note)
    page.get_by_role("button", name="Gegenzeichnen").click()
    page.wait_for_load_state()


def test_dpo_cosigns_checkpoints_with_a_key_the_hub_never_sees(hub, browser, cm, dpo):
    hub_key = NoteVerifier.from_vkey(dpo.get("/audit/keys").json()["hub"])
    _grow(cm, dpo)
    page = browser.new_context().new_page()
    sign_in(page, hub.base_url, "dpo")
    page.get_by_role("link", name="Prüfpunkte").click()
    page.get_by_role("heading", name="Gegenzeichnen").wait_for()
    _paste(page, "kein Prüfpunkt")
    page.get_by_role("alert").get_by_text("Signatur ungültig: Der Text ist keine vollständige signierte Notiz").wait_for()

    note = _download(page, hub.base_url, "Prüfpunkt (Größe").decode()
    cosigned, state = cosign(note, [hub_key], None, [], WITNESS)  # first use: trusted as it is
    _paste(page, cosigned)
    page.get_by_text("Die Gegenzeichnung ist gespeichert").wait_for()
    assert f"\u2014 {WITNESS.name} " in dpo.get(f"/audit/checkpoints/{state.size}").json()["note"]

    _grow(cm, dpo)
    page.goto(f"{hub.base_url}/ui/pruefpunkte")
    assert_accessible(page)
    screenshot(page, "pruefpunkte")
    proof = _download(page, hub.base_url, f"Konsistenznachweis ab Größe {state.size}")
    note = _download(page, hub.base_url, "Prüfpunkt (Größe").decode()
    later, new_state = cosign(note, [hub_key], state, [base64.b64decode(h) for h in json.loads(proof)["proof"]],
                              WITNESS)
    assert new_state.size > state.size
    _paste(page, later.replace("\n", "\r\n"))  # as a browser sends a text area
    page.get_by_text("Die Gegenzeichnung ist gespeichert").wait_for()
    assert page.get_by_text("Der neueste Prüfpunkt ist mit diesem Schlüssel gegengezeichnet.").count() == 1
    assert f"\u2014 {WITNESS.name} " in dpo.get(f"/audit/checkpoints/{new_state.size}").json()["note"]


def test_dpo_sees_totals_by_office_and_month_as_charts(hub, browser, cm, dpo):
    person = cm.post("/consents", json=consent_body()).json()["person"]
    transfer_id = cm.post("/transfers", json=referral(person)).json()["transfer_id"]
    wait_for(lambda: cm.get(f"/transfers/{transfer_id}").json()["status"] == "delivered")
    assert cm.post("/transfers", json=referral(person, purpose="einbuergerung")).status_code == 403  # not covered
    page = browser.new_context().new_page()
    sign_in(page, hub.base_url, "dpo")
    page.get_by_role("link", name="Statistik").click()
    page.get_by_role("heading", name="Übermittlungen je Stelle und Monat").wait_for()
    figure = page.get_by_role("figure", name="KIM Case Management Rhein-Sieg-Kreis (Demo)")
    assert figure.locator("svg[role=img] rect.bar--delivered").count() >= 1
    assert figure.locator("svg[role=img] rect.bar--refused").count() >= 1
    table = figure.get_by_role("table")
    assert int(table.locator("tbody tr").last.locator("td").last.inner_text()) >= 1
    assert_accessible(page)
    screenshot(page, "statistik")


def test_dpo_prints_the_art_15_report_as_pdf(hub, browser, cm, dpo):
    person = cm.post("/consents", json=consent_body()).json()["person"]
    page = browser.new_context().new_page()
    sign_in(page, hub.base_url, "dpo")
    page.goto(f"{hub.base_url}/ui/auskunft?person={person}")
    link = page.get_by_role("link", name="Diese Auskunft als PDF herunterladen")
    response = page.context.request.get(hub.base_url + link.get_attribute("href"))
    assert response.headers["content-type"] == "application/pdf" and response.body().startswith(b"%PDF-")
    assert_accessible(page)
    api = dpo.get(f"/audit/persons/{person}/report.pdf")
    assert api.status_code == 200 and api.content.startswith(b"%PDF-")
    assert 'href="/audit/persons/' in dpo.get(f"/audit/persons/{person}/report", params={"format": "html"}).text
    assert cm.get(f"/audit/persons/{person}/report.pdf").status_code == 403
