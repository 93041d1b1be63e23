"""Erasing one person's data at rest: the SQL, table by table (a repository over other contexts'
tables, on purpose: erasure must reach every table that holds something of the person).

What goes: consents and all their versions (the terms, the evidence), transfers' rows, sealed
payloads still at rest (outbox rows, inbox items, dead letters, documents sealed per transfer),
revocation notices (the hub's and the offices'),
pre-checks and uploaded documents, a restriction, and last the person's keys (crypto-shredding:
the copies on the broker and in backups never open again). The consent events on the compacted
``kim.consent.v1`` (not sealed) are removed by compaction after a tombstone per consent, which the
erasure writes to the outbox (``cases/handlers.py``). What stays: the transfer log (keyed
pseudonyms and metadata; append-only) and the case rows with the hub's pseudonym.
"""
from __future__ import annotations

from sqlalchemy import delete, exists, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection

from services.cases.tables import case_persons
from services.checklists.tables import documents, prechecks
from services.consent.tables import consent_versions, consents
from services.delivery.tables import inbox_items, office_notices
from services.gate.tables import revocation_notices, transfers
from services.infrastructure.tables import dead_letters, outbox
from services.keys.tables import person_keys, transfer_documents
from services.rights.tables import restrictions


class ErasureRepository:
    def __init__(self, conn: AsyncConnection):
        self.conn = conn

    async def consent_ids(self, person: str) -> list[str]:
        """The ids of the person's consents (read before ``erase``: the keys of their events on the
        compacted consent topic, which the erasure ends with a tombstone each)."""
        return list((await self.conn.execute(
            select(consents.c.id).where(consents.c.person == person).order_by(consents.c.id))).scalars())

    async def erase(self, person: str) -> dict[str, int]:
        """Delete everything of ``person`` at rest; rows deleted per table (counts only). The rows that
        point at others go first (versions before consents, documents before transfers)."""
        their_transfers = select(transfers.c.id).where(transfers.c.person == person)
        their_consents = select(consents.c.id).where(consents.c.person == person)
        statements = {
            "transfer_documents": delete(transfer_documents).where(
                transfer_documents.c.transfer_id.in_(their_transfers)),
            "inbox_items": delete(inbox_items).where(inbox_items.c.person == person),
            "transfers": delete(transfers).where(transfers.c.person == person),
            # messages are keyed by their person, consent events by their consent (a compacted topic)
            "outbox": delete(outbox).where(or_(outbox.c.key == person, outbox.c.key.in_(their_consents))),
            "dead_letters": delete(dead_letters).where(dead_letters.c.key == person),
            "revocation_notices": delete(revocation_notices).where(revocation_notices.c.person == person),
            "office_notices": delete(office_notices).where(office_notices.c.person == person),
            "consent_versions": delete(consent_versions).where(consent_versions.c.consent_id.in_(their_consents)),
            "consents": delete(consents).where(consents.c.person == person),
            "prechecks": delete(prechecks).where(prechecks.c.person == person),
            "documents": delete(documents).where(documents.c.person == person),
            "restrictions": delete(restrictions).where(restrictions.c.person == person),
            "person_keys": delete(person_keys).where(person_keys.c.person == person),  # crypto-shredding
        }
        counts = {}
        for table, statement in statements.items():
            counts[table] = (await self.conn.execute(statement)).rowcount
        return {t: n for t, n in counts.items() if n}

    async def sweep_late(self) -> int:
        """Rows that arrived for an erased person after the erasure, from messages that were in flight
        then (a delivery stored, a request dead-lettered): sealed under keys that are gone, so they never
        open; deleted all the same (the pseudonym). A person who has a key again (recorded anew) is left."""
        erased = select(case_persons.c.person).where(case_persons.c.erased_at.is_not(None))
        late_items = delete(inbox_items).where(
            inbox_items.c.person.in_(erased), ~exists().where(person_keys.c.person == inbox_items.c.person))
        late_letters = delete(dead_letters).where(
            dead_letters.c.key.in_(erased), ~exists().where(person_keys.c.person == dead_letters.c.key))
        return (await self.conn.execute(late_items)).rowcount + (await self.conn.execute(late_letters)).rowcount
