"""The web interface beyond the walk: revoking a consent, the Art. 15 report page; axe-core on each."""
from __future__ import annotations

from tests.e2e.browser import assert_accessible, browser, sign_in  # noqa: F401
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
