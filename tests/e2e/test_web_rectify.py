"""Berichtigung (Art. 16 DSGVO) in the web interface, in Debian's Chromium against the hub as a real
process: the case manager sends a referral through the web, corrects it from the person's timeline
(the form is not prefilled: the office cannot read what it sent, and says so; German errors naming the
field), and the clerk's inbox has the rectification linked to the original both ways. A rectification
the consent no longer covers (revoked meanwhile) shows the gate's German reason, the form kept. Over
HTTP: another office's case manager does not find the form, a refused referral offers none, CSRF."""
from __future__ import annotations

import re

from tests.e2e.browser import assert_accessible, browser, screenshot, sign_in  # noqa: F401
from tests.e2e.conftest import consent_body, referral, wait_for
from tests.e2e.test_web_session import CSRF, signed_in
from tests.e2e.test_web_walk import reload_until

SENT = re.compile(r"gesendet=(t-[0-9a-f]{32})")
RECTIFIED = re.compile(r"berichtigt=(t-[0-9a-f]{32})")
LINK = "Berichtigen (Art. 16 DSGVO)"


def send_referral(page, base_url: str, person: str) -> str:
    """A referral as the case manager writes it in the web form; its id once it is delivered."""
    page.goto(f"{base_url}/ui/personen/{person}/ueberleitung")
    page.get_by_label("Anlass der Überleitung").fill("Prüfung einer Perspektive nach § 25b AufenthG")
    page.get_by_label("Erbetene Handlung").fill("Beratungstermin anbieten")
    page.get_by_label("Vorname").fill("Amina")
    page.get_by_label("Nachname").fill("Kaja")
    page.get_by_role("button", name="Überleitung senden").click()
    page.get_by_text("ist angenommen").wait_for()
    reload_until(page, "zugestellt")
    return SENT.search(page.url).group(1)


def send_form(page) -> None:
    page.get_by_role("button", name="Berichtigung senden").click()
    page.wait_for_load_state()


def open_form_for_a_delivered_referral(hub, browser, cm):
    """A new person's referral sent through the web and delivered, then its Berichtigung form opened
    from the timeline: the page, the person, the referral's id."""
    person = cm.post("/consents", json=consent_body()).json()["person"]
    page = browser.new_context().new_page()
    sign_in(page, hub.base_url, "cm.rsk")
    original = send_referral(page, hub.base_url, person)
    page.get_by_role("link", name=LINK).click()
    page.get_by_role("heading", name="Berichtigung (Art. 16 DSGVO)").wait_for()
    return page, person, original


def test_case_manager_rectifies_a_referral_and_the_clerk_has_it_linked(hub, browser, cm):
    page, _, original = open_form_for_a_delivered_referral(hub, browser, cm)
    assert page.get_by_text("Das Formular ist nicht vorausgefüllt").count() == 1
    assert page.get_by_label("Familienname der Person").input_value() == ""
    assert page.get_by_label("Wohnsituation").count() == 0  # no Sozialdaten were sent: nothing to correct
    assert_accessible(page)
    screenshot(page, "berichtigung")

    page.get_by_label("Erläuterung der Berichtigung").fill("Familienname falsch geschrieben")
    send_form(page)
    page.get_by_role("alert").get_by_text("Mindestens ein berichtigtes Feld angeben.").wait_for()
    page.locator("#person-given_name").evaluate("e => e.removeAttribute('maxlength')")  # the hub checks too
    page.get_by_label("Vorname der Person").fill("A" * 201)
    send_form(page)
    page.get_by_role("alert").get_by_text("Vorname der Person: Zu lang: höchstens 200 Zeichen erlaubt.").wait_for()
    assert page.get_by_label("Erläuterung der Berichtigung").input_value() == "Familienname falsch geschrieben"
    assert_accessible(page)

    page.get_by_label("Vorname der Person").fill("")
    page.get_by_label("Familienname der Person").fill("Kaya")
    send_form(page)
    page.wait_for_url(RECTIFIED)
    assert page.get_by_role("status").get_by_text("ist angenommen").count() == 1
    rectification = RECTIFIED.search(page.url).group(1)
    linked = page.locator(f"[id='{rectification}']").get_by_role("link", name="Überleitung vom")
    assert linked.get_attribute("href") == f"#{original}"
    back = page.locator(f"[id='{original}']").get_by_role("link", name="Berichtigung vom")
    assert back.get_attribute("href") == f"#{rectification}"
    assert_accessible(page)

    with hub.client("clerk.troisdorf-abh") as clerk:
        item = wait_for(lambda: (r := clerk.get(f"/inbox/{rectification}")).status_code == 200 and r.json())
        assert item["message_type"] == "rectification.v1" and item["corrects"] == original
        assert item["payload"]["person"] == {"family_name": "Kaya"}
        assert item["payload"]["explanation"] == "Familienname falsch geschrieben"
        assert clerk.get(f"/inbox/{original}").json()["rectifications"] == [rectification]
    clerk_page = browser.new_context().new_page()
    sign_in(clerk_page, hub.base_url, "clerk.troisdorf-abh")
    clerk_page.goto(f"{hub.base_url}/ui/posteingang/{original}")
    clerk_page.get_by_role("link", name=rectification).click()
    clerk_page.get_by_text("berichtigt die Nachricht").wait_for()
    assert clerk_page.get_by_role("link", name=original).count() == 1


def test_a_rectification_the_consent_no_longer_covers_shows_the_reason_and_keeps_the_form(hub, browser, cm):
    page, person, original = open_form_for_a_delivered_referral(hub, browser, cm)
    [consent] = cm.get(f"/persons/{person}/consents").json()
    cm.post(f"/consents/{consent['consent_id']}/revocation", json={"method": "schriftlich"})  # meanwhile

    page.get_by_label("Erläuterung der Berichtigung").fill("Familienname falsch geschrieben")
    page.get_by_label("Familienname der Person").fill("Kaya")
    send_form(page)
    alert = page.get_by_role("alert")
    alert.get_by_text("Nicht gesendet: Die Berichtigung ist nicht zulässig").wait_for()
    assert alert.get_by_text("Die Einwilligung wurde widerrufen.").count() == 1
    assert page.get_by_label("Familienname der Person").input_value() == "Kaya"
    assert_accessible(page)

    refused = [e for e in cm.get(f"/persons/{person}/timeline").json()["events"]
               if e["message_type"] == "rectification.v1"]
    assert [(e["status"], e["in_reply_to"]) for e in refused] == [("refused", original)]
    page.goto(f"{hub.base_url}/ui/personen/{person}")
    assert "(abgelehnt)" in page.locator(f"[id='{original}']").inner_text()


def test_the_form_is_only_for_the_sending_office_a_delivered_referral_and_a_csrf_token(hub, cm):
    person = cm.post("/consents", json=consent_body()).json()["person"]
    refused = cm.post("/transfers", json=referral(person, purpose="einbuergerung")).json()["transfer_id"]
    with signed_in(hub, "cm.rsk") as web:
        assert LINK not in web.get(f"/ui/personen/{person}").text
        answer = web.get(f"/ui/personen/{person}/uebermittlungen/{refused}/berichtigen")
        assert answer.status_code == 409 and "nur eine Überleitung, die der Stelle zugestellt wurde" in answer.text
        token = CSRF.search(web.get(f"/ui/personen/{person}").text).group(1)
        form = {"explanation": "x", "person.family_name": "Kaya"}
        posted = web.post(f"/ui/personen/{person}/uebermittlungen/{refused}/berichtigen", data=form)
        assert posted.status_code == 403 and "Formular ist abgelaufen" in posted.text
        posted = web.post(f"/ui/personen/{person}/uebermittlungen/{refused}/berichtigen", data={**form, "csrf": token})
        assert posted.status_code == 409
    with signed_in(hub, "cm.me") as other_office:
        answer = other_office.get(f"/ui/personen/{person}/uebermittlungen/{refused}/berichtigen")
        assert answer.status_code == 404 and "Übermittlung nicht gefunden" in answer.text
