"""Every main action of the web interface is reachable with the keyboard alone (Tab, Space, Enter)."""
from __future__ import annotations

from tests.e2e.browser import assert_accessible, browser  # noqa: F401
from tests.e2e.conftest import consent_body, referral, wait_for

WAY_BACK = [{"recipient": {"kind": "abh"}, "purposes": ["aufenthaltsperspektive"],
             "categories": ["stammdaten", "falldaten"], "direction": "both"}]


def tab_to(page, target, presses: int = 80) -> None:
    """Press Tab until ``target`` (a locator) has the focus."""
    for _ in range(presses):
        page.keyboard.press("Tab")
        if target.evaluate("el => el === document.activeElement"):
            return
    raise AssertionError(f"{target} not reachable with Tab on {page.url}")


def keyboard_sign_in(page, base_url: str, user: str) -> None:
    page.goto(f"{base_url}/ui/anmelden")
    first = page.locator("input[name=user]").first
    tab_to(page, first)
    choice = page.get_by_label(f"{user}:")
    while not choice.evaluate("el => el === document.activeElement"):
        page.keyboard.press("ArrowDown")  # within the radio group
    page.keyboard.press("Space")
    tab_to(page, page.get_by_role("button", name="Anmelden"))
    page.keyboard.press("Enter")
    page.wait_for_url("**/ui/**")


def test_main_actions_by_keyboard(hub, browser, cm):
    person = cm.post("/consents", json=consent_body(provisions=WAY_BACK)).json()["person"]
    transfer_id = cm.post("/transfers", json=referral(person)).json()["transfer_id"]
    wait_for(lambda: cm.get(f"/transfers/{transfer_id}").json()["status"] == "delivered")
    page = browser.new_context().new_page()

    keyboard_sign_in(page, hub.base_url, "cm.rsk")
    tab_to(page, page.get_by_role("link", name="Einwilligung für eine neue Person erfassen"))
    tab_to(page, page.get_by_role("link", name=person))
    page.keyboard.press("Enter")
    page.wait_for_url(f"**/ui/personen/{person}")
    tab_to(page, page.get_by_role("link", name="Überleitung an die zuständige Ausländerbehörde senden"))
    page.keyboard.press("Enter")
    page.wait_for_url("**/ueberleitung")
    tab_to(page, page.get_by_role("button", name="Überleitung senden"))
    tab_to(page, page.get_by_role("button", name="Abmelden"))
    page.keyboard.press("Enter")
    page.wait_for_url("**/ui/anmelden?abgemeldet=1")

    keyboard_sign_in(page, hub.base_url, "clerk.troisdorf-abh")
    link = page.locator(f'a[href="/ui/posteingang/{transfer_id}"]')
    tab_to(page, link)
    page.keyboard.press("Enter")
    page.wait_for_url(f"**/ui/posteingang/{transfer_id}")
    tab_to(page, page.get_by_role("button", name="Eingang bestätigen"))
    page.keyboard.press("Enter")
    page.get_by_text("Der Eingang ist bestätigt.").wait_for()
    summary = page.locator("summary", has_text="Sachstand mitteilen")
    tab_to(page, summary)
    page.keyboard.press("Enter")  # opens the reply form
    tab_to(page, page.get_by_label("Sachstand", exact=True))
    page.keyboard.type("Antrag liegt vor, Prüfung läuft.")
    tab_to(page, page.get_by_role("button", name="Sachstand mitteilen: senden"))
    page.keyboard.press("Enter")
    page.get_by_text("Ihre Antwort ist angenommen").wait_for()
    tab_to(page, page.get_by_role("button", name="Abmelden"))
    page.keyboard.press("Enter")
    page.wait_for_url("**/ui/anmelden?abgemeldet=1")

    keyboard_sign_in(page, hub.base_url, "dpo")
    tab_to(page, page.get_by_label("Person (Pseudonym)"))
    page.keyboard.type(person)
    tab_to(page, page.get_by_role("button", name="Filtern"))
    page.keyboard.press("Enter")
    page.wait_for_url("**person=*")
    record = page.locator("tbody a").first
    tab_to(page, record)
    page.keyboard.press("Enter")
    page.wait_for_url("**/ui/protokoll/*")
    for _ in range(40):  # the checkpoint covering the record is signed within seconds
        if page.get_by_role("button", name="Nachweis im Browser prüfen").count():
            break
        page.wait_for_timeout(500)
        page.reload()
    tab_to(page, page.get_by_role("button", name="Nachweis im Browser prüfen"))
    page.keyboard.press("Enter")
    page.get_by_text("Nachweis geprüft").wait_for()
    assert_accessible(page)
