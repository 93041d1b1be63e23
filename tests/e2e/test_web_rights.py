"""The DPO carries out a person's rights in the browser against the hub process (issue 17's API as pages):
the Art. 20 export as a JSON download, Art. 18 restriction (the gate then refuses, via the API) and its
lifting, Art. 17 erasure refused in German while a case is open and done once it is archived. Each action
takes a confirmation; without it nothing changes. axe-core on each page; one action by keyboard."""
from __future__ import annotations

import json
from pathlib import Path

from tests.e2e.browser import assert_accessible, browser, screenshot, sign_in  # noqa: F401
from tests.e2e.conftest import consent_body, referral
from tests.e2e.test_web_keyboard import tab_to
from tests.e2e.test_web_keyboard_more import sign_out, signed_in

RESTRICTED = "Die Verarbeitung ist eingeschränkt (Art. 18 DSGVO)."
LIFTED = "Die Einschränkung ist aufgehoben."
ERASED = "Die Daten der Person sind gelöscht (Art. 17 DSGVO)"


def rights_page(page, base_url: str, person: str) -> None:
    """Signed in as the DPO: the navigation's page, the person's pseudonym typed in."""
    sign_in(page, base_url, "dpo")
    page.get_by_role("link", name="Betroffenenrechte", exact=True).click()
    page.get_by_label("Person (Pseudonym)").fill(person)
    page.get_by_role("button", name="Person aufrufen").click()
    page.wait_for_url(f"**/ui/betroffenenrechte/{person}")


def post_unconfirmed(page, base_url: str, path: str):
    """The form sent without its confirmation box (the browser's `required` bypassed)."""
    csrf = page.locator("input[name=csrf]").first.get_attribute("value")
    return page.context.request.post(f"{base_url}/ui/betroffenenrechte/{path}", form={"csrf": csrf})


def restricted(dpo, person: str) -> bool:
    return dpo.get(f"/rights/persons/{person}/data").json()["restricted"]


def test_dpo_downloads_restricts_and_lifts(hub, browser, cm, dpo):
    consent = cm.post("/consents", json=consent_body()).json()
    person = consent["person"]
    page = browser.new_context(accept_downloads=True).new_page()
    rights_page(page, hub.base_url, person)
    assert page.locator("#verarbeitung").inner_text().strip() == "nicht eingeschränkt"
    assert_accessible(page)
    screenshot(page, "betroffenenrechte")

    with page.expect_download() as downloading:
        page.get_by_role("link", name="Daten herunterladen (Art. 20 DSGVO)").click()
    download = downloading.value
    assert download.suggested_filename == f"art20-{person}.json"
    data = json.loads(Path(download.path()).read_text(encoding="utf-8"))
    assert data["format"] == "urn:kimhub:art20:v1" and data["person"] == person
    assert [c["consent_id"] for c in data["consents"]] == [consent["consent_id"]]

    unconfirmed = post_unconfirmed(page, hub.base_url, f"{person}/einschraenkung")
    assert unconfirmed.status == 422 and "Bitte bestätigen Sie" in unconfirmed.text()
    assert not restricted(dpo, person)  # nothing changed

    page.get_by_label("Ich bestätige, dass die Verarbeitung").check()
    page.get_by_role("button", name="Verarbeitung einschränken").click()
    page.get_by_text(RESTRICTED).wait_for()
    assert page.locator("#verarbeitung").inner_text().strip().startswith("eingeschränkt seit")
    assert_accessible(page)
    refused = cm.post("/transfers", json=referral(person))
    assert refused.status_code == 403 and "processing_restricted" in [r["code"] for r in refused.json()["reasons"]]
    again = post_unconfirmed(page, hub.base_url, f"{person}/einschraenkung/aufheben")
    assert again.status == 422 and restricted(dpo, person)

    page.get_by_label("Ich bestätige, dass die Einschränkung aufgehoben").check()
    page.get_by_role("button", name="Einschränkung aufheben").click()
    page.get_by_text(LIFTED).wait_for()
    assert page.locator("#verarbeitung").inner_text().strip() == "nicht eingeschränkt"
    assert cm.post("/transfers", json=referral(person)).status_code == 202


def test_dpo_erases_once_the_case_is_archived(hub, browser, cm, dpo):
    person = cm.post("/consents", json=consent_body()).json()["person"]
    case = cm.post("/cases", json={"persons": [person]})
    assert case.status_code == 201, case.text
    case_id = case.json()["case_id"]
    page = browser.new_context().new_page()
    rights_page(page, hub.base_url, person)
    page.get_by_role("link", name="Daten löschen (Art. 17 DSGVO)").click()
    page.wait_for_url("**/loeschen")
    page.get_by_role("heading", name="Was bleibt").wait_for()
    assert_accessible(page)

    unconfirmed = post_unconfirmed(page, hub.base_url, f"{person}/loeschen")
    assert unconfirmed.status == 422 and "Es wurde nichts gelöscht." in unconfirmed.text()
    _erase(page, expect_status=409)
    page.get_by_role("alert").get_by_text("Die Person gehört zu einem noch offenen Fall").wait_for()
    assert page.get_by_role("button", name="Endgültig löschen").is_visible()  # the form stays
    assert_accessible(page)
    assert len(dpo.get(f"/rights/persons/{person}/data").json()["consents"]) == 1

    assert cm.post(f"/cases/{case_id}/archive").status_code == 200
    _erase(page, expect_status=303)
    page.get_by_text(ERASED).wait_for()
    assert page.locator("#daten").inner_text().strip() == "gelöscht"
    assert_accessible(page)
    after = dpo.get(f"/rights/persons/{person}/data").json()
    assert after["consents"] == [] and after["transfers"] == []


def _erase(page, expect_status: int) -> None:
    page.get_by_label("Ich bestätige, dass alle Daten dieser Person").check()
    with page.expect_response(lambda r: r.request.method == "POST") as answer:
        page.get_by_role("button", name="Endgültig löschen").click()
    assert answer.value.status == expect_status
    page.wait_for_load_state()


def test_dpo_restricts_by_keyboard(hub, browser, cm, dpo):
    person = cm.post("/consents", json=consent_body()).json()["person"]
    page = browser.new_context().new_page()
    signed_in(page, hub.base_url, "dpo")
    tab_to(page, page.get_by_role("link", name="Betroffenenrechte", exact=True))
    page.keyboard.press("Enter")
    page.wait_for_url("**/ui/betroffenenrechte")
    tab_to(page, page.get_by_label("Person (Pseudonym)"))
    page.keyboard.type(person)
    page.keyboard.press("Enter")
    page.wait_for_url(f"**/ui/betroffenenrechte/{person}")
    tab_to(page, page.locator("#confirm-restrict"))
    page.keyboard.press("Space")
    tab_to(page, page.get_by_role("button", name="Verarbeitung einschränken"))
    page.keyboard.press("Enter")
    page.get_by_text(RESTRICTED).wait_for()
    assert restricted(dpo, person)
    sign_out(page)


def test_a_malformed_or_unknown_pseudonym_is_named_in_german(hub, browser):
    page = browser.new_context().new_page()
    sign_in(page, hub.base_url, "dpo")
    malformed = page.goto(f"{hub.base_url}/ui/betroffenenrechte?person=Amina")
    assert malformed.status == 422
    page.get_by_role("alert").get_by_text("Das Pseudonym hat nicht das erwartete Format").wait_for()
    unknown = page.goto(f"{hub.base_url}/ui/betroffenenrechte/p-{'0' * 32}")
    assert unknown.status == 404
    page.get_by_text("Person nicht gefunden").wait_for()
    download = page.context.request.get(f"{hub.base_url}/ui/betroffenenrechte/p-{'0' * 32}/daten")
    assert download.status == 404 and "Person nicht gefunden" in download.text()
