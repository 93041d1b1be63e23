"""What may be asked of the cases context."""
from __future__ import annotations

from typing import Annotated

from pydantic import AwareDatetime, Field

from contracts.base import Contract
from contracts.consent import PERSON_PATTERN


class CreateCase(Contract):
    persons: list[Annotated[str, Field(pattern=PERSON_PATTERN)]] = Field(
        min_length=1, max_length=30, description="Pseudonyme der Personen (Familie)")


class AddPerson(Contract):
    case_id: str = Field(max_length=40)
    person: str = Field(pattern=PERSON_PATTERN)


class ArchiveCase(Contract):
    case_id: str = Field(max_length=40)


class EraseExpiredCases(Contract):
    """The retention job: erase every case archived longer than the retention period at ``now``."""

    now: AwareDatetime
    limit: int = Field(100, ge=1, le=1000)
