"""E-mail notifications end to end: the hub as a process with SMTP settings, a local SMTP server
(aiosmtpd) and a referral. The office's address receives a German mail with a link to the hub and
nothing about the person; a server that is down at first gets the mail later (nothing lost). An
office's addresses are set by an admin of its controller only, and checked."""
from __future__ import annotations

import threading
import time
from email import message_from_bytes, policy

import pytest
from aiosmtpd.controller import Controller

from tests.conftest import create_database, drop_database, free_port
from tests.e2e.browser import assert_accessible, browser, sign_in  # noqa: F401
from tests.e2e.conftest import assert_problem, consent_body, referral, start_hub, stop_hub, wait_for

ABH_MAIL = "posteingang@abh.troisdorf.example"
PUBLIC_URL = "https://kimhub.kreis.example"
PERSON = {"given_name": "Amina", "family_name": "Beispielfrau", "date_of_birth": "1990-04-02"}


class Inbox:
    """What the SMTP server received."""

    def __init__(self):
        self.envelopes, self.lock = [], threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            self.envelopes.append(envelope)
        return "250 Message accepted for delivery"


@pytest.fixture(scope="module")
def mail_hub(tmp_path_factory):
    """A hub of its own (its database, its embedded broker) whose SMTP server is not there yet."""
    url, smtp_port = create_database(), free_port()
    hub = start_hub({"KIMHUB_DATABASE_URL": url, "KIMHUB_EMBEDDED_BROKER_PORT": str(free_port()),
                     "KIMHUB_SMTP_URL": f"smtp://127.0.0.1:{smtp_port}", "KIMHUB_MAIL_FROM": "kimhub@kreis.example",
                     "KIMHUB_PUBLIC_URL": PUBLIC_URL, "KIMHUB_MAIL_INTERVAL_SECONDS": "0.5"},
                    tmp_path_factory.mktemp("mail-hub"))
    yield hub, smtp_port
    stop_hub(hub)
    drop_database(url)


def test_a_referral_in_the_inbox_is_mailed_to_the_office_without_personal_data(mail_hub):
    hub, smtp_port = mail_hub
    with hub.client("admin") as admin, hub.client("cm.rsk") as cm, hub.client("clerk.troisdorf-abh") as clerk:
        put = admin.put("/offices/troisdorf-abh/notifications", json={"new_items": [ABH_MAIL]})
        assert put.status_code == 200, put.text
        person = cm.post("/consents", json=consent_body()).json()["person"]
        sent = cm.post("/transfers", json=referral(person, person=PERSON))
        assert sent.status_code == 202, sent.text
        transfer_id = sent.json()["transfer_id"]
        wait_for(lambda: clerk.get(f"/inbox/{transfer_id}").status_code == 200)
    # the server is down: the sender tries and fails, and keeps the mail
    wait_for(lambda: "notification mail for troisdorf-abh (new_item) not sent" in hub.log_tail(200), timeout=30)
    inbox = Inbox()
    server = Controller(inbox, hostname="127.0.0.1", port=smtp_port)
    server.start()
    try:
        [envelope] = wait_for(lambda: list(inbox.envelopes), timeout=30)
        time.sleep(1.5)  # three more rounds of the sender: the mail is marked sent, not sent again
        assert len(inbox.envelopes) == 1
    finally:
        server.stop()
    assert envelope.rcpt_tos == [ABH_MAIL] and envelope.mail_from == "kimhub@kreis.example"
    mail = envelope.content.decode()
    text = _text(envelope.content)
    assert "kimhub: eine neue Nachricht im Posteingang – Ausländerbehörde Stadt Troisdorf" in text
    assert "ist eine neue Nachricht eingegangen" in text and "Guten Tag" in text
    assert f"{PUBLIC_URL}/ui/posteingang" in text
    for personal in (person, transfer_id, "Amina", "Beispielfrau", "1990", "02.04.", "25b"):
        assert personal not in mail and personal not in text


def test_only_an_admin_of_the_offices_controller_sets_its_addresses_and_bad_ones_are_named(mail_hub):
    hub, _ = mail_hub
    with hub.client("admin") as admin, hub.client("admin.me") as other, hub.client("clerk.troisdorf-abh") as clerk:
        assert admin.get("/offices/troisdorf-abh/notifications").json()["new_items"] == [ABH_MAIL]
        assert_problem(other.get("/offices/troisdorf-abh/notifications"), 404)  # another Kreis's office
        assert_problem(other.put("/offices/troisdorf-abh/notifications", json={"new_items": []}), 404)
        assert_problem(clerk.put("/offices/troisdorf-abh/notifications", json={"new_items": []}), 403)
        assert_problem(admin.put("/offices/nirgendwo/notifications", json={}), 404)
        bad = assert_problem(admin.put("/offices/troisdorf-abh/notifications",
                                       json={"overdue_replies": ["keine-adresse"]}), 422)
        assert "abgelaufene Antwortfristen" in str(bad)
        assert admin.get("/offices/troisdorf-abh/notifications").json()["overdue_replies"] == []


def test_an_admin_sets_the_addresses_on_the_web_page(mail_hub, browser):
    hub, _ = mail_hub
    page = browser.new_context().new_page()
    sign_in(page, hub.base_url, "admin")
    page.get_by_role("navigation").get_by_role("link", name="E-Mail-Benachrichtigungen").click()
    assert_accessible(page)
    office = "Jobcenter Rhein-Sieg (Demo)"
    page.get_by_label(f"Abgelaufene Antwortfristen ({office})").fill("keine Adresse")
    page.get_by_role("button", name=f"Adressen für {office} speichern").click()
    page.get_by_text("Adressen für abgelaufene Antwortfristen: hat nicht das erwartete Format.").wait_for()
    assert page.get_by_label(f"Abgelaufene Antwortfristen ({office})").input_value() == "keine\nAdresse"
    page.get_by_label(f"Abgelaufene Antwortfristen ({office})").fill("fristen@jobcenter.example\nleitung@jobcenter.example")
    page.get_by_role("button", name=f"Adressen für {office} speichern").click()
    page.get_by_text(f"Die Adressen für {office} sind gespeichert.").wait_for()
    assert_accessible(page)
    with hub.client("admin") as admin:
        saved = admin.get("/offices/rsk-jobcenter/notifications").json()
    assert saved["overdue_replies"] == ["fristen@jobcenter.example", "leitung@jobcenter.example"]
    assert "Kreis Mettmann" not in page.content()  # another controller's offices are not listed


def _text(raw: bytes) -> str:
    """Subject and body as a reader sees them (decoded)."""
    msg = message_from_bytes(raw, policy=policy.default)
    return f"{msg['Subject']}\n{msg.get_content()}"
