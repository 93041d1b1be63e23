"""E-mail notifications on PostgreSQL, with a controlled clock and a mailer that records: a referral
stored in an inbox brings one notification for its office, in the consumer's unit of work; a
Nachforderung brings its overdue notice for the day after its deadline, mailed once, and not at all
when it was answered in time; a failed send is tried again later, and nothing in a mail names the
person.

The first test also on SQLite (the embedded default). Driven by hand like test_sealed_transfers: request → gate worker → delivery consumer; the reply
through the gate's real handler.
"""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

from sqlalchemy import select

from contracts.consent import ConsentTerms
from contracts.envelope import Envelope
from contracts.feedback import NachforderungV1
from services.delivery import consumer as delivery_consumer
from services.gate import handlers as gate_handlers
from services.gate.commands import Reply
from services.infrastructure import topics
from services.infrastructure.consumer import Message
from services.kernel.identity import Actor, Role
from services.kernel.settings import Settings
from services.notifications import handlers
from services.notifications.commands import SetNotificationAddresses
from services.notifications.tables import notifications
from services.unit_of_work import HubUnitOfWork
from tests.conftest import make_keys
from tests.integration.private_db import any_engine, private_engine, sqlite_engine  # noqa: F401  (fixtures)
from tests.integration.test_gate_worker import AUDIT, CM, TROISDORF, _outbox, consent_terms, referral
from tests.support import consents, gate

CLERK = Actor("clerk.troisdorf-abh", "troisdorf-abh", roles=frozenset({Role.CLERK}))
ADMIN = Actor("admin", "rsk-kim", roles=frozenset({Role.ADMIN}))
MAIL = Settings(smtp_url="smtp://127.0.0.1:1", mail_from="kimhub@kreis.example")
DEADLINE = date(2031, 3, 31)
DUE = datetime(2031, 4, 1, tzinfo=timezone.utc)
KIM_MAIL, ABH_MAIL = "kim@rsk.example", "abh@troisdorf.example"


class Mailbox:
    """A mailer that records what it was given, or fails while ``down``."""

    def __init__(self):
        self.sent, self.down = [], False

    async def send(self, message) -> None:
        if self.down:
            raise ConnectionRefusedError("smtp down")
        self.sent.append(message)


def uow(engine) -> HubUnitOfWork:
    return HubUnitOfWork(engine, AUDIT, consumer="delivery")


async def deliver(engine, directory, person: str, transfer_id: str) -> None:
    """The transfer through the gate worker and the delivery consumer (e-mail on)."""
    [requested] = [r for r in await _outbox(engine, topics.TRANSFER_REQUESTED, person) if r.headers["ce_id"] == transfer_id]
    async with engine.begin() as conn:
        await gate.consume(conn, [(Envelope.from_headers(requested.headers), requested.value)], directory, AUDIT)
    rows = [r for t in ("troisdorf-abh", "rsk-kim") for r in await _outbox(engine, topics.office_inbox(t), person)]
    [delivery] = [r for r in rows if r.headers["ce_id"].startswith(transfer_id)]
    message = Message(Envelope.from_headers(delivery.headers), delivery.value, None)
    await delivery_consumer.on_messages([message], uow(engine), make_keys(), notify=True)


async def nachforderung(engine, directory) -> tuple[str, str, str]:
    """A referral delivered to the ABH, and its Nachforderung (deadline DEADLINE) delivered back to
    the case management: (person, referral id, Nachforderung id)."""
    terms = consent_terms().model_dump(mode="json")
    terms["provisions"][0]["direction"] = "both"
    async with engine.begin() as conn:
        _, _, person = await consents.record(conn, CM, ConsentTerms.model_validate(terms), directory, AUDIT)
    async with engine.begin() as conn:
        sent = await gate.send(conn, CM, referral(person), directory, AUDIT)
    await deliver(engine, directory, person, sent.transfer_id)
    asked = NachforderungV1(in_reply_to=sent.transfer_id, items=[{"label": "Arbeitgeberbescheinigung"}],
                            deadline=DEADLINE)
    reply = await gate_handlers.reply(Reply(sent.transfer_id, "feedback.nachforderung.v1", asked), CLERK,
                                      HubUnitOfWork(engine, AUDIT), directory, make_keys(), MAIL)
    assert reply.status == "requested", reply
    await deliver(engine, directory, person, reply.transfer_id)
    return person, sent.transfer_id, reply.transfer_id


async def send(engine, directory, mailbox: Mailbox, now: datetime) -> int:
    return await handlers.send_pending(uow(engine), mailbox, directory, "https://kimhub.example", MAIL.mail_from,
                                       now, base_delay=60)


async def rows(engine, transfer_id: str) -> dict[str, tuple]:
    async with engine.connect() as conn:
        found = (await conn.execute(select(notifications).where(notifications.c.transfer_id == transfer_id))).all()
    return {r.kind: (r.office, r.state, r.attempts) for r in found}


async def addresses(engine, directory, office: str, new_items: list[str], overdue: list[str]) -> None:
    await handlers.set_addresses(SetNotificationAddresses(office=office, new_items=new_items, overdue_replies=overdue),
                                 ADMIN, HubUnitOfWork(engine, AUDIT), directory)


async def configure(engine, directory) -> None:
    """The case management hears of overdue replies only, the ABH of new items only."""
    await addresses(engine, directory, "rsk-kim", [], [KIM_MAIL])
    await addresses(engine, directory, "troisdorf-abh", [ABH_MAIL], [])


async def test_an_overdue_nachforderung_is_mailed_once_the_day_after_its_deadline(any_engine, directory):
    engine, mailbox = any_engine, Mailbox()
    await configure(engine, directory)
    person, referral_id, asked = await nachforderung(engine, directory)
    assert await rows(engine, referral_id) == {"new_item": ("troisdorf-abh", "pending", 0)}
    assert await rows(engine, asked) == {"new_item": ("rsk-kim", "pending", 0),
                                         "overdue_reply": ("rsk-kim", "pending", 0)}

    before = DUE - timedelta(seconds=1)  # the deadline's last second: not overdue yet
    assert await send(engine, directory, mailbox, before) == 1  # the ABH's new item only
    [new_item] = mailbox.sent
    assert new_item["To"] == ABH_MAIL and "https://kimhub.example/ui/posteingang" in new_item.get_content()
    assert (await rows(engine, asked))["new_item"] == ("rsk-kim", "unaddressed", 0)  # no address for new items

    assert await send(engine, directory, mailbox, DUE) == 1
    overdue = mailbox.sent[-1]
    assert overdue["To"] == KIM_MAIL and overdue["Subject"].startswith("kimhub: Antwortfrist abgelaufen")
    text = overdue.as_string()
    assert "https://kimhub.example/ui/personen" in text
    for personal in (person, "Amina", "Arbeitgeberbescheinigung", asked, referral_id, "2031"):
        assert personal not in text
    assert await send(engine, directory, mailbox, DUE + timedelta(days=3)) == 0  # once per overdue item
    assert (await rows(engine, asked))["overdue_reply"] == ("rsk-kim", "sent", 0)


async def test_a_nachforderung_answered_in_time_brings_no_overdue_mail(private_engine, directory):
    engine, mailbox = private_engine, Mailbox()
    person, _, asked = await nachforderung(engine, directory)
    answer = referral(person).model_copy(update={"payload": referral(person).payload.model_copy(
        update={"in_reply_to": asked})})
    async with engine.begin() as conn:
        assert (await gate.send(conn, CM, answer, directory, AUDIT)).status == "requested"
    await send(engine, directory, mailbox, DUE)
    assert (await rows(engine, asked))["overdue_reply"][1] == "cancelled"
    assert not [m for m in mailbox.sent if m["To"] == KIM_MAIL and "Antwortfrist" in m["Subject"]]


async def test_a_mail_the_server_did_not_take_is_sent_later_and_nothing_is_lost(private_engine, directory):
    engine, mailbox = private_engine, Mailbox()
    await send(engine, directory, mailbox, DUE)  # what earlier tests left is sent first
    mailbox.sent.clear()
    await configure(engine, directory)
    await nachforderung(engine, directory)  # one more item for the ABH
    mailbox.down = True
    now = DUE + timedelta(days=1)
    assert await send(engine, directory, mailbox, now) == 0
    mailbox.down = False
    assert await send(engine, directory, mailbox, now + timedelta(seconds=59)) == 0  # waits its backoff
    assert await send(engine, directory, mailbox, now + timedelta(seconds=60)) == 2  # and its overdue notice
    assert sorted(m["To"] for m in mailbox.sent) == [ABH_MAIL, KIM_MAIL]
    [mail] = [m for m in mailbox.sent if m["To"] == ABH_MAIL]
    assert "eine neue Nachricht" in mail["Subject"]


async def test_notifications_done_are_deleted_after_thirty_days(private_engine, directory):
    engine, mailbox = private_engine, Mailbox()
    await configure(engine, directory)
    _, referral_id, _ = await nachforderung(engine, directory)  # one more: mailed in this round
    assert await send(engine, directory, mailbox, DUE + timedelta(days=100)) == 2  # the rest done long ago
    async with engine.connect() as conn:
        left = (await conn.execute(select(notifications.c.transfer_id, notifications.c.state))).all()
    assert {state for _, state in left} == {"sent", "unaddressed"}  # only what this round did
    assert referral_id in {t for t, _ in left}
