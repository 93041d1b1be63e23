"""Access to the hub from a request: the bus for commands, a unit of work for reads, the directory."""
from fastapi import Request

from services.bus import MessageBus
from services.directory.model import Directory
from services.keys.holder import Keys
from services.unit_of_work import HubUnitOfWork


def bus(request: Request) -> MessageBus:
    """The commands' handlers: a route builds one command and hands it over."""
    return request.app.state.hub.bus


def new_uow(request: Request) -> HubUnitOfWork:
    """A unit of work for a read (views)."""
    return request.app.state.hub.new_uow()


def directory(request: Request) -> Directory:
    return request.app.state.hub.directory


def keys(request: Request) -> Keys:
    """The keys this process holds (offices' rings, master key, delivery signer)."""
    return request.app.state.hub.keys
