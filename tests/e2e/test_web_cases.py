"""The cases page: the case manager archives a case (the retention period starts); the DPO erases an archived
case (Art. 17) after a confirmation step, refusals in German; axe-core on each page."""
from __future__ import annotations

from tests.e2e.browser import assert_accessible, browser, sign_in  # noqa: F401
from tests.e2e.conftest import consent_body


def open_case(cm) -> tuple[str, str]:
    """A person with a consent and an open case of cm.rsk's office holding them."""
    person = cm.post("/consents", json=consent_body()).json()["person"]
    return person, cm.post("/cases", json={"persons": [person]}).json()["case_id"]


def test_case_manager_archives_a_case(hub, browser, cm):
    _, case_id = open_case(cm)
    page = browser.new_context().new_page()
    sign_in(page, hub.base_url, "cm.rsk")
    page.get_by_role("link", name="Fälle").click()
    page.get_by_role("button", name=f"Fall {case_id} archivieren").click()
    page.get_by_text(f"Der Fall {case_id} ist archiviert.").wait_for()
    assert page.get_by_role("button", name=f"Fall {case_id} archivieren").count() == 0
    assert_accessible(page)
    assert cm.get(f"/cases/{case_id}").json()["status"] == "archived"


def archived_case(cm) -> tuple[str, str]:
    person, case_id = open_case(cm)
    assert cm.post(f"/cases/{case_id}/archive").status_code == 200
    return person, case_id


def forged_erasure(page, base_url: str, case_id: str, confirmed: bool = True):
    """The erasure form sent directly (no link offered, or the browser's `required` bypassed)."""
    csrf = page.locator("input[name=csrf]").first.get_attribute("value")
    form = {"csrf": csrf, "bestaetigt": "ja"} if confirmed else {"csrf": csrf}
    return page.context.request.post(f"{base_url}/ui/faelle/{case_id}/loeschen", form=form)


def test_dpo_erases_an_archived_case_after_confirming(hub, browser, cm, dpo):
    person, case_id = archived_case(cm)
    page = browser.new_context().new_page()
    sign_in(page, hub.base_url, "dpo")
    page.get_by_role("link", name="Fälle").click()
    page.get_by_role("link", name=f"Fall {case_id} löschen (Art. 17 DSGVO)").click()
    page.wait_for_url(f"**/ui/faelle/{case_id}/loeschen")
    page.get_by_role("heading", name="Was bleibt").wait_for()
    assert_accessible(page)

    unconfirmed = forged_erasure(page, hub.base_url, case_id, confirmed=False)
    assert unconfirmed.status == 422 and "Es wurde nichts gelöscht." in unconfirmed.text()
    assert dpo.get(f"/cases/{case_id}").json()["status"] == "archived"  # nothing changed
    assert len(dpo.get(f"/rights/persons/{person}/data").json()["consents"]) == 1

    page.get_by_label("Ich bestätige, dass dieser Fall").check()
    page.get_by_role("button", name="Fall endgültig löschen").click()
    page.get_by_text(f"Der Fall {case_id} ist gelöscht (Art. 17 DSGVO).").wait_for()
    row = page.get_by_role("row").filter(has_text=case_id)
    assert "gelöscht am" in row.inner_text()
    assert row.get_by_role("link", name=f"Fall {case_id} löschen (Art. 17 DSGVO)").count() == 0
    assert_accessible(page)
    assert dpo.get(f"/cases/{case_id}").json()["status"] == "erased"
    assert dpo.get(f"/rights/persons/{person}/data").json()["consents"] == []


def test_case_erasure_refusals_are_shown_in_german(hub, browser, cm):
    _, open_id = open_case(cm)
    page = browser.new_context().new_page()
    sign_in(page, hub.base_url, "dpo")
    page.get_by_role("link", name="Fälle").click()
    page.get_by_role("row").filter(has_text=open_id).wait_for()
    assert page.get_by_role("link", name=f"Fall {open_id} löschen (Art. 17 DSGVO)").count() == 0
    refused = forged_erasure(page, hub.base_url, open_id)
    assert refused.status == 409 and "Der Fall ist noch offen." in refused.text()
    assert cm.get(f"/cases/{open_id}").json()["status"] == "open"

    unknown = forged_erasure(page, hub.base_url, "c-unbekannt")
    assert unknown.status == 404 and "Fall nicht gefunden." in unknown.text()
    page.goto(f"{hub.base_url}/ui/faelle/{open_id}/loeschen")
    page.get_by_text("Der Fall ist noch offen.").wait_for()
    assert page.get_by_role("button", name="Fall endgültig löschen").count() == 0
    assert_accessible(page)

    _, archived_id = archived_case(cm)  # the DPO of another controller does not see it
    other = browser.new_context().new_page()
    sign_in(other, hub.base_url, "dpo.me")
    other.get_by_role("link", name="Fälle").click()
    elsewhere = forged_erasure(other, hub.base_url, archived_id)
    assert elsewhere.status == 404 and "Fall nicht gefunden." in elsewhere.text()
    assert cm.get(f"/cases/{archived_id}").json()["status"] == "archived"
