"""A case's lifecycle, pure: open → archived → erased; who is still needed by another case."""
from datetime import datetime, timedelta, timezone

import pytest

from services.cases import domain
from services.cases.domain import Case, CaseStatus, LifecycleError

T0 = datetime(2026, 1, 1, tzinfo=timezone.utc)
YEAR = timedelta(days=365)


def case(status=CaseStatus.OPEN, archived_at=None, persons=("p-1",)) -> Case:
    return Case("f-1", "rsk-kim", status, persons, T0, archived_at)


def test_only_an_open_case_takes_new_persons():
    assert domain.add_person(case(), "p-2").persons == ("p-1", "p-2")
    with pytest.raises(LifecycleError, match="nicht mehr offen"):
        domain.add_person(case(CaseStatus.ARCHIVED, T0), "p-2")
    with pytest.raises(LifecycleError, match="bereits"):
        domain.add_person(case(), "p-1")


def test_archiving_records_when_and_happens_once():
    archived = domain.archive(case(), T0)
    assert (archived.status, archived.archived_at) == (CaseStatus.ARCHIVED, T0)
    with pytest.raises(LifecycleError):
        domain.archive(archived, T0)


def test_a_case_is_due_only_when_archived_longer_than_the_period():
    archived = case(CaseStatus.ARCHIVED, T0)
    assert not domain.due(archived, T0 + YEAR, YEAR)
    assert domain.due(archived, T0 + YEAR + timedelta(seconds=1), YEAR)
    assert not domain.due(case(), T0 + 10 * YEAR, YEAR)  # an open case never


def test_erasure_needs_an_archived_case():
    with pytest.raises(LifecycleError, match="noch offen"):
        domain.erase(case(), T0)
    erased = domain.erase(case(CaseStatus.ARCHIVED, T0), T0)
    assert erased.status == CaseStatus.ERASED
    with pytest.raises(LifecycleError, match="bereits gelöscht"):
        domain.erase(erased, T0)


def test_a_person_is_still_needed_by_an_open_case_or_one_not_yet_due():
    now = T0 + YEAR + timedelta(days=1)
    assert domain.still_needed([case()], now, YEAR)
    assert domain.still_needed([case(CaseStatus.ARCHIVED, now - timedelta(days=1))], now, YEAR)
    assert not domain.still_needed([case(CaseStatus.ARCHIVED, T0)], now, YEAR)
    assert not domain.still_needed([case(CaseStatus.ERASED, T0)], now, YEAR)
    assert not domain.still_needed([], now, YEAR)
