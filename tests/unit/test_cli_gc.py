"""What a service created while starting is exempt from the cyclic garbage collector afterwards
(``gc.freeze``), so full collections under load do not walk it again."""
from __future__ import annotations

import asyncio
import gc

import pytest

from services import cli
from services.kernel.settings import Settings


class StartedHub:
    """Stands in for the hub: what it allocates while starting must end up frozen."""

    made: list = []

    def __init__(self, settings, components):
        pass

    async def start(self):
        StartedHub.made = [{"created": "during start-up"}]

    async def stop(self):
        pass


@pytest.fixture
def unfrozen():
    gc.unfreeze()
    yield
    gc.unfreeze()


async def test_objects_created_during_start_up_are_frozen_once_the_service_runs(monkeypatch, unfrozen):
    monkeypatch.setattr(cli, "Hub", StartedHub)
    serving = asyncio.create_task(cli._serve(Settings(), ("relay",)))
    for _ in range(100):
        await asyncio.sleep(0.01)
        if gc.get_freeze_count():
            break
    try:
        assert gc.get_freeze_count() > 0
        marker = StartedHub.made[0]
        assert not any(o is marker for o in gc.get_objects()), "start-up objects still tracked"
    finally:
        serving.cancel()
        with pytest.raises(asyncio.CancelledError):
            await serving
