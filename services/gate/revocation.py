"""Which offices hear of a revocation or narrowing, and about which transfers (pure).

A transfer delivered (or received) under a consent is affected when the consent's latest version no
longer covers what it carried: after a revocation, everything; after an amendment, the categories
the new version no longer allows for that office and purpose (the coverage rule of
``services/consent/domain.py``: an office or purpose that fell out takes every category with it).
Categories an earlier notice already named are not named again.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime

from services.consent.domain import ConsentVersion, Recipient, TransferFacts, covered_categories, is_active


@dataclass(frozen=True)
class Delivered:
    """A transfer the gate delivered under the consent (metadata only)."""

    transfer_id: str
    sender_office: str
    recipient_office: str
    person: str
    purpose: str
    categories: frozenset[str]
    consent_version: int


@dataclass(frozen=True)
class Affected:
    transfer_id: str
    recipient_office: str
    consent_version: int
    purpose: str
    categories: tuple[str, ...]  # no longer covered, sorted


def no_longer_covered(delivered: list[Delivered], latest: ConsentVersion | None, party: Callable[[str], Recipient],
                      noticed: Mapping[str, frozenset[str]], now: datetime) -> dict[str, list[Affected]]:
    """The affected transfers by recipient office. ``latest``: the consent's version now (None: revoked);
    ``party``: an office as the coverage rule sees it; ``noticed``: categories already named per transfer."""
    out: dict[str, list[Affected]] = {}
    for t in sorted(delivered, key=lambda t: t.transfer_id):
        gone = t.categories - _still_covered(t, latest, party, now) - noticed.get(t.transfer_id, frozenset())
        if gone:
            out.setdefault(t.recipient_office, []).append(
                Affected(t.transfer_id, t.recipient_office, t.consent_version, t.purpose, tuple(sorted(gone))))
    return out


def _still_covered(t: Delivered, latest: ConsentVersion | None, party: Callable[[str], Recipient],
                   now: datetime) -> frozenset[str]:
    if latest is None or not is_active(latest, now):
        return frozenset()
    facts = TransferFacts(sender_office=t.sender_office, person=t.person, recipient=party(t.recipient_office),
                          purpose=t.purpose, required_categories=t.categories, sender=party(t.sender_office))
    return covered_categories(latest, facts)
