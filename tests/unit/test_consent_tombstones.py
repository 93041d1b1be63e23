"""Erasing a person ends each of their consents on the compacted ``kim.consent.v1`` with a tombstone
(issue 17): the outbox row has the consent id as key, no value and no subject; the consent ids are read
before the rows go. The consent topic's configuration bounds when compaction happens."""
from __future__ import annotations

from types import SimpleNamespace

from services.cases.handlers import erase_person_now
from services.infrastructure import topics
from services.infrastructure.messaging import COMPACT, compaction_configs
from services.infrastructure.topics import DAY_MS
from services.infrastructure.outbox import Outbox
from services.kernel.identity import Actor

PERSON = "p-" + "a" * 32
JOB = Actor("kimhub-retention", "rsk-kim", roles=frozenset())


class FakeErasure:
    """The person's consents exist until ``erase`` deletes them."""

    def __init__(self, consent_ids: list[str]):
        self.left = list(consent_ids)

    async def consent_ids(self, person: str) -> list[str]:
        assert person == PERSON
        return list(self.left)

    async def erase(self, person: str) -> dict[str, int]:
        erased, self.left = len(self.left), []
        return {"consents": erased, "person_keys": 1}


class FakeCases:
    async def mark_person_erased(self, person: str, now) -> None:
        pass


async def test_erasing_a_person_writes_one_tombstone_per_consent_without_the_person():
    uow = SimpleNamespace(erasure=FakeErasure(["c-1", "c-2"]), outbox=Outbox(), cases=FakeCases())
    record = await erase_person_now(uow, PERSON, "rsk-kim", JOB, "Art. 17 DSGVO")
    rows = uow.outbox.take()
    assert [(r["topic"], r["key"], r["value"]) for r in rows] == [
        (topics.CONSENT, "c-1", None), (topics.CONSENT, "c-2", None)]
    assert all(PERSON not in repr(r["headers"]) and "ce_subject" not in r["headers"] for r in rows)
    assert record.erased == ("consents", "person_keys")


async def test_a_person_without_consents_gets_no_tombstone():
    uow = SimpleNamespace(erasure=FakeErasure([]), outbox=Outbox(), cases=FakeCases())
    await erase_person_now(uow, PERSON, "rsk-kim", JOB, "Art. 17 DSGVO")
    assert uow.outbox.take() == []


async def test_a_tombstone_row_has_a_key_and_no_value():
    outbox = Outbox()
    await outbox.add_tombstone(topics.CONSENT, "c-1")
    [row] = outbox.take()
    assert (row["key"], row["value"], row["headers"]) == ("c-1", None, {})


def test_the_consent_topic_is_compacted_within_bounded_times():
    assert COMPACT == {"cleanup.policy": "compact", "segment.ms": str(DAY_MS),
                       "max.compaction.lag.ms": str(7 * DAY_MS), "delete.retention.ms": str(DAY_MS)}
    broker_defaults = {"cleanup.policy": "delete", "segment.ms": str(7 * DAY_MS),
                       "max.compaction.lag.ms": "9223372036854775807", "delete.retention.ms": str(DAY_MS)}
    assert compaction_configs(broker_defaults) == COMPACT


def test_an_administrators_stricter_values_are_kept():
    stricter = {"cleanup.policy": "compact,delete", "segment.ms": str(DAY_MS // 2),
                "max.compaction.lag.ms": str(DAY_MS), "delete.retention.ms": "3600000"}
    assert compaction_configs(stricter) == stricter
    unreadable = {"cleanup.policy": None, "segment.ms": "", "max.compaction.lag.ms": "lots"}
    assert compaction_configs(unreadable) == COMPACT
