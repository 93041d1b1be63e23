"""A case's lifecycle, pure: open → archived → erased.

Only an open case takes new persons; archiving records when; a case is erased when it has been
archived longer than the retention period, or earlier on an Art. 17 request (then it must be
archived first: an open case is still being worked on). A person's data is the person's, not the
case's: erasing a case erases each of its persons unless another case still needs them (one that
is open, or archived and not yet due).
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum


class CaseStatus(StrEnum):
    OPEN = "open"
    ARCHIVED = "archived"
    ERASED = "erased"


class LifecycleError(Exception):
    """A step the case's state does not allow; the message is German (users read it)."""

    def __init__(self, message: str, code: str):
        super().__init__(message)
        self.message = message
        self.code = code


NOT_OPEN = "Der Fall ist nicht mehr offen: Personen können nur einem offenen Fall hinzugefügt werden."
ALREADY_IN = "Die Person gehört bereits zu diesem Fall."
ARCHIVE_ONLY_OPEN = "Nur ein offener Fall kann archiviert werden."
ERASE_ONLY_ARCHIVED = ("Der Fall ist noch offen. Gelöscht wird ein Fall erst nach seiner Archivierung "
                       "(auch auf Antrag nach Art. 17 DSGVO): bitte zuerst archivieren.")
ALREADY_ERASED = "Der Fall ist bereits gelöscht."


@dataclass(frozen=True)
class Case:
    id: str
    office: str
    status: CaseStatus
    persons: tuple[str, ...]
    created_at: datetime
    archived_at: datetime | None = None
    erased_at: datetime | None = None


def add_person(case: Case, person: str) -> Case:
    if case.status != CaseStatus.OPEN:
        raise LifecycleError(NOT_OPEN, "case_not_open")
    if person in case.persons:
        raise LifecycleError(ALREADY_IN, "person_already_in_case")
    return replace(case, persons=case.persons + (person,))


def archive(case: Case, now: datetime) -> Case:
    if case.status != CaseStatus.OPEN:
        raise LifecycleError(ARCHIVE_ONLY_OPEN, "case_not_open")
    return replace(case, status=CaseStatus.ARCHIVED, archived_at=now)


def due(case: Case, now: datetime, retention: timedelta) -> bool:
    """Archived longer than the retention period (the job erases it)."""
    return case.status == CaseStatus.ARCHIVED and case.archived_at is not None and now - case.archived_at > retention


def check_erasable(case: Case) -> None:
    """On request (Art. 17): an archived case, whatever its age."""
    if case.status == CaseStatus.ERASED:
        raise LifecycleError(ALREADY_ERASED, "case_erased")
    if case.status != CaseStatus.ARCHIVED:
        raise LifecycleError(ERASE_ONLY_ARCHIVED, "case_open")


def erase(case: Case, now: datetime) -> Case:
    check_erasable(case)
    return replace(case, status=CaseStatus.ERASED, erased_at=now)


def still_needed(other_cases: list[Case], now: datetime, retention: timedelta) -> bool:
    """Does another case still need a person? One that is open, or archived and not yet due."""
    return any(c.status == CaseStatus.OPEN or (c.status == CaseStatus.ARCHIVED and not due(c, now, retention))
               for c in other_cases)
