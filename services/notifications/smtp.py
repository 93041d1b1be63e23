"""Sending mail over SMTP (aiosmtplib), configured by one URL (``KIMHUB_SMTP_URL``):
``smtp://[user:password@]host[:port][?starttls=true|false]`` (without: STARTTLS
when the server offers it) or ``smtps://…`` (TLS from the start)."""
from __future__ import annotations

from dataclasses import dataclass
from email.message import EmailMessage
from urllib.parse import parse_qs, unquote, urlsplit

import aiosmtplib

TIMEOUT_SECONDS = 15


@dataclass(frozen=True)
class SmtpServer:
    host: str
    port: int
    use_tls: bool = False
    start_tls: bool | None = None  # None: STARTTLS when the server offers it
    username: str | None = None
    password: str | None = None

    @classmethod
    def from_url(cls, url: str) -> SmtpServer:
        parts = urlsplit(url)
        if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
            raise ValueError("KIMHUB_SMTP_URL must be smtp://host[:port] or smtps://host[:port]")
        tls = parts.scheme == "smtps"
        query = parse_qs(parts.query)
        return cls(host=parts.hostname, port=parts.port or (465 if tls else 25), use_tls=tls,
                   start_tls=_flag(query.get("starttls", [""])[0]),
                   username=unquote(parts.username) if parts.username else None,
                   password=unquote(parts.password) if parts.password else None)


def _flag(value: str) -> bool | None:
    if not value:
        return None
    return value.lower() in ("1", "true", "yes")


def check(smtp_url: str, mail_from: str) -> str | None:
    """What is wrong with the mail settings, in German, or None (no URL: mail is off)."""
    if not smtp_url:
        return None
    try:
        SmtpServer.from_url(smtp_url)
    except ValueError:
        return ("KIMHUB_SMTP_URL ist keine SMTP-Adresse: smtp://[benutzer:passwort@]host[:port] oder "
                "smtps://… angeben, oder leer lassen (keine E-Mail-Benachrichtigungen).")
    if "@" not in mail_from:
        return "KIMHUB_SMTP_URL ist gesetzt, aber KIMHUB_MAIL_FROM nicht: die Absenderadresse der E-Mails angeben."
    return None


class SmtpMailer:
    """Hands a message to the SMTP server; raises when the server does not take it."""

    def __init__(self, server: SmtpServer):
        self.server = server

    async def send(self, message: EmailMessage) -> None:
        s = self.server
        await aiosmtplib.send(message, hostname=s.host, port=s.port, use_tls=s.use_tls, start_tls=s.start_tls,
                              username=s.username, password=s.password, timeout=TIMEOUT_SECONDS)
