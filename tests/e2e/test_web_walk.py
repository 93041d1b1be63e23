"""The whole walk through the web interface only, in Debian's Chromium against the hub as a real
process: the case manager records a consent and sends a referral; the clerk (whose inbox updates by
itself) confirms receipt and asks for a missing document; the case manager answers with the document;
the DPO finds the records and checks one inclusion proof in the browser. axe-core on every page."""
from __future__ import annotations

import hashlib
import re
import time
from urllib.parse import urljoin

import pytest

from tests.e2e.browser import assert_accessible, browser, screenshot, sign_in, sign_out  # noqa: F401

SIGNED_FORM = b"%PDF-1.7\n% unterschriebene Einwilligung (Test)\n%%EOF\n"
PASSPORT = b"%PDF-1.7\n% Reisepass (Test)\n%%EOF\n"
PDF = b"%PDF-1.7\n% Meldebescheinigung (Test)\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n"
PERSON = re.compile(r"/ui/personen/(p-[0-9a-f]{32})")


def reload_until(page, text: str, timeout: float = 30) -> None:
    """Reload until ``text`` shows (the gate and the delivery work asynchronously)."""
    deadline = time.monotonic() + timeout
    while page.get_by_text(text).count() == 0:
        if time.monotonic() > deadline:
            pytest.fail(f"{text!r} not on {page.url} within {timeout}s")
        time.sleep(0.5)
        page.reload()


def record_consent(page) -> str:
    page.get_by_role("link", name="Einwilligung für eine neue Person erfassen").click()
    assert_accessible(page)
    screenshot(page, "einwilligung-erfassen")
    page.get_by_label("Wohnort der Person (Gemeinde)").select_option(label="Troisdorf")
    page.get_by_label("Ausländerbehörde").check()
    page.get_by_label("Prüfung einer Aufenthaltsperspektive").check()
    for category in ("Stammdaten", "Falldaten", "Dokumente"):
        page.get_by_label(category).check()
    page.get_by_label("Senden und Antworten der Stelle empfangen").check()
    page.get_by_label("Gültig ab").fill("2025-01-01")
    page.get_by_label("Scan des unterschriebenen Formulars").set_input_files(
        {"name": "einwilligung.pdf", "mimeType": "application/pdf", "buffer": SIGNED_FORM})
    page.get_by_role("button", name="Einwilligung speichern").click()
    page.get_by_text("Die Einwilligung ist gespeichert.").wait_for()
    assert page.get_by_text(hashlib.sha256(SIGNED_FORM).hexdigest()).count() == 1  # only its SHA-256 is kept
    assert page.get_by_text("darf von Ihrer Stelle").count() == 1  # what it covers, in plain German
    return PERSON.search(page.url).group(1)


def send_referral(page) -> None:
    """A referral pre-checked against the § 25b checklist: the passport attached, the registration missing."""
    page.get_by_role("link", name="Überleitung an die zuständige Ausländerbehörde senden").click()
    page.get_by_label("Checkliste zur Vorprüfung").select_option(label="Aufenthaltserlaubnis bei nachhaltiger Integration")
    page.get_by_role("button", name="Checkliste laden").click()
    page.get_by_text("Vorprüfung: Aufenthaltserlaubnis bei nachhaltiger Integration").wait_for()
    page.get_by_label("Gültiger Pass vorhanden").select_option("ja")
    passport = page.locator("fieldset", has_text="Gültiger Nationalpass oder Passersatz")
    passport.get_by_label("Stand").select_option("present")
    passport.get_by_label("Dokument").set_input_files({"name": "pass.pdf", "mimeType": "application/pdf",
                                                       "buffer": PASSPORT})
    registration = page.locator("fieldset", has_text="Meldebescheinigung")
    registration.get_by_label("Stand").select_option("missing")
    registration.get_by_label("Begründung").fill("wird beim Bürgeramt beantragt")
    assert_accessible(page)
    screenshot(page, "ueberleitung")
    page.get_by_label("Anlass der Überleitung").fill("Prüfung einer Perspektive nach § 25b AufenthG")
    page.get_by_label("Erbetene Handlung").fill("Beratungstermin anbieten")
    page.get_by_label("Vorname").fill("Amina")
    page.get_by_label("Nachname").fill("Beispiel")
    page.get_by_role("button", name="Überleitung senden").click()
    page.get_by_text("ist angenommen").wait_for()
    reload_until(page, "zugestellt")
    assert_accessible(page)


def clerk_handles_item(clerk, new_before: int) -> None:
    rows = clerk.locator("tr.new-item")
    deadline = time.monotonic() + 30
    while rows.count() == new_before:  # htmx polling brings it in, no reload
        assert time.monotonic() < deadline, "the referral did not show up in the open inbox"
        clerk.wait_for_timeout(250)
    assert_accessible(clerk)
    screenshot(clerk, "posteingang")
    rows.first.locator("a").click()
    assert_accessible(clerk)
    assert clerk.get_by_role("heading", name="Vorgeprüfte Überleitung von").count() == 1
    assert clerk.get_by_text("Meldebescheinigung: fehlt (wird beim Bürgeramt beantragt)").count() == 1
    document = clerk.get_by_role("link", name="Gültiger Nationalpass oder Passersatz")
    assert clerk.request.get(urljoin(clerk.url, document.get_attribute("href"))).body() == PASSPORT
    clerk.get_by_role("button", name="Eingang bestätigen").click()
    clerk.get_by_text("Der Eingang ist bestätigt.").wait_for()
    clerk.locator("summary", has_text="Unterlagen nachfordern").click()
    clerk.get_by_label("Fehlende Unterlagen").fill("Meldebescheinigung mit Wohnungshistorie")
    clerk.get_by_label("Frist").fill("2099-01-31")
    assert_accessible(clerk)
    screenshot(clerk, "nachricht")
    clerk.get_by_role("button", name="Unterlagen nachfordern: senden").click()
    clerk.get_by_text("Ihre Antwort ist angenommen").wait_for()


def answer_request(page) -> None:
    reload_until(page, "Nachforderung von Ausländerbehörde Stadt Troisdorf")
    assert page.get_by_text("Meldebescheinigung mit Wohnungshistorie").count() >= 1
    assert_accessible(page)
    screenshot(page, "person")
    page.get_by_label("Ihre Antwort").fill("Die Meldebescheinigung liegt bei.")
    page.get_by_label("Bezeichnung des Dokuments").fill("Meldebescheinigung")
    page.get_by_label("Datei").set_input_files({"name": "melde.pdf", "mimeType": "application/pdf",
                                                   "buffer": PDF})
    page.get_by_role("button", name="Antwort senden").click()
    page.get_by_text("ist angenommen").wait_for()
    assert page.get_by_text("Nachforderung von").count() == 0  # no longer open


def dpo_checks_proof(page, person: str) -> None:
    assert_accessible(page)
    page.get_by_label("Person (Pseudonym)").fill(person)
    page.get_by_role("button", name="Filtern").click()
    delivered = page.locator("tbody td", has_text="zugestellt")
    deadline = time.monotonic() + 30
    while delivered.count() < 3:  # the referral, the Nachforderung and the answer (the gate logs it on delivery)
        assert time.monotonic() < deadline, f"{delivered.count()} delivered records"
        page.wait_for_timeout(500)
        page.reload()
    assert delivered.count() == 3
    assert_accessible(page)
    screenshot(page, "protokoll")
    page.get_by_label("Art").select_option("consent")
    page.get_by_role("button", name="Filtern").click()
    page.get_by_text("1 Eintrag").wait_for()
    page.locator("tbody a").first.click()
    reload_until(page, "Nachweis im Browser prüfen")
    page.get_by_role("button", name="Nachweis im Browser prüfen").click()
    page.get_by_text("Nachweis geprüft").wait_for()
    assert_accessible(page)
    screenshot(page, "nachweis")
    page.evaluate("""() => {  // a record changed by one character no longer leads to the signed root
        const el = document.getElementById("proof-data");
        const data = JSON.parse(el.textContent);
        data.record.recorded_by = data.record.recorded_by + "x";
        el.textContent = JSON.stringify(data);
    }""")
    page.get_by_role("button", name="Nachweis im Browser prüfen").click()
    page.get_by_text("Nachweis FEHLGESCHLAGEN").wait_for()
    page.get_by_role("navigation").get_by_role("link", name="Prüfpunkte").click()
    page.get_by_text("Neuester Prüfpunkt").wait_for()
    assert_accessible(page)


def test_the_walk_through_the_web_interface(hub, browser):
    cm = browser.new_context().new_page()
    cm.goto(f"{hub.base_url}/")
    assert cm.url.endswith("/ui/anmelden")
    assert_accessible(cm)
    screenshot(cm, "anmelden")
    sign_in(cm, hub.base_url, "cm.rsk")
    assert_accessible(cm)
    person = record_consent(cm)

    clerk = browser.new_context().new_page()  # the clerk's inbox is open before the referral arrives
    sign_in(clerk, hub.base_url, "clerk.troisdorf-abh")
    assert clerk.url.endswith("/ui/posteingang")
    new_before = clerk.locator("tr.new-item").count()

    send_referral(cm)
    clerk_handles_item(clerk, new_before)
    answer_request(cm)

    dpo = browser.new_context().new_page()
    sign_in(dpo, hub.base_url, "dpo")
    dpo_checks_proof(dpo, person)
    for page in (cm, clerk, dpo):
        sign_out(page)
        assert_accessible(page)
