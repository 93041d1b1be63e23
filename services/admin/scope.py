"""Which controller's a dead letter is: the office its topic or its CloudEvent names (pure).

An office inbox topic (``agency.<office>.inbox.v1``) names the office; on the shared topics the
``ce_recipientoffice`` extension does. A message that names no office (unreadable, or without
headers) belongs to the joint operation of the hub (``docs/controllers.md``): every admin sees
its metadata, none its content.
"""
from __future__ import annotations

from collections.abc import Mapping

INBOX_PREFIX, INBOX_SUFFIX = "agency.", ".inbox.v1"


def office_named(topic: str, headers: Mapping[str, str]) -> str | None:
    """The office a dead letter is about, or None if it names none."""
    if topic.startswith(INBOX_PREFIX) and topic.endswith(INBOX_SUFFIX):
        return topic[len(INBOX_PREFIX):-len(INBOX_SUFFIX)]
    return headers.get("ce_recipientoffice") or None


def visible(topic: str, headers: Mapping[str, str], offices: frozenset[str]) -> bool:
    """May an admin of the controller of ``offices`` see (and replay) this dead letter?"""
    office = office_named(topic, headers)
    return office is None or office in offices
