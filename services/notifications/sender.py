"""The mail sender: a periodic task in the relay's process that mails the due notifications
(``handlers.send_pending``); new items that arrive between two rounds become one mail per office."""
from __future__ import annotations

from collections.abc import Callable

from services.directory.model import Directory
from services.infrastructure.db import utcnow
from services.infrastructure.periodic import PeriodicTask
from services.kernel.settings import Settings
from services.notifications.handlers import send_pending
from services.notifications.smtp import SmtpMailer, SmtpServer
from services.unit_of_work import HubUnitOfWork


class MailSender(PeriodicTask):
    def __init__(self, new_uow: Callable[[], HubUnitOfWork], directory: Directory, settings: Settings, mailer=None):
        super().__init__()
        self.interval = settings.mail_interval_seconds
        self.new_uow = new_uow
        self.directory = directory
        self.public_url = settings.public_url or f"http://{settings.http_host}:{settings.http_port}"
        self.sender = settings.mail_from
        self.mailer = mailer or SmtpMailer(SmtpServer.from_url(settings.smtp_url.get_secret_value()))

    async def tick(self) -> int:
        return await send_pending(self.new_uow(), self.mailer, self.directory, self.public_url, self.sender,
                                  utcnow(), base_delay=self.interval)
