"""The relay's run loop: a notification must never be lost between reading the outbox and waiting.

Pure loop logic: ``publish_pending`` is replaced by a script of rounds, so no database or broker
is involved (the relay's publishing itself is tested in tests/integration/test_outbox_relay.py).
"""
from __future__ import annotations

import asyncio
from collections.abc import Callable

from services.infrastructure.outbox import OutboxRelay

POLL = 5.0  # long: a round that waits for the poll makes the test time out


class ScriptedRelay(OutboxRelay):
    """Each round returns the next count; ``during`` runs inside a round (a commit landing then)."""

    def __init__(self, rounds: list[int], batch: int = 3):
        super().__init__(engine=None, publisher=None, poll_seconds=POLL, batch=batch)  # type: ignore[arg-type]
        self.rounds, self.calls = rounds, 0
        self.during: dict[int, Callable[[], None]] = {}
        self.done = asyncio.Event()

    async def publish_pending(self) -> int:
        i = self.calls
        self.calls += 1
        if i in self.during:
            self.during[i]()
        if i + 1 >= len(self.rounds):
            self.done.set()
        return self.rounds[i] if i < len(self.rounds) else 0


async def _run(relay: ScriptedRelay, timeout: float = 1.0) -> None:
    task = asyncio.create_task(relay.run())
    try:
        await asyncio.wait_for(relay.done.wait(), timeout)
    finally:
        relay.stop()
        await asyncio.wait_for(task, 1.0)


async def test_notification_during_an_empty_round_starts_another_round_at_once():
    # Round 0 reads nothing, but a transaction commits (and notifies) while it runs: its rows were
    # not visible to round 0, so round 1 must follow without waiting for the poll interval.
    relay = ScriptedRelay(rounds=[0, 1])
    relay.during[0] = relay.notify
    await _run(relay)
    assert relay.calls >= 2


async def test_rounds_continue_while_batches_come_back_full():
    relay = ScriptedRelay(rounds=[3, 3, 1])
    await _run(relay)
    assert relay.calls == 3


async def test_no_empty_round_after_a_partial_batch():
    # Fewer rows than a batch: all committed rows were read, so the relay waits for news
    # instead of reading the outbox again (an empty round costs three statements).
    relay = ScriptedRelay(rounds=[2, 0])
    task = asyncio.create_task(relay.run())
    await asyncio.sleep(0.3)
    assert relay.calls == 1
    relay.stop()
    await asyncio.wait_for(task, 1.0)


async def test_without_notification_the_relay_waits_for_the_poll():
    relay = ScriptedRelay(rounds=[0, 0])
    task = asyncio.create_task(relay.run())
    await asyncio.sleep(0.3)
    assert relay.calls == 1  # still waiting: nothing was notified
    relay.notify()
    await asyncio.wait_for(relay.done.wait(), 1.0)
    relay.stop()
    await asyncio.wait_for(task, 1.0)
    assert relay.calls == 2
