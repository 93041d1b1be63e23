"""The cases page: the case manager archives a case (the retention period starts); axe-core on it."""
from __future__ import annotations

from tests.e2e.browser import assert_accessible, browser, sign_in  # noqa: F401
from tests.e2e.conftest import consent_body


def test_case_manager_archives_a_case(hub, browser, cm):
    person = cm.post("/consents", json=consent_body()).json()["person"]
    case_id = cm.post("/cases", json={"persons": [person]}).json()["case_id"]
    page = browser.new_context().new_page()
    sign_in(page, hub.base_url, "cm.rsk")
    page.get_by_role("link", name="Fälle").click()
    page.get_by_role("button", name=f"Fall {case_id} archivieren").click()
    page.get_by_text(f"Der Fall {case_id} ist archiviert.").wait_for()
    assert page.get_by_role("button", name=f"Fall {case_id} archivieren").count() == 0
    assert_accessible(page)
    assert cm.get(f"/cases/{case_id}").json()["status"] == "archived"
