"""A consent with several provisions in the web interface (one fieldset per provision, "Bestimmung 1",
"Bestimmung 2", …): recorded in the browser with two offices, a provision added and one removed without
saving, German errors naming the provision; a referral to the second office passes the gate; the amend
form edits every provision and "Was sich ändert" names a change to the second. axe-core on the form with
two fieldsets; adding a fieldset by keyboard; the same buttons without JavaScript (htmx only swaps the
fieldsets, keeping the chosen scan); odd posts answered in German, never a 500."""
from __future__ import annotations

import re

from tests.e2e.browser import assert_accessible, browser, screenshot, sign_in  # noqa: F401
from tests.e2e.conftest import referral, wait_for
from tests.e2e.test_web_keyboard import tab_to
from tests.e2e.test_web_session import CSRF, signed_in

SIGNED_FORM = b"%PDF-1.7\n% Einwilligung mit zwei Bestimmungen (Test)\n%%EOF\n"
NEW_FORM = b"%PDF-1.7\n% neu unterschrieben, ohne Dokumente an das Jobcenter (Test)\n%%EOF\n"
PERSON = re.compile(r"/ui/personen/(p-[0-9a-f]{32})")


def provision(page, number: int):
    """The fieldset "Bestimmung <number>"."""
    return page.locator(f"fieldset#p{number - 1}")


def fill(fieldset, kind: str, purpose: str, categories: tuple[str, ...], direction: str) -> None:
    fieldset.get_by_label(kind, exact=True).check()
    fieldset.get_by_label(purpose).check()
    for category in categories:
        fieldset.get_by_label(category).check()
    fieldset.get_by_label(direction).check()


def attach(page, content: bytes) -> None:
    page.get_by_label("Scan des unterschriebenen Formulars").set_input_files(
        files=[{"name": "einwilligung.pdf", "mimeType": "application/pdf", "buffer": content}])


def record_two_provisions(page) -> str:
    page.get_by_label("Wohnort der Person (Gemeinde)").select_option(label="Troisdorf")
    fill(provision(page, 1), "Ausländerbehörde", "Prüfung einer Aufenthaltsperspektive", ("Stammdaten", "Falldaten"),
         "Senden und Antworten der Stelle empfangen")
    page.get_by_label("Gültig ab").fill("2025-01-01")
    page.get_by_label("Formularversion").fill("KIM-EW-2026-2")
    page.get_by_role("button", name="Weitere Bestimmung hinzufügen").click()
    fill(provision(page, 2), "Jugendamt", "Kinder- und Jugendhilfe", ("Falldaten",), "Nur senden")
    assert provision(page, 1).get_by_label("Falldaten").is_checked()  # kept as typed, nothing saved
    assert page.get_by_label("Formularversion").input_value() == "KIM-EW-2026-2"
    page.get_by_role("button", name="Weitere Bestimmung hinzufügen").click()
    provision(page, 3).get_by_label("Jobcenter", exact=True).check()  # no purpose yet
    attach(page, SIGNED_FORM)
    page.get_by_role("button", name="Einwilligung speichern").click()
    page.get_by_role("alert").get_by_text("Bestimmung 3: Zwecke: Bitte mindestens eins wählen.").wait_for()
    assert provision(page, 3).get_by_label("Jobcenter", exact=True).is_checked()  # the form as typed

    attach(page, SIGNED_FORM)  # a file is not kept over a reload of the form ...
    provision(page, 2).get_by_role("button", name="Bestimmung entfernen").click()  # the middle one
    provision(page, 3).wait_for(state="detached")
    assert page.get_by_label("Scan des unterschriebenen Formulars").evaluate("el => el.files.length") == 1  # htmx
    assert page.locator("fieldset.provision").count() == 2
    assert provision(page, 1).get_by_label("Ausländerbehörde").is_checked()
    assert provision(page, 2).get_by_label("Jobcenter", exact=True).is_checked()  # was "Bestimmung 3"
    fill(provision(page, 2), "Jobcenter", "Arbeitsmarktintegration", ("Stammdaten", "Falldaten", "Dokumente"),
         "Nur senden")
    assert page.get_by_role("group", name="Bestimmung 2").count() == 1
    assert_accessible(page)
    screenshot(page, "einwilligung-bestimmungen")
    page.get_by_role("button", name="Einwilligung speichern").click()  # ... but over htmx's swap
    page.get_by_text("Die Einwilligung ist gespeichert.").wait_for()
    return PERSON.search(page.url).group(1)


def amend_the_second_provision(page) -> None:
    page.get_by_role("link", name="Einwilligung ändern").click()
    page.get_by_role("heading", name="Einwilligung ändern").wait_for()
    assert page.get_by_text("ändert die erste Bestimmung").count() == 0
    assert provision(page, 1).get_by_label("Ausländerbehörde").is_checked()
    assert provision(page, 2).get_by_label("Jobcenter", exact=True).is_checked()
    assert provision(page, 2).get_by_label("Dokumente").is_checked()
    page.get_by_role("button", name="Weitere Bestimmung hinzufügen").click()  # and the summary follows
    page.locator("#aenderungen").get_by_text("Bestimmung 3: Zwecke: Bitte mindestens eins wählen.").wait_for()
    provision(page, 3).get_by_role("button", name="Bestimmung entfernen").click()
    page.locator("#aenderungen").get_by_text("Noch keine Änderung gewählt").wait_for()
    assert page.locator("fieldset.provision").count() == 2
    provision(page, 2).get_by_label("Dokumente").uncheck()  # htmx asks the hub what this changes
    removed = page.locator("#nicht-mehr-erlaubt")
    removed.get_by_text("Dokumente").wait_for()
    assert "Jobcenter" in removed.inner_text() and "Ausländerbehörde" not in removed.inner_text()
    assert_accessible(page)
    attach(page, NEW_FORM)
    page.get_by_role("button", name="Änderung speichern").click()
    page.get_by_text("Die Änderung ist als neue Version der Einwilligung gespeichert.").wait_for()


def test_two_provisions_recorded_used_and_the_second_amended(hub, browser, cm):
    page = browser.new_context().new_page()
    sign_in(page, hub.base_url, "cm.rsk")
    page.goto(f"{hub.base_url}/ui/personen/neu")
    person = record_two_provisions(page)
    [consent] = cm.get(f"/persons/{person}/consents").json()
    first = consent["versions"][0]["terms"]
    assert [p["recipient"]["kind"] for p in first["provisions"]] == ["abh", "jobcenter"]
    assert first["evidence"]["form_version"] == "KIM-EW-2026-2"

    sent = cm.post("/transfers", json=referral(person, kind="jobcenter", purpose="arbeitsmarktintegration"))
    assert sent.status_code == 202, sent.text  # the second provision lets it through the gate
    assert sent.json()["recipient_office"] == "rsk-jobcenter"
    wait_for(lambda: cm.get(f"/transfers/{sent.json()['transfer_id']}").json()["status"] == "delivered")

    amend_the_second_provision(page)
    [consent] = cm.get(f"/persons/{person}/consents").json()
    latest = consent["versions"][-1]
    assert latest["version"] == 2
    assert latest["terms"]["provisions"][0] == first["provisions"][0]
    assert latest["terms"]["provisions"][1]["recipient"]["kind"] == "jobcenter"
    assert latest["terms"]["provisions"][1]["categories"] == ["stammdaten", "falldaten"]


def test_adding_a_provision_by_keyboard(hub, browser):
    page = browser.new_context().new_page()
    sign_in(page, hub.base_url, "cm.rsk")
    page.goto(f"{hub.base_url}/ui/personen/neu")
    add = page.get_by_role("button", name="Weitere Bestimmung hinzufügen")
    tab_to(page, add)
    page.keyboard.press("Enter")
    provision(page, 2).wait_for()
    new_first_field = provision(page, 2).get_by_label("Ausländerbehörde")
    assert new_first_field.evaluate("el => el === document.activeElement")  # the new fieldset has the focus
    tab_to(page, add)
    page.keyboard.press("Space")
    provision(page, 3).wait_for()
    tab_to(page, page.get_by_label("Formularversion"))
    page.keyboard.press("Enter")  # submits as "save" (stopped by the empty required scan), removes nothing
    page.wait_for_timeout(500)
    assert page.locator("fieldset.provision").count() == 3


def test_without_javascript_the_buttons_post_the_form(hub, browser, cm):
    page = browser.new_context(java_script_enabled=False).new_page()
    sign_in(page, hub.base_url, "cm.rsk")
    page.goto(f"{hub.base_url}/ui/personen/neu")
    page.get_by_label("Wohnort der Person (Gemeinde)").select_option(label="Troisdorf")
    fill(provision(page, 1), "Jugendamt", "Kinder- und Jugendhilfe", ("Falldaten",), "Nur senden")
    page.get_by_label("Gültig ab").fill("2025-01-01")
    page.get_by_role("button", name="Weitere Bestimmung hinzufügen").click()
    fill(provision(page, 2), "Ausländerbehörde", "Prüfung einer Aufenthaltsperspektive", ("Stammdaten", "Falldaten"),
         "Senden und Antworten der Stelle empfangen")
    assert provision(page, 1).get_by_label("Jugendamt").is_checked()
    provision(page, 1).get_by_role("button", name="Bestimmung entfernen").click()
    provision(page, 2).wait_for(state="detached")
    assert provision(page, 1).get_by_label("Ausländerbehörde").is_checked()
    assert provision(page, 1).get_by_label("Stammdaten").is_checked()
    assert page.get_by_label("Gültig ab").input_value() == "2025-01-01"
    attach(page, SIGNED_FORM)
    page.get_by_role("button", name="Einwilligung speichern").click()
    page.get_by_text("Die Einwilligung ist gespeichert.").wait_for()
    [consent] = cm.get(f"/persons/{PERSON.search(page.url).group(1)}/consents").json()
    assert [p["recipient"]["kind"] for p in consent["versions"][0]["terms"]["provisions"]] == ["abh"]


def test_odd_posts_get_german_answers_not_a_500(hub):
    with signed_in(hub, "cm.rsk") as cm:
        csrf = CSRF.search(cm.get("/ui/personen/neu").text).group(1)
        odd = {"csrf": csrf, "municipality": "05382068", "p0-recipient_kind": "office:",
               "p7-purposes": "jugendhilfe", "p7-categories": "falldaten", "valid_from": "gestern",
               "form_version": "X", "language": "de"}
        answer = cm.post("/ui/personen/neu", data=odd, files={"signed_form": ("f.pdf", b"%PDF-1.7", "application/pdf")})
        assert answer.status_code == 422
        for text in ("Bestimmung 1: Stelle: hat nicht das erwartete Format.",
                     "Bestimmung 1: Zwecke: Bitte mindestens eins wählen.", "Gültig ab: "):
            assert text in answer.text
        assert 'name="p1-purposes" value="jugendhilfe" checked' in answer.text  # p7 is shown as Bestimmung 2
        removed = cm.post("/ui/personen/neu", data={"csrf": csrf, "bestimmung_entfernen": "x" * 5000})
        assert removed.status_code == 200 and "Bestimmung 1" in removed.text
