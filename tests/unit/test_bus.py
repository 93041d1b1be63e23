"""The message bus: every command has one handler, which gets only the dependencies it names."""
import pytest

from services import bus
from services.bus import COMMAND_HANDLERS, MessageBus


class Command:
    pass


async def handler(cmd, actor, uow, directory):
    return cmd, actor, uow, directory


def only(monkeypatch, handlers: dict) -> None:
    """The bus with these handlers alone (the real ones need dependencies these tests do not give)."""
    monkeypatch.setattr(bus, "COMMAND_HANDLERS", handlers)
    monkeypatch.setattr(bus, "BATCHED", {}, raising=False)


async def test_a_handler_gets_a_fresh_unit_of_work_and_the_dependencies_it_names(monkeypatch):
    only(monkeypatch, {Command: handler})
    units = iter(["uow-1", "uow-2"])
    message_bus = MessageBus(lambda: next(units), directory="the directory", clock="unused")
    command = Command()
    assert await message_bus.handle(command, "actor") == (command, "actor", "uow-1", "the directory")
    assert (await message_bus.handle(command, "actor"))[2] == "uow-2"


def test_a_handler_that_needs_a_dependency_nobody_provides_fails_at_start_up(monkeypatch):
    only(monkeypatch, {Command: handler})
    with pytest.raises(TypeError, match="needs directory"):
        MessageBus(lambda: None)


def test_every_handler_takes_command_actor_and_unit_of_work_first():
    import inspect

    for command, h in COMMAND_HANDLERS.items():
        assert list(inspect.signature(h).parameters)[:3] == ["cmd", "actor", "uow"], h.__qualname__
