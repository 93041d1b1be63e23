"""Dead letters for administrators on a real database: listed as metadata only (never the payload),
replayed once through the outbox, exactly as received, to the original topic."""
from __future__ import annotations

import pytest
from sqlalchemy import insert, select

from services.admin import handlers, views
from services.admin.commands import ReplayDeadLetter
from services.infrastructure.db import utcnow
from services.infrastructure.tables import dead_letters, outbox
from services.kernel.errors import Conflict, NotFound
from services.kernel.identity import Actor, Role
from services.unit_of_work import HubUnitOfWork
from tests.conftest import make_audit_log
from tests.integration.private_db import private_engine  # noqa: F401  (fixture: no live relay publishes the rows)

AUDIT = make_audit_log()
ADMIN = Actor("admin.hub", "hub", roles=frozenset({Role.ADMIN}))
HEADERS = {"ce_id": "poison-1", "ce_source": "urn:test", "ce_type": "de.nrw.kim.transfer.requested.v2",
           "ce_time": "2026-03-01T08:00:00Z", "ce_subject": "p-" + "0" * 32, "content-type": "application/json"}


def uow(engine) -> HubUnitOfWork:
    return HubUnitOfWork(engine, AUDIT)


async def _dead_letter(engine, topic: str) -> int:
    async with engine.begin() as conn:
        return await conn.scalar(insert(dead_letters).values(
            consumer="gate", topic=topic, origin=f"{topic}/0/7", key="p-" + "0" * 32, headers=HEADERS,
            value=b'{"transfer_id": 42}', reason="transfer_id: keine Zeichenkette", created_at=utcnow())
            .returning(dead_letters.c.id))


async def test_admins_see_metadata_only(private_engine):
    letter_id = await _dead_letter(private_engine, "test.dl.list")
    [item] = [i for i in (await views.dead_letters(uow(private_engine), ADMIN))["items"] if i["id"] == letter_id]
    assert item["event"] == {k: HEADERS[k] for k in ("ce_id", "ce_source", "ce_type", "ce_time")}
    assert item["size_bytes"] == len(b'{"transfer_id": 42}') and "value" not in item
    assert (item["consumer"], item["topic"], item["replayed_at"]) == ("gate", "test.dl.list", None)


async def test_a_replay_puts_the_message_as_received_on_the_outbox_once(private_engine):
    letter_id = await _dead_letter(private_engine, "test.dl.replay")
    replayed = await handlers.replay(ReplayDeadLetter(dead_letter_id=letter_id), ADMIN, uow(private_engine))
    assert replayed["id"] == letter_id and replayed["topic"] == "test.dl.replay"
    async with private_engine.connect() as conn:
        [row] = (await conn.execute(select(outbox).where(outbox.c.topic == "test.dl.replay"))).all()
    assert (row.key, row.headers, bytes(row.value)) == ("p-" + "0" * 32, HEADERS, b'{"transfer_id": 42}')

    with pytest.raises(Conflict, match="bereits erneut zugestellt"):
        await handlers.replay(ReplayDeadLetter(dead_letter_id=letter_id), ADMIN, uow(private_engine))
    pending = (await views.dead_letters(uow(private_engine), ADMIN))["items"]
    assert letter_id not in [i["id"] for i in pending]
    [shown] = [i for i in (await views.dead_letters(uow(private_engine), ADMIN, include_replayed=True))["items"]
               if i["id"] == letter_id]
    assert shown["replayed_by"] == "admin.hub" and shown["replayed_at"] == replayed["replayed_at"]


async def test_an_unknown_dead_letter_is_not_found(private_engine):
    with pytest.raises(NotFound, match="Nachricht nicht gefunden"):
        await handlers.replay(ReplayDeadLetter(dead_letter_id=10**12), ADMIN, uow(private_engine))
