"""The notification mails: German text, a link to the hub's page, the office and a count, and
nothing about a person; the SMTP URL and mail settings that refuse the start; the backoff between
attempts."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest

from services.kernel.settings import Settings
from services.notifications.handlers import backoff
from services.notifications.mail import NEW_ITEM, OVERDUE_REPLY, compose, link
from services.notifications.schedule import overdue_from
from services.notifications.smtp import SmtpServer
from services.runtime import Hub, StartupRefused

OFFICE = "Ausländerbehörde Stadt Troisdorf (Demo)"


def test_a_new_item_mail_names_the_office_and_links_to_the_clerks_inbox():
    mail = compose(NEW_ITEM, OFFICE, 1, link("https://kimhub.example/", False), ("abh@troisdorf.example",))
    assert mail.subject == f"kimhub: eine neue Nachricht im Posteingang – {OFFICE}"
    assert f"im Posteingang von {OFFICE} ist eine neue Nachricht eingegangen." in mail.body
    assert "https://kimhub.example/ui/posteingang\n" in mail.body
    assert "keine Angaben zu Personen" in mail.body
    assert mail.to == ("abh@troisdorf.example",)


def test_several_items_are_counted_in_one_mail():
    mail = compose(NEW_ITEM, OFFICE, 3, "https://h/ui/posteingang", ("a@b.example",))
    assert "3 neue Nachrichten im Posteingang" in mail.subject
    assert "sind 3 neue Nachrichten eingegangen" in mail.body


def test_an_overdue_mail_links_a_case_management_office_to_its_persons_and_tasks():
    url = link("https://kimhub.example", True)
    assert url == "https://kimhub.example/ui/personen"
    one = compose(OVERDUE_REPLY, "KIM Rhein-Sieg", 1, url, ("kim@rsk.example",))
    assert one.subject == "kimhub: Antwortfrist abgelaufen – KIM Rhein-Sieg"
    assert "ist die Frist von einer Nachforderung abgelaufen, ohne dass geantwortet wurde." in one.body
    assert url in one.body
    assert "die Frist von 2 Nachforderungen" in compose(OVERDUE_REPLY, "K", 2, url, ("k@k.example",)).body


def test_the_message_has_sender_recipients_and_a_plain_text_body():
    msg = compose(NEW_ITEM, OFFICE, 2, "https://h/ui/posteingang", ("a@b.example", "c@d.example")).message(
        "kimhub@kreis.example")
    assert msg["From"] == "kimhub@kreis.example"
    assert msg["To"] == "a@b.example, c@d.example"
    assert msg.get_content_type() == "text/plain"
    assert "Guten Tag," in msg.get_content()


def test_an_unknown_kind_is_an_error():
    with pytest.raises(ValueError):
        compose("birthday", OFFICE, 1, "https://h", ("a@b.example",))


@pytest.mark.parametrize("url, expected", [
    ("smtp://mail.kreis.example", SmtpServer("mail.kreis.example", 25)),
    ("smtp://relay:2525?starttls=false", SmtpServer("relay", 2525, start_tls=False)),
    ("smtp://u%40x:p%3Aw@relay:587?starttls=true", SmtpServer("relay", 587, start_tls=True, username="u@x",
                                                             password="p:w")),
    ("smtps://mail.kreis.example", SmtpServer("mail.kreis.example", 465, use_tls=True)),
])
def test_the_smtp_url_names_server_tls_and_login(url, expected):
    assert SmtpServer.from_url(url) == expected


@pytest.mark.parametrize("url", ["http://mail.example", "smtp://", "mail.example:25"])
def test_an_smtp_url_that_is_none_is_refused(url):
    with pytest.raises(ValueError):
        SmtpServer.from_url(url)


def test_the_wait_doubles_and_stays_within_an_hour():
    assert [backoff(n, 30) for n in range(3)] == [timedelta(seconds=30), timedelta(seconds=60), timedelta(seconds=120)]
    assert backoff(20, 30) == timedelta(hours=1)


def test_a_reply_is_overdue_from_the_day_after_its_deadline():
    assert overdue_from(date(2026, 3, 31)) == datetime(2026, 4, 1, tzinfo=timezone.utc)


def test_the_mail_carries_date_message_id_and_asks_for_no_auto_replies():
    msg = compose(NEW_ITEM, OFFICE, 1, "https://h/ui/posteingang", ("a@b.example",)).message("kimhub@kreis.example")
    assert msg["Date"] and msg["Message-ID"].endswith("@kreis.example>")
    assert msg["Auto-Submitted"] == "auto-generated"


@pytest.mark.parametrize("url, sender, refused", [
    ("smtp://relay:25", "kimhub@kreis.example", None),
    ("", "", None),  # mail off
    ("smtp://relay:25", "", "KIMHUB_MAIL_FROM"),
    ("mailto:relay", "kimhub@kreis.example", "keine SMTP-Adresse"),
])
def test_mail_settings_that_do_not_fit_refuse_the_start(tmp_path, url, sender, refused):
    settings = Settings(data_dir=tmp_path, smtp_url=url, mail_from=sender)
    if refused is None:
        Hub(settings)
    else:
        with pytest.raises(StartupRefused, match=refused):
            Hub(settings)
