"""Composition root: wires settings, database, broker and the chosen services into one process.

``kimhub run`` starts every component (the embedded default); ``kimhub serve <component>``
starts one, for production where each scales on its own.
"""
from __future__ import annotations

import asyncio
from functools import partial
import logging
from pathlib import Path

from sqlalchemy import text

from services.audit import keys
from services.audit.checkpointer import Checkpointer
from services.audit.log import AuditLog
from services.cases.retention import CaseRetention
from services.bus import MessageBus
from services.unit_of_work import HubUnitOfWork
from services.delivery import consumer as delivery_consumer
from services.directory.model import Directory, load_directory
from services.gate import worker as gate_worker
from services.infrastructure import kafka_security, topics
from services.migrations import migrate
from services.infrastructure.broker_watch import BrokerWatch
from services.infrastructure.db import create_engine
from services.infrastructure.dispatch import OutboxDispatch
from services.infrastructure.embedded_broker import EmbeddedBroker
from services.infrastructure.consumer import Consumer
from services.infrastructure.messaging import BrokerPublisher, ensure_topics, make_broker
from services.infrastructure.offsets import OffsetCommits
from services.infrastructure.outbox import OutboxRelay
from services.infrastructure.retention import Retention
from services.kernel.settings import Settings
from services.keys.holder import Keys
from services.notifications import smtp
from services.notifications.sender import MailSender

COMPONENTS = ("gateway", "gate", "delivery", "relay", "audit")
log = logging.getLogger("kimhub")


class StartupRefused(RuntimeError):
    """A setting that must not reach production; the message names it and the way out."""


def refuse_unsafe_settings(settings: Settings, components: tuple[str, ...]) -> None:
    """Refuse to start before anything is connected: dev tokens on a shared database, or broker
    security settings that do not fit together."""
    kafka_security.check(settings)
    mail_problem = smtp.check(settings.smtp_url.get_secret_value(), settings.mail_from)
    if mail_problem:
        raise StartupRefused(f"Start abgelehnt: {mail_problem} (Refusing to start: the e-mail settings do not fit.)")
    shared_db = not settings.effective_database_url.startswith("sqlite")
    if "gateway" in components and settings.auth_mode == "dev" and shared_db and not settings.allow_dev_auth:
        raise StartupRefused(
            "Start abgelehnt: KIMHUB_AUTH_MODE=dev nimmt selbst ausgestellte Test-Tokens an und ist mit "
            "PostgreSQL nicht erlaubt. Für den Betrieb KIMHUB_AUTH_MODE=oidc setzen (mit KIMHUB_AUTH_ISSUER, "
            "KIMHUB_AUTH_AUDIENCE, KIMHUB_AUTH_JWKS_URL); nur in einer Testumgebung bewusst KIMHUB_ALLOW_DEV_AUTH=true. "
            "(Refusing to start: dev authentication on PostgreSQL; set KIMHUB_AUTH_MODE=oidc, or "
            "KIMHUB_ALLOW_DEV_AUTH=true for a test set-up.)")


class Hub:
    def __init__(self, settings: Settings, components: tuple[str, ...] = COMPONENTS):
        unknown = set(components) - set(COMPONENTS)
        if unknown:
            raise ValueError(f"unknown component(s): {', '.join(sorted(unknown))}")
        refuse_unsafe_settings(settings, components)
        self.settings = settings
        self.components = components
        self.directory: Directory = load_directory(settings.directory_file)
        self.audit = AuditLog(keys.pseudonym_key(settings))
        self.signer = keys.signer(settings)
        self.cosigners = keys.cosigners(settings)
        # Sealing keys: the gateway seals and opens, the gate signs, the delivery side verifies.
        self.keys = Keys.from_settings(settings) if set(components) & {"gateway", "gate", "delivery"} else None
        self.embedded: EmbeddedBroker | None = None
        self.engine = None
        self.broker = None
        self.relay: OutboxRelay | None = None
        self.checkpointer: Checkpointer | None = None
        self.watch: BrokerWatch | None = None
        self.retention: Retention | None = None
        self.case_retention: CaseRetention | None = None
        self.dispatch: OutboxDispatch | None = None
        self.mail: MailSender | None = None
        self.bus: MessageBus | None = None
        self._tasks: list[asyncio.Task] = []
        self._offsets: list[OffsetCommits] = []

    async def start(self) -> None:
        s = self.settings
        Path(s.data_dir).mkdir(parents=True, exist_ok=True)
        if s.embedded_broker:
            self.embedded = EmbeddedBroker(s.embedded_broker_port, Path(s.data_dir) / "broker.log")
            await self.embedded.start()
        if self.keys and self.keys.generate:
            self.keys.ensure_offices(sorted(self.directory.offices))
        self.engine = create_engine(s.effective_database_url, s.db_pool_size)
        if s.migrate_on_start:
            await migrate.upgrade(self.engine)
        all_topics = topics.all_topics(sorted(self.directory.offices))
        await ensure_topics(s, all_topics)
        self.broker = make_broker(s)
        self.dispatch = OutboxDispatch(self.engine, BrokerPublisher(self.broker), self.notify_outbox,
                                       s.outbox_lease_seconds, enabled=s.outbox_direct)
        self.bus = MessageBus(self.new_uow, group_linger=s.group_commit_linger_ms / 1000, directory=self.directory,
                              settings=s, signer=self.signer, cosigners=self.cosigners, keys=self.keys)
        if "relay" in self.components:
            self.relay = OutboxRelay(self.engine, BrokerPublisher(self.broker), s.relay_poll_seconds)
        if "gate" in self.components:
            self._consume("gate", (topics.TRANSFER_REQUESTED, topics.FEEDBACK),
                          partial(gate_worker.on_messages, directory=self.directory, keys=self.keys))
        if "delivery" in self.components:
            self._consume("delivery", tuple(topics.office_inbox(o) for o in sorted(self.directory.offices)),
                          partial(delivery_consumer.on_messages, keys=self.keys, notify=s.mail_enabled))
        await self.broker.start()
        if self.relay:
            self._tasks.append(asyncio.create_task(self.relay.run(), name="outbox-relay"))
            if s.replay_window_seconds:
                self.watch = BrokerWatch(s, self.engine, all_topics, on_replay=self.notify_outbox)
                self._tasks.append(asyncio.create_task(self.watch.run(), name="broker-watch"))
            self.retention = Retention(self.engine, s.replay_window_seconds)
            self._tasks.append(asyncio.create_task(self.retention.run(), name="retention"))
            if s.mail_enabled:  # the outbox of mails, beside the outbox of messages
                self.mail = MailSender(self.new_uow, self.directory, s)
                self._tasks.append(asyncio.create_task(self.mail.run(), name="mail-sender"))
            self.case_retention = CaseRetention(self.bus, s.case_retention_interval_seconds)
            self._tasks.append(asyncio.create_task(self.case_retention.run(), name="case-retention"))
        if "audit" in self.components:
            self.checkpointer = Checkpointer(self.engine, self.signer, s.log_origin, s.checkpoint_interval_seconds,
                                             after_commit=self.notify_outbox)
            self._tasks.append(asyncio.create_task(self.checkpointer.run(), name="checkpointer"))
        log.info("kimhub started: %s; broker %s%s", ", ".join(self.components), s.bootstrap,
                 " (embedded)" if self.embedded else "")

    def new_uow(self, consumer: str | None = None) -> HubUnitOfWork:
        """A unit of work on this process's database; what it commits is published by this process."""
        return HubUnitOfWork(self.engine, self.audit, self.dispatch, consumer=consumer)

    def _consume(self, name: str, topic_names: tuple[str, ...], handle) -> None:
        consumer = Consumer(name, topic_names, handle, self.new_uow, self.broker, self.settings)
        self._offsets.append(consumer.offsets)

    def notify_outbox(self) -> None:
        if self.relay:
            self.relay.notify()

    async def ready(self) -> dict[str, bool]:
        """Readiness of the parts this process depends on."""
        state = {"database": False, "broker": False}
        try:
            async with self.engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
            state["database"] = True
        except Exception:
            pass
        try:
            state["broker"] = bool(await self.broker.ping(timeout=2))
        except Exception:
            pass
        return state

    async def stop(self) -> None:
        if self.bus:
            await self.bus.stop()
        if self.dispatch:
            await self.dispatch.stop()
        if self.checkpointer:
            self.checkpointer.stop()
        for task in (self.watch, self.retention, self.mail, self.case_retention):
            if task:
                task.stop()
        if self.relay:
            self.relay.stop()
        for task in self._tasks:
            try:
                await asyncio.wait_for(task, timeout=10)
            except (asyncio.TimeoutError, asyncio.CancelledError):
                task.cancel()
        for offsets in self._offsets:  # what the consumers finished, so a restart repeats less
            try:
                await asyncio.wait_for(offsets.close(), timeout=5)
            except asyncio.TimeoutError:
                log.warning("offsets not committed on stop (broker slow); the records are consumed again")
        if self.broker:
            await self.broker.stop()
        if self.engine:
            await self.engine.dispose()
        if self.embedded:
            self.embedded.stop()
        log.info("kimhub stopped")
