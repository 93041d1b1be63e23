"""What a consumer or a group commit does with an error: retry it (transient) or give up on the
message (permanent)."""
from __future__ import annotations

import asyncio

from aiokafka.errors import KafkaError
from sqlalchemy.exc import InterfaceError, OperationalError


class PermanentError(Exception):
    """The message can never be processed (invalid, unknown office, ...): dead-letter it. ``notices``:
    messages (topic, envelope, message) to send with the dead letter, e.g. to tell a sender why."""

    def __init__(self, reason: str, notices: tuple = ()):
        super().__init__(reason)
        self.notices = notices


def is_transient(exc: BaseException) -> bool:
    """Errors that go away by themselves: the database or the broker is briefly unreachable."""
    if isinstance(exc, (OperationalError, InterfaceError)) or getattr(exc, "connection_invalidated", False):
        return True
    return isinstance(exc, (OSError, ConnectionError, asyncio.TimeoutError, KafkaError))
