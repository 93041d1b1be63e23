"""What the gate needs from other contexts, as ports: it depends on these, not on their tables."""
from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Protocol

from services.consent.domain import ConsentVersion


class ConsentVersions(Protocol):
    """The consent versions the coverage rule decides on (``services/consent/repository.py``)."""

    async def versions_for_many(self, persons: Iterable[str],
                                offices: Iterable[str]) -> dict[str, list[ConsentVersion]]: ...

    async def versions_and_restrictions(
            self, persons: Iterable[str], offices: Iterable[str],
            restricted_of: Iterable[str]) -> tuple[dict[str, list[ConsentVersion]], set[str]]:
        """``versions_for_many`` and which of ``restricted_of`` are restricted (Art. 18), in one query."""

    async def revoked_at(self, consent_id: str) -> datetime | None: ...


class RestrictedPersons(Protocol):
    """Persons whose data is restricted (Art. 18 GDPR): kept, not processed (``services/rights``)."""

    async def restricted(self, persons: Iterable[str]) -> set[str]: ...
