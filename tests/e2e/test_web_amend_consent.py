"""Amending a consent in the web interface: the form prefilled from the current version, what changes
shown in plain German while the form is edited (htmx), German errors on the page, a new version with the
new signed form's SHA-256. axe-core on the page."""
from __future__ import annotations

import hashlib

from tests.e2e.browser import assert_accessible, browser, screenshot, sign_in  # noqa: F401
from tests.e2e.conftest import consent_body

NEW_FORM = b"%PDF-1.7\n% neu unterschriebene Einwilligung (Test)\n%%EOF\n"


def test_case_manager_amends_a_consent_and_sees_what_changes(hub, browser, cm):
    person = cm.post("/consents", json=consent_body()).json()["person"]
    page = browser.new_context().new_page()
    sign_in(page, hub.base_url, "cm.rsk")
    page.goto(f"{hub.base_url}/ui/personen/{person}")
    page.get_by_role("link", name="Einwilligung ändern").click()
    page.get_by_role("heading", name="Einwilligung ändern").wait_for()
    assert page.locator("#p0-category-stammdaten").is_checked() and page.locator("#p0-category-falldaten").is_checked()
    assert not page.locator("#p0-category-dokumente").is_checked()
    assert page.get_by_text("Noch keine Änderung gewählt").count() == 1

    page.locator("#p0-category-dokumente").check()  # htmx asks the hub what this changes
    page.locator("#neu-erlaubt").get_by_text("Dokumente").wait_for()
    page.locator("#p0-category-falldaten").uncheck()
    page.locator("#nicht-mehr-erlaubt").get_by_text("Falldaten").wait_for()
    assert_accessible(page)
    screenshot(page, "einwilligung-aendern")

    page.locator("#p0-purpose-aufenthaltsperspektive").uncheck()
    page.get_by_text("Noch unvollständig").wait_for()
    page.get_by_label("Scan des unterschriebenen Formulars").set_input_files(
        files=[{"name": "einwilligung.pdf", "mimeType": "application/pdf", "buffer": NEW_FORM}])
    page.get_by_role("button", name="Änderung speichern").click()
    page.get_by_role("alert").get_by_text("Zwecke: Bitte mindestens eins wählen.").wait_for()  # German, nothing saved
    assert len(cm.get(f"/persons/{person}/consents").json()[0]["versions"]) == 1

    page.locator("#p0-purpose-aufenthaltsperspektive").check()
    page.get_by_label("Scan des unterschriebenen Formulars").set_input_files(
        files=[{"name": "einwilligung.pdf", "mimeType": "application/pdf", "buffer": NEW_FORM}])
    page.get_by_role("button", name="Änderung speichern").click()
    page.get_by_text("Die Änderung ist als neue Version der Einwilligung gespeichert.").wait_for()
    [consent] = cm.get(f"/persons/{person}/consents").json()
    latest = consent["versions"][-1]
    assert latest["version"] == 2
    assert latest["terms"]["provisions"][0]["categories"] == ["stammdaten", "dokumente"]
    assert latest["terms"]["evidence"]["form_sha256"] == hashlib.sha256(NEW_FORM).hexdigest()
    assert latest["terms"]["valid_until"].startswith("2099-01-01")  # prefilled, kept


def test_a_revoked_consent_is_not_offered_for_amending(hub, browser, cm):
    person = cm.post("/consents", json=consent_body()).json()["person"]
    [consent] = cm.get(f"/persons/{person}/consents").json()
    cm.post(f"/consents/{consent['consent_id']}/revocation", json={"method": "schriftlich"})
    page = browser.new_context().new_page()
    sign_in(page, hub.base_url, "cm.rsk")
    page.goto(f"{hub.base_url}/ui/personen/{person}")
    assert page.get_by_role("link", name="Einwilligung ändern").count() == 0
    page.goto(f"{hub.base_url}/ui/personen/{person}/einwilligungen/{consent['consent_id']}/aendern")
    assert page.get_by_text("Die Einwilligung wurde widerrufen und kann nicht geändert werden.").count() == 1
