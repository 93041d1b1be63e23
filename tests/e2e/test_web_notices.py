"""The clerk's page of revocation notices (issue 17): listed, answered in the form (a missing legal
basis named in German), deleted; the case manager's person page shows the confirmation still open;
the data-protection officer's page shows it confirmed; axe-core on each state of the pages."""
from __future__ import annotations

from tests.e2e.browser import assert_accessible, browser, sign_in  # noqa: F401
from tests.e2e.test_revocation_notices import _delivered_then_revoked, _notice


def test_clerk_answers_a_revocation_notice_on_the_page(hub, browser, cm):
    consent, transfer_id = _delivered_then_revoked(cm)
    with hub.client("clerk.troisdorf-abh") as clerk:
        notice_id = _notice(clerk, consent["person"])["notice_id"]
    cm_page = browser.new_context().new_page()
    sign_in(cm_page, hub.base_url, "cm.rsk")
    cm_page.goto(f"{hub.base_url}/ui/personen/{consent['person']}")
    cm_page.get_by_role("heading", name="Offene Bestätigungen nach Widerruf").wait_for()
    assert cm_page.get_by_text(f"Hinweis {notice_id}").count() == 1
    assert_accessible(cm_page)

    page = browser.new_context().new_page()
    sign_in(page, hub.base_url, "clerk.troisdorf-abh")
    page.get_by_role("link", name="Widerrufshinweise").click()
    page.get_by_role("heading", name=f"Einwilligung widerrufen: Hinweis {notice_id}").wait_for()
    assert page.get_by_role("link", name=transfer_id).count() == 1
    assert_accessible(page)

    page.locator(f"#kept-{notice_id}").check()
    page.locator(f"#answer-{notice_id}").click()
    page.get_by_text("Rechtsgrundlage: Beim Aufbewahren bitte die Rechtsgrundlage angeben").wait_for()
    assert_accessible(page)

    page.locator(f"#del-{notice_id}").check()
    page.locator(f"#answer-{notice_id}").click()
    page.get_by_text(f"Ihre Antwort auf den Hinweis {notice_id} ist gespeichert").wait_for()
    assert page.locator(f"#answer-{notice_id}").count() == 0  # answered: no form any more
    assert_accessible(page)
    page.goto(f"{hub.base_url}/ui/posteingang/{transfer_id}")
    page.get_by_text(f"auf den Widerrufshinweis {notice_id} hin gelöscht").wait_for()
    cm_page.reload()
    cm_page.get_by_role("heading", name="Verlauf").wait_for()
    assert wait_closed(cm_page, notice_id)

    dpo_page = browser.new_context().new_page()
    sign_in(dpo_page, hub.base_url, "dpo")
    dpo_page.get_by_role("link", name="Widerrufshinweise").click()
    dpo_page.get_by_label("Stand").select_option("deleted")
    dpo_page.get_by_role("button", name="Filtern").click()
    row = dpo_page.get_by_role("row").filter(has_text=notice_id)
    assert "gelöscht am" in row.inner_text() and "clerk.troisdorf-abh" in row.inner_text()
    assert_accessible(dpo_page)


def wait_closed(page, notice_id: str) -> bool:
    """The hub learns of the answer through kim.feedback.v1: the open confirmation disappears."""
    for _ in range(100):
        if page.get_by_text(f"Hinweis {notice_id}").count() == 0:
            return True
        page.wait_for_timeout(200)
        page.reload()
    return False
