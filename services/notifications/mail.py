"""The notification mails' German text (pure). A mail names the office, a count and a link to the
hub's page where the clerk or case manager signs in; never a person, a pseudonym or a content."""
from __future__ import annotations

from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

NEW_ITEM, OVERDUE_REPLY = "new_item", "overdue_reply"
KINDS = (NEW_ITEM, OVERDUE_REPLY)
# The pages the links lead to: the clerks' inbox, and for a case-management office (its inbox holds
# the answers to its referrals) the list of its persons, each with its open tasks.
INBOX_PAGE, CASES_PAGE = "/ui/posteingang", "/ui/personen"

FOOTER = ("Diese E-Mail enthält aus Datenschutzgründen keine Angaben zu Personen oder Inhalten; "
          "lesen können Sie diese nur nach der Anmeldung im kimhub.\n"
          "Sie wurde automatisch versandt. Welche Adressen benachrichtigt werden, legt die Administration "
          "Ihrer Stelle fest.")


@dataclass(frozen=True)
class Mail:
    to: tuple[str, ...]
    subject: str
    body: str

    def message(self, sender: str) -> EmailMessage:
        msg = EmailMessage()
        msg["From"], msg["To"], msg["Subject"] = sender, ", ".join(self.to), self.subject
        msg["Date"], msg["Message-ID"] = formatdate(), make_msgid(domain=sender.rpartition("@")[2] or None)
        msg["Auto-Submitted"] = "auto-generated"  # RFC 3834: no out-of-office replies to the hub
        msg.set_content(self.body)
        return msg


def link(public_url: str, case_management: bool) -> str:
    return public_url.rstrip("/") + (CASES_PAGE if case_management else INBOX_PAGE)


def compose(kind: str, office_name: str, count: int, url: str, to: tuple[str, ...]) -> Mail:
    """The mail for ``count`` notifications of one ``kind`` for one office."""
    if kind == NEW_ITEM:
        subject = f"kimhub: {_messages(count)} im Posteingang – {office_name}"
        text = (f"im Posteingang von {office_name} {'ist' if count == 1 else 'sind'} {_messages(count)} "
                f"eingegangen.\n\nBitte melden Sie sich an, um sie zu lesen:\n{url}")
    elif kind == OVERDUE_REPLY:
        subject = f"kimhub: Antwortfrist abgelaufen – {office_name}"
        text = (f"für {office_name} {'ist' if count == 1 else 'sind'} die Frist von {_requests(count)} "
                f"abgelaufen, ohne dass geantwortet wurde.\n\nDie offenen Aufgaben finden Sie nach der "
                f"Anmeldung hier:\n{url}")
    else:
        raise ValueError(f"unknown notification kind: {kind}")
    return Mail(to, subject, f"Guten Tag,\n\n{text}\n\n-- \n{FOOTER}\n")


def _messages(count: int) -> str:
    return "eine neue Nachricht" if count == 1 else f"{count} neue Nachrichten"


def _requests(count: int) -> str:
    return "einer Nachforderung" if count == 1 else f"{count} Nachforderungen"
