"""The web interface beyond the walk: revoking a consent, the Art. 15 report page, the admin pages
(dead letters, publishing a checklist version); axe-core on each."""
from __future__ import annotations

from datetime import date

import yaml

from tests.e2e.browser import assert_accessible, browser, screenshot, sign_in  # noqa: F401
from tests.e2e.conftest import consent_body, referral, wait_for


def test_case_manager_revokes_a_consent(hub, browser, cm):
    person = cm.post("/consents", json=consent_body()).json()["person"]
    page = browser.new_context().new_page()
    sign_in(page, hub.base_url, "cm.rsk")
    page.goto(f"{hub.base_url}/ui/personen/{person}")
    page.get_by_label("Widerruf erklärt").select_option("schriftlich")
    page.get_by_role("button", name="Widerruf erfassen").click()
    page.get_by_text("Der Widerruf ist gespeichert.").wait_for()
    assert page.get_by_text("widerrufen am").count() == 1
    assert_accessible(page)
    [consent] = cm.get(f"/persons/{person}/consents").json()
    assert consent["revocation_method"] == "schriftlich"


def test_dpo_opens_the_art_15_report_of_a_person(hub, browser, cm):
    person = cm.post("/consents", json=consent_body()).json()["person"]
    transfer_id = cm.post("/transfers", json=referral(person)).json()["transfer_id"]
    wait_for(lambda: cm.get(f"/transfers/{transfer_id}").json()["status"] == "delivered")
    page = browser.new_context().new_page()
    sign_in(page, hub.base_url, "dpo")
    page.get_by_label("Person (Pseudonym)").fill(person)
    page.get_by_role("button", name="Filtern").click()
    page.get_by_role("link", name="Auskunft nach Art. 15 DSGVO über diese Person").click()
    page.get_by_text("Auskunft nach Art. 15 DSGVO").first.wait_for()
    assert page.get_by_text("Ausländerbehörde Stadt Troisdorf").count() >= 1
    assert_accessible(page)


def test_admin_sees_dead_letters_and_publishes_a_checklist_version(hub, browser, cm):
    page = browser.new_context().new_page()
    sign_in(page, hub.base_url, "admin.troisdorf-ebh")
    assert page.url.endswith("/ui/admin/fehlgeschlagen")
    assert_accessible(page)
    page.get_by_role("navigation").get_by_role("link", name="Checklisten").click()
    assert_accessible(page)
    page.get_by_label("Vorlage (YAML oder JSON)").fill("nur: [Text")
    page.get_by_role("button", name="Version veröffentlichen").click()
    page.get_by_text("Bitte eine Vorlage in YAML oder JSON angeben.").wait_for()
    current = cm.get("/checklists/einbuergerung-stag-10").json()
    new = {**current, "version": current["version"] + 1, "valid_from": date.today().isoformat(),
           "review_note": "Neue Fassung (Test über die Weboberfläche)"}
    page.get_by_label("Vorlage (YAML oder JSON)").fill(yaml.safe_dump(new, allow_unicode=True))
    page.get_by_role("button", name="Version veröffentlichen").click()
    page.get_by_text("Die neue Version von „einbuergerung-stag-10“ ist veröffentlicht.").wait_for()
    assert cm.get("/checklists/einbuergerung-stag-10").json()["version"] == current["version"] + 1
    assert_accessible(page)
    screenshot(page, "checklisten")
