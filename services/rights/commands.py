"""What the data-protection officer asks of the rights context (Art. 17, 18, 20 GDPR)."""
from pydantic import Field

from contracts.base import Contract
from contracts.consent import PERSON_PATTERN


class ErasePerson(Contract):
    """Art. 17: erase the person's data now (refused while a case of theirs is open)."""

    person: str = Field(pattern=PERSON_PATTERN)


class EraseCase(Contract):
    """Art. 17 for a whole (archived) case, before its retention period ends."""

    case_id: str = Field(max_length=40)


class RestrictProcessing(Contract):
    """Art. 18: keep the person's data, process none of it."""

    person: str = Field(pattern=PERSON_PATTERN)


class LiftRestriction(Contract):
    person: str = Field(pattern=PERSON_PATTERN)


class ExportPersonData(Contract):
    """Art. 20: the person's own data as structured JSON."""

    person: str = Field(pattern=PERSON_PATTERN)
