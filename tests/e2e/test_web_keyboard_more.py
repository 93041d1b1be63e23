"""The actions added to the web interface after the first walk are reachable with the keyboard alone:
amending a consent, archiving a case, answering a revocation notice, the DPO's statistics and cosigning."""
from __future__ import annotations

from tests.e2e.browser import assert_accessible, browser  # noqa: F401
from tests.e2e.conftest import consent_body
from tests.e2e.test_revocation_notices import _delivered_then_revoked, _notice
from tests.e2e.test_web_keyboard import keyboard_sign_in, tab_to


def signed_in(page, base_url: str, user: str) -> None:
    keyboard_sign_in(page, base_url, user)
    page.wait_for_url(lambda url: "/ui/anmelden" not in url)  # the sign-in's redirect has landed


def sign_out(page) -> None:
    tab_to(page, page.get_by_role("button", name="Abmelden"))
    page.keyboard.press("Enter")
    page.wait_for_url("**/ui/anmelden?abgemeldet=1")


def test_case_manager_amends_and_archives_by_keyboard(hub, browser, cm):
    person = cm.post("/consents", json=consent_body()).json()["person"]
    case_id = cm.post("/cases", json={"persons": [person]}).json()["case_id"]
    page = browser.new_context().new_page()
    signed_in(page, hub.base_url, "cm.rsk")
    page.goto(f"{hub.base_url}/ui/personen/{person}")
    tab_to(page, page.get_by_role("link", name="Einwilligung ändern"))
    page.keyboard.press("Enter")
    page.wait_for_url("**/aendern")
    tab_to(page, page.get_by_role("button", name="Änderung speichern"))
    assert_accessible(page)

    tab_to(page, page.get_by_role("link", name="Fälle"))
    page.keyboard.press("Enter")
    page.wait_for_url("**/ui/faelle**")
    tab_to(page, page.get_by_role("button", name=f"Fall {case_id} archivieren"))
    page.keyboard.press("Enter")
    page.get_by_text(f"Der Fall {case_id} ist archiviert.").wait_for()
    assert cm.get(f"/cases/{case_id}").json()["status"] == "archived"
    sign_out(page)


def test_clerk_answers_a_notice_by_keyboard(hub, browser, cm):
    consent, _ = _delivered_then_revoked(cm)
    with hub.client("clerk.troisdorf-abh") as clerk:
        notice_id = _notice(clerk, consent["person"])["notice_id"]
    page = browser.new_context().new_page()
    signed_in(page, hub.base_url, "clerk.troisdorf-abh")
    tab_to(page, page.get_by_role("link", name="Widerrufshinweise"))
    page.keyboard.press("Enter")
    page.wait_for_url("**/ui/widerrufshinweise**")
    tab_to(page, page.locator(f"#del-{notice_id}"))
    page.keyboard.press("Space")
    tab_to(page, page.locator(f"#answer-{notice_id}"))
    page.keyboard.press("Enter")
    page.get_by_text(f"Ihre Antwort auf den Hinweis {notice_id} ist gespeichert").wait_for()
    with hub.client("clerk.troisdorf-abh") as clerk:
        assert clerk.get(f"/revocation-notices/{notice_id}").json()["state"] == "deleted"
    sign_out(page)


def test_dpo_reaches_statistics_and_cosigning_by_keyboard(hub, browser):
    page = browser.new_context().new_page()
    signed_in(page, hub.base_url, "dpo")
    tab_to(page, page.get_by_role("link", name="Statistik"))
    page.keyboard.press("Enter")
    page.wait_for_url("**/ui/statistik")
    tab_to(page, page.get_by_role("link", name="Prüfpunkte"))
    page.keyboard.press("Enter")
    page.wait_for_url("**/ui/pruefpunkte")
    if page.locator("#note").count():  # a key configured that has not cosigned the latest checkpoint
        tab_to(page, page.locator("#note"))
        tab_to(page, page.get_by_role("button", name="Gegenzeichnen"))
    assert_accessible(page)
    sign_out(page)
