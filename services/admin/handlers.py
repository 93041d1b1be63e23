"""Replay a dead-lettered message: once, through the outbox, to its original topic."""
from __future__ import annotations

from services.admin.commands import ReplayDeadLetter
from services.admin.scope import visible
from services.directory.model import Directory
from services.infrastructure.db import utcnow
from services.kernel.errors import Conflict, NotFound
from services.kernel.identity import Actor
from services.unit_of_work import HubUnitOfWork


async def replay(cmd: ReplayDeadLetter, actor: Actor, uow: HubUnitOfWork, directory: Directory) -> dict:
    async with uow:
        letter = await uow.dead_letters.get_for_update(cmd.dead_letter_id)
        if letter is None or not visible(letter.topic, letter.headers, directory.same_controller(actor.office)):
            raise NotFound("Nachricht nicht gefunden.", field="id")
        if letter.replayed_at is not None:
            raise Conflict("Die Nachricht wurde bereits erneut zugestellt.", field="id")
        # the original message (key, headers and bytes as received), to its original topic
        await uow.outbox.add_raw(letter.topic, letter.key or "", dict(letter.headers), bytes(letter.value))
        now = utcnow()
        await uow.dead_letters.mark_replayed(letter.id, now, actor.user)
        await uow.commit()
    return {"id": letter.id, "topic": letter.topic, "replayed_at": now}
