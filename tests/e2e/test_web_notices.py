"""The clerk's page of revocation notices (issue 17): listed, answered in the form (a missing legal
basis named in German), deleted; axe-core on each state of the page."""
from __future__ import annotations

from tests.e2e.browser import assert_accessible, browser, sign_in  # noqa: F401
from tests.e2e.test_revocation_notices import _delivered_then_revoked, _notice


def test_clerk_answers_a_revocation_notice_on_the_page(hub, browser, cm):
    consent, transfer_id = _delivered_then_revoked(cm)
    with hub.client("clerk.troisdorf-abh") as clerk:
        notice_id = _notice(clerk, consent["person"])["notice_id"]
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
