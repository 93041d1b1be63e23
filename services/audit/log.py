"""The transfer log: append (inside the caller's transaction). Reading it (queries, proofs, the
export, checkpoints) is ``repository.py``.

Appends take a row lock on ``log_head`` and assign the next Merkle leaf index, so log order is
commit order and there are no gaps. Each append stores the record, the newly completed perfect
subtree hashes and the new right-edge frontier; proofs then read O(log n) stored nodes in one
query and never the whole log.
"""
from __future__ import annotations

import hmac
from collections.abc import Iterable
from datetime import datetime
from hashlib import sha256

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from services.audit import merkle
from services.audit.record import LogRecord, canonical_json
from services.audit.tables import log_head, merkle_nodes, transfer_log
from services.infrastructure import bulk
from services.infrastructure.db import utcnow

_LOCK_HEAD = select(log_head).where(log_head.c.id == 1).with_for_update()  # built once: every append takes it


class AuditLog:
    def __init__(self, pseudonym_key: bytes):
        if len(pseudonym_key) < 16:
            raise ValueError("the log pseudonym key must have at least 16 bytes")
        self._key = pseudonym_key

    def pseudonym(self, person: str) -> str:
        """Keyed pseudonym (HMAC-SHA256): a leaked log cannot be joined to other data without the key."""
        return "k-" + hmac.new(self._key, person.encode(), sha256).hexdigest()[:40]

    def bound(self, conn: AsyncConnection, stage=None) -> BoundLog:
        """This log inside one transaction (a unit of work's ``log``; ``stage``: its ``stage``)."""
        return BoundLog(self, conn, stage)

    async def append(self, conn: AsyncConnection, record: LogRecord, head=None) -> int:
        return (await self.append_many(conn, [record], head))[0]

    async def append_many(self, conn: AsyncConnection, records: Iterable[LogRecord], head=None) -> list[int]:
        indexes, writes = await self.prepare_append(conn, records, head)
        await bulk.write(conn, writes)
        return indexes

    async def lock_head(self, conn: AsyncConnection):
        """Take the log's head lock now, until the transaction ends, and return the head.

        Every append takes it, so appends are serialised. Taking it *before* reading what a
        decision depends on (the gate reads the consents after it; a consent is amended or revoked
        only under it) makes the log's order the order of what was read: a transfer decided after
        a revocation in the log was decided on the revoked consent."""
        return (await conn.execute(_LOCK_HEAD)).one()

    async def prepare_append(self, conn: AsyncConnection, records: Iterable[LogRecord],
                             head=None) -> tuple[list[int], list[bulk.Write]]:
        """Lock the log's head (unless ``head``, from ``lock_head`` in this transaction and nothing
        appended since, says it is held) and work out the
        appended records' rows, tree nodes and new head: their indexes, and the writes for the
        caller to make in the same transaction (with its own, as one statement: ``bulk``).
        Nothing to append: no lock, no writes."""
        records = list(records)
        if not records:
            return [], []
        if head is None:
            head = await self.lock_head(conn)
        tree = merkle.CompactRange.from_json(head.frontier)
        rows, nodes, indexes = [], [], []
        for record in records:
            data = record.to_dict()
            data["person"] = self.pseudonym(record.person)
            raw = canonical_json(data)
            indexes.append(tree.size)
            rows.append(_columns(tree.size, data, raw))
            nodes.extend({"level": lvl, "idx": idx, "hash": h} for lvl, idx, h in tree.append(merkle.leaf_hash(raw)))
        return indexes, [bulk.Insert(transfer_log, rows), bulk.Insert(merkle_nodes, nodes),
                         bulk.Update(log_head, [{"id": 1, "size": tree.size, "frontier": tree.to_json(),
                                                 "updated_at": utcnow()}])]


class BoundLog:
    """The transfer log as a handler sees it: appends and the head lock in its unit of work.

    ``append`` writes at once; ``stage_append`` leaves the rows to the unit of work's commit (one
    statement with its other writes). A staged append must be the unit's only one: a later append
    would compute its leaves from the head as it was before."""

    def __init__(self, log: AuditLog, conn: AsyncConnection, stage=None):
        self.log = log
        self.conn = conn
        self._stage = stage
        self._staged = False

    def pseudonym(self, person: str) -> str:
        return self.log.pseudonym(person)

    async def lock_head(self):
        return await self.log.lock_head(self.conn)

    async def append(self, record: LogRecord, head=None) -> int:
        return (await self.append_many([record], head))[0]

    async def append_many(self, records: Iterable[LogRecord], head=None) -> list[int]:
        if self._staged:
            raise RuntimeError("an append after a staged append in one unit of work")
        return await self.log.append_many(self.conn, records, head)

    async def stage_append(self, records: Iterable[LogRecord], head=None) -> list[int]:
        """The records' leaf indexes; their rows are written at the commit."""
        if self._staged:
            raise RuntimeError("one staged append per unit of work")
        indexes, writes = await self.log.prepare_append(self.conn, records, head)
        if writes:
            self._staged = True
            self._stage(*writes)
        return indexes


def _columns(seq: int, data: dict, raw: bytes) -> dict:
    """The queryable columns: ``sender_office`` is the office that acted (sent, notified; recorded a consent,
    read, carried out a right: those records name it ``office``); ``decision`` a transfer's or revocation
    step's decision, a consent's or a right's event."""
    return {
        "seq": seq, "kind": data["kind"], "recorded_at": _time(data["recorded_at"]),
        "transfer_id": data.get("transfer_id"), "consent_id": data.get("consent_id"),
        "sender_office": data["sender_office"] if "sender_office" in data else data["office"],
        "recipient_office": data.get("recipient_office"), "person": data["person"],
        "purpose": data.get("purpose"), "decision": data["decision"] if "decision" in data else data.get("event"),
        "record": raw.decode(),
    }


def _time(s: str) -> datetime:
    return datetime.fromisoformat(s.replace("Z", "+00:00"))
