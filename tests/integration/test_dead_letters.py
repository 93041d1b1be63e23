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


async def test_admins_see_metadata_only(private_engine, directory):
    letter_id = await _dead_letter(private_engine, "test.dl.list")
    listed = (await views.dead_letters(uow(private_engine), ADMIN, directory))["items"]
    [item] = [i for i in listed if i["id"] == letter_id]
    assert item["event"] == {k: HEADERS[k] for k in ("ce_id", "ce_source", "ce_type", "ce_time")}
    assert item["size_bytes"] == len(b'{"transfer_id": 42}') and "value" not in item
    assert (item["consumer"], item["topic"], item["replayed_at"]) == ("gate", "test.dl.list", None)


async def test_a_replay_puts_the_message_as_received_on_the_outbox_once(private_engine, directory):
    letter_id = await _dead_letter(private_engine, "test.dl.replay")
    replayed = await handlers.replay(ReplayDeadLetter(dead_letter_id=letter_id), ADMIN, uow(private_engine), directory)
    assert replayed["id"] == letter_id and replayed["topic"] == "test.dl.replay"
    async with private_engine.connect() as conn:
        [row] = (await conn.execute(select(outbox).where(outbox.c.topic == "test.dl.replay"))).all()
    assert (row.key, row.headers, bytes(row.value)) == ("p-" + "0" * 32, HEADERS, b'{"transfer_id": 42}')

    with pytest.raises(Conflict, match="bereits erneut zugestellt"):
        await handlers.replay(ReplayDeadLetter(dead_letter_id=letter_id), ADMIN, uow(private_engine), directory)
    pending = (await views.dead_letters(uow(private_engine), ADMIN, directory))["items"]
    assert letter_id not in [i["id"] for i in pending]
    every = (await views.dead_letters(uow(private_engine), ADMIN, directory, include_replayed=True))["items"]
    [shown] = [i for i in every if i["id"] == letter_id]
    assert shown["replayed_by"] == "admin.hub" and shown["replayed_at"] == replayed["replayed_at"]


async def test_an_unknown_dead_letter_is_not_found(private_engine, directory):
    with pytest.raises(NotFound, match="Nachricht nicht gefunden"):
        await handlers.replay(ReplayDeadLetter(dead_letter_id=10**12), ADMIN, uow(private_engine), directory)


async def test_an_admin_sees_and_replays_only_their_controllers_dead_letters(private_engine, directory):
    """The SQL filter and the replay check agree with ``admin.scope.visible`` on PostgreSQL's JSONB."""
    rsk_admin = Actor("admin", "rsk-kim", roles=frozenset({Role.ADMIN}))
    mettmann = await _dead_letter(private_engine, "agency.me-abh.inbox.v1")
    own = await _dead_letter(private_engine, "agency.troisdorf-abh.inbox.v1")
    shared = await _dead_letter(private_engine, "test.dl.shared")  # names no office: every admin's
    async with private_engine.begin() as conn:
        named = await conn.scalar(insert(dead_letters).values(
            consumer="gate", topic="test.dl.named", origin="test.dl.named/0/1", key=None,
            headers=HEADERS | {"ce_recipientoffice": "me-ebh"}, value=b"{}", reason="r", created_at=utcnow())
            .returning(dead_letters.c.id))
    listed = (await views.dead_letters(uow(private_engine), rsk_admin, directory, limit=1000))["items"]
    shown = {i["id"] for i in listed}
    assert {own, shared} <= shown and not {mettmann, named} & shown
    for hidden in (mettmann, named):
        with pytest.raises(NotFound):
            await handlers.replay(ReplayDeadLetter(dead_letter_id=hidden), rsk_admin, uow(private_engine), directory)
