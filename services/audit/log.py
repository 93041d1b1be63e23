"""The transfer log: append (inside the caller's transaction), query, export, prove.

Appends take a row lock on ``log_head`` and assign the next Merkle leaf index, so log order is
commit order and there are no gaps. Each append stores the record, the newly completed perfect
subtree hashes and the new right-edge frontier; proofs then read O(log n) stored nodes in one
query and never the whole log.
"""
from __future__ import annotations

import hmac
import json
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass
from datetime import datetime
from hashlib import sha256

from sqlalchemy import func, select, tuple_
from sqlalchemy.ext.asyncio import AsyncConnection

from services.audit import merkle
from services.audit.record import LogRecord, TransferLogRecord, canonical_json
from services.audit.tables import checkpoints, log_head, merkle_nodes, transfer_log
from services.infrastructure import bulk
from services.infrastructure.db import utcnow

_LOCK_HEAD = select(log_head).where(log_head.c.id == 1).with_for_update()  # built once: every append takes it


@dataclass(frozen=True)
class LogQuery:
    person: str | None = None  # the hub's pseudonym; matched via the keyed pseudonym
    office: str | None = None  # sender or recipient
    purpose: str | None = None
    decision: str | None = None
    kind: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    limit: int = 100
    after_seq: int = -1


class AuditLog:
    def __init__(self, pseudonym_key: bytes):
        if len(pseudonym_key) < 16:
            raise ValueError("the log pseudonym key must have at least 16 bytes")
        self._key = pseudonym_key

    def pseudonym(self, person: str) -> str:
        """Keyed pseudonym (HMAC-SHA256): a leaked log cannot be joined to other data without the key."""
        return "k-" + hmac.new(self._key, person.encode(), sha256).hexdigest()[:40]

    def bound(self, conn: AsyncConnection) -> BoundLog:
        """This log inside one transaction (a unit of work's ``log``)."""
        return BoundLog(self, conn)

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

    def _conditions(self, q: LogQuery) -> list:
        t = transfer_log
        conds = []
        if q.person:
            conds.append(t.c.person == self.pseudonym(q.person))
        if q.office:
            conds.append((t.c.sender_office == q.office) | (t.c.recipient_office == q.office))
        for column, value in ((t.c.purpose, q.purpose), (t.c.decision, q.decision), (t.c.kind, q.kind)):
            if value:
                conds.append(column == value)
        if q.since:
            conds.append(t.c.recorded_at >= q.since)
        if q.until:
            conds.append(t.c.recorded_at < q.until)
        return conds

    async def query(self, conn: AsyncConnection, q: LogQuery) -> tuple[list[tuple[int, dict]], int]:
        """Matching records (seq, record) in log order, and the total number of matches."""
        conds = self._conditions(q)
        t = transfer_log
        rows = await conn.execute(select(t.c.seq, t.c.record).where(t.c.seq > q.after_seq, *conds)
                                  .order_by(t.c.seq).limit(q.limit))
        total = await conn.scalar(select(func.count()).select_from(t).where(*conds))
        return [(seq, json.loads(rec)) for seq, rec in rows], int(total or 0)

    async def totals(self, conn: AsyncConnection, q: LogQuery) -> list[dict]:
        """Transfer decisions counted per (sender, recipient, decision)."""
        t = transfer_log
        rows = await conn.execute(
            select(t.c.sender_office, t.c.recipient_office, t.c.decision, func.count())
            .where(t.c.kind == TransferLogRecord.KIND, *self._conditions(q))
            .group_by(t.c.sender_office, t.c.recipient_office, t.c.decision)
            .order_by(t.c.sender_office, t.c.recipient_office, t.c.decision)
        )
        return [{"sender_office": s, "recipient_office": r, "decision": d, "count": n} for s, r, d, n in rows]


@dataclass(frozen=True)
class BoundLog:
    """The transfer log as a handler sees it: appends and the head lock in its unit of work."""

    log: AuditLog
    conn: AsyncConnection

    def pseudonym(self, person: str) -> str:
        return self.log.pseudonym(person)

    async def lock_head(self):
        return await self.log.lock_head(self.conn)

    async def append(self, record: LogRecord, head=None) -> int:
        return await self.log.append(self.conn, record, head)

    async def append_many(self, records: Iterable[LogRecord], head=None) -> list[int]:
        return await self.log.append_many(self.conn, records, head)

    async def prepare_append(self, records: Iterable[LogRecord], head=None) -> tuple[list[int], list[bulk.Write]]:
        return await self.log.prepare_append(self.conn, records, head)


def _columns(seq: int, data: dict, raw: bytes) -> dict:
    transfer = data["kind"] == TransferLogRecord.KIND
    return {
        "seq": seq, "kind": data["kind"], "recorded_at": _time(data["recorded_at"]),
        "transfer_id": data.get("transfer_id"), "consent_id": data.get("consent_id"),
        "sender_office": data["sender_office"] if transfer else data["office"],
        "recipient_office": data.get("recipient_office"), "person": data["person"],
        "purpose": data.get("purpose"), "decision": data.get("decision") if transfer else data["event"],
        "record": raw.decode(),
    }


def _time(s: str) -> datetime:
    return datetime.fromisoformat(s.replace("Z", "+00:00"))


# --- reading the tree -----------------------------------------------------------------------

async def tree_head(conn: AsyncConnection) -> tuple[int, bytes]:
    head = (await conn.execute(select(log_head.c.frontier).where(log_head.c.id == 1))).one()
    tree = merkle.CompactRange.from_json(head.frontier)
    return tree.size, tree.root()


async def fetch_nodes(conn: AsyncConnection, coords: list[tuple[int, int]]) -> dict[tuple[int, int], bytes]:
    if not coords:
        return {}
    rows = await conn.execute(select(merkle_nodes.c.level, merkle_nodes.c.idx, merkle_nodes.c.hash)
                              .where(tuple_(merkle_nodes.c.level, merkle_nodes.c.idx).in_(coords)))
    return {(lvl, idx): bytes(h) for lvl, idx, h in rows}


def _flatten(groups: list[list[tuple[int, int]]]) -> list[tuple[int, int]]:
    return sorted({c for group in groups for c in group})


async def inclusion_proof(conn: AsyncConnection, index: int, size: int) -> list[bytes]:
    nodes = await fetch_nodes(conn, _flatten(merkle.inclusion_proof_nodes(index, size)))
    return merkle.inclusion_proof(index, size, lambda _coords: nodes)


async def consistency_proof(conn: AsyncConnection, old_size: int, new_size: int) -> list[bytes]:
    nodes = await fetch_nodes(conn, _flatten(merkle.consistency_proof_nodes(old_size, new_size)))
    return merkle.consistency_proof(old_size, new_size, lambda _coords: nodes)


async def leaf(conn: AsyncConnection, index: int) -> tuple[dict, bytes] | None:
    row = (await conn.execute(select(transfer_log.c.record).where(transfer_log.c.seq == index))).first()
    if row is None:
        return None
    stored = await fetch_nodes(conn, [(0, index)])
    return json.loads(row.record), stored.get((0, index), b"")


async def export(conn: AsyncConnection, start: int = 0, end: int | None = None) -> AsyncIterator[str]:
    """JSON Lines for offline verification: index, the leaf hash stored at append time, the record."""
    t, n = transfer_log, merkle_nodes
    q = (select(t.c.seq, t.c.record, n.c.hash)
         .join(n, (n.c.level == 0) & (n.c.idx == t.c.seq), isouter=True)
         .where(t.c.seq >= start).order_by(t.c.seq))
    if end is not None:
        q = q.where(t.c.seq < end)
    result = await conn.stream(q.execution_options(yield_per=5000))
    async for seq, record, stored in result:
        yield json.dumps({"index": seq, "leaf_hash": bytes(stored).hex() if stored else None,
                          "record": json.loads(record)}, ensure_ascii=False, separators=(",", ":")) + "\n"


async def latest_checkpoint(conn: AsyncConnection):
    return (await conn.execute(select(checkpoints).order_by(checkpoints.c.size.desc()).limit(1))).first()


async def checkpoint_at(conn: AsyncConnection, size: int):
    return (await conn.execute(select(checkpoints).where(checkpoints.c.size == size))).first()
