"""The transfer log as the data-protection officer reads it: records, totals, tree nodes, proofs,
the export, and the signed checkpoints with their cosignatures.

Appending records is not here: ``log.py`` does it under the ``log_head`` lock (``uow.log``).
"""
from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, insert, select, tuple_
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from services.audit import merkle
from services.audit.record import TransferLogRecord
from services.audit.tables import checkpoint_cosignatures, checkpoints, log_head, merkle_nodes, transfer_log


@dataclass(frozen=True)
class LogQuery:
    person: str | None = None  # the log's keyed pseudonym (``uow.log.pseudonym``), never the hub's own
    office: str | None = None  # sender or recipient
    purpose: str | None = None
    decision: str | None = None
    kind: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    limit: int = 100
    after_seq: int = -1
    scope: frozenset[str] | None = None  # the offices of the reader's controller; None: the whole log


class AuditRepository:
    def __init__(self, conn: AsyncConnection):
        self.conn = conn

    # --- records ---------------------------------------------------------------------------

    async def query(self, q: LogQuery) -> tuple[list[tuple[int, dict]], int]:
        """Matching records (seq, record) in log order, and the total number of matches."""
        conds = _conditions(q)
        t = transfer_log
        rows = await self.conn.execute(select(t.c.seq, t.c.record).where(t.c.seq > q.after_seq, *conds)
                                       .order_by(t.c.seq).limit(q.limit))
        total = await self.conn.scalar(select(func.count()).select_from(t).where(*conds))
        return [(seq, json.loads(rec)) for seq, rec in rows], int(total or 0)

    async def totals(self, q: LogQuery) -> list[dict]:
        """Transfer decisions counted per (sender, recipient, decision)."""
        t = transfer_log
        rows = await self.conn.execute(
            select(t.c.sender_office, t.c.recipient_office, t.c.decision, func.count())
            .where(t.c.kind == TransferLogRecord.KIND, *_conditions(q))
            .group_by(t.c.sender_office, t.c.recipient_office, t.c.decision)
            .order_by(t.c.sender_office, t.c.recipient_office, t.c.decision)
        )
        return [{"sender_office": s, "recipient_office": r, "decision": d, "count": n} for s, r, d, n in rows]

    async def monthly_totals(self, q: LogQuery) -> list[dict]:
        """Transfer decisions counted per sending office, month (UTC, "YYYY-MM") and decision."""
        t = transfer_log
        if self.conn.dialect.name == "postgresql":
            month = func.to_char(func.timezone("UTC", t.c.recorded_at), "YYYY-MM")
        else:  # SQLite keeps UTC without a zone
            month = func.strftime("%Y-%m", t.c.recorded_at)
        rows = await self.conn.execute(
            select(t.c.sender_office, month.label("month"), t.c.decision, func.count())
            .where(t.c.kind == TransferLogRecord.KIND, *_conditions(q))
            .group_by(t.c.sender_office, month, t.c.decision)
            .order_by(t.c.sender_office, month, t.c.decision)
        )
        return [{"office": o, "month": m, "decision": d, "count": n} for o, m, d, n in rows]

    async def leaf(self, index: int, scope: frozenset[str] | None = None) -> tuple[dict, bytes] | None:
        """The record at ``index`` and the leaf hash stored when it was appended (None if it is not
        there, or not about an office in ``scope``)."""
        conds = [transfer_log.c.seq == index, *_scoped(scope)]
        row = (await self.conn.execute(select(transfer_log.c.record).where(*conds))).first()
        if row is None:
            return None
        stored = await self.nodes([(0, index)])
        return json.loads(row.record), stored.get((0, index), b"")

    async def export(self, start: int = 0, end: int | None = None,
                     scope: frozenset[str] | None = None) -> AsyncIterator[str]:
        """JSON Lines for offline verification: index, the leaf hash stored at append time, the record.

        With ``scope``, a record about none of its offices is withheld (``"record": null``): the
        verifier then takes its leaf hash as it is, so the tree still checks against the signed root.
        """
        t, n = transfer_log, merkle_nodes
        q = (select(t.c.seq, t.c.record, n.c.hash, t.c.sender_office, t.c.recipient_office)
             .join(n, (n.c.level == 0) & (n.c.idx == t.c.seq), isouter=True)
             .where(t.c.seq >= start).order_by(t.c.seq))
        if end is not None:
            q = q.where(t.c.seq < end)
        result = await self.conn.stream(q.execution_options(yield_per=5000))
        async for seq, record, stored, sender, recipient in result:
            shown = scope is None or sender in scope or recipient in scope
            yield json.dumps({"index": seq, "leaf_hash": bytes(stored).hex() if stored else None,
                              "record": json.loads(record) if shown else None},
                             ensure_ascii=False, separators=(",", ":")) + "\n"

    async def export_nodes(self) -> AsyncIterator[str]:
        """JSON Lines of every stored perfect-subtree hash (``{"level", "index", "hash"}``): untrusted,
        but what lets ``kimhub audit verify --nodes`` narrow a rewritten record down (``narrow.py``)."""
        n = merkle_nodes
        result = await self.conn.stream(select(n.c.level, n.c.idx, n.c.hash).order_by(n.c.level, n.c.idx)
                                        .execution_options(yield_per=5000))
        async for level, idx, h in result:
            yield json.dumps({"level": level, "index": idx, "hash": bytes(h).hex()}, separators=(",", ":")) + "\n"

    # --- the tree --------------------------------------------------------------------------

    async def tree_head(self) -> tuple[int, bytes]:
        """The log's size and root as committed (no lock)."""
        head = (await self.conn.execute(select(log_head.c.frontier).where(log_head.c.id == 1))).one()
        tree = merkle.CompactRange.from_json(head.frontier)
        return tree.size, tree.root()

    async def nodes(self, coords: list[tuple[int, int]]) -> dict[tuple[int, int], bytes]:
        """Stored perfect-subtree hashes by (level, index), in one query."""
        if not coords:
            return {}
        rows = await self.conn.execute(select(merkle_nodes.c.level, merkle_nodes.c.idx, merkle_nodes.c.hash)
                                       .where(tuple_(merkle_nodes.c.level, merkle_nodes.c.idx).in_(coords)))
        return {(lvl, idx): bytes(h) for lvl, idx, h in rows}

    async def inclusion_proof(self, index: int, size: int) -> list[bytes]:
        nodes = await self.nodes(_flatten(merkle.inclusion_proof_nodes(index, size)))
        return merkle.inclusion_proof(index, size, lambda _coords: nodes)

    async def consistency_proof(self, old_size: int, new_size: int) -> list[bytes]:
        nodes = await self.nodes(_flatten(merkle.consistency_proof_nodes(old_size, new_size)))
        return merkle.consistency_proof(old_size, new_size, lambda _coords: nodes)

    # --- checkpoints -----------------------------------------------------------------------

    async def latest_checkpoint(self):
        return (await self.conn.execute(select(checkpoints).order_by(checkpoints.c.size.desc()).limit(1))).first()

    async def checkpoint_at(self, size: int):
        return (await self.conn.execute(select(checkpoints).where(checkpoints.c.size == size))).first()

    async def add_checkpoint(self, size: int, root: bytes, issued_at: datetime, note: str) -> bool:
        """Store a signed checkpoint; False (and nothing stored) if another process stored this
        size first. A savepoint keeps the caller's transaction usable after the conflict."""
        try:
            async with self.conn.begin_nested():
                await self.conn.execute(insert(checkpoints).values(size=size, root=root, issued_at=issued_at,
                                                                   note=note))
        except IntegrityError:
            return False
        return True

    async def cosignature_lines(self, size: int) -> list[str]:
        """The cosigners' signature lines on the checkpoint of ``size``, by key name."""
        return list((await self.conn.execute(select(checkpoint_cosignatures.c.signature_line)
                                             .where(checkpoint_cosignatures.c.size == size)
                                             .order_by(checkpoint_cosignatures.c.key_name))).scalars())

    async def last_cosigned(self, key_name: str) -> int | None:
        """The largest checkpoint size ``key_name`` cosigned (None: none yet)."""
        c = checkpoint_cosignatures
        return await self.conn.scalar(select(func.max(c.c.size)).where(c.c.key_name == key_name))

    async def has_cosignature(self, size: int, key_name: str) -> bool:
        return await self.conn.scalar(select(checkpoint_cosignatures.c.size).where(
            checkpoint_cosignatures.c.size == size, checkpoint_cosignatures.c.key_name == key_name)) is not None

    async def add_cosignature(self, size: int, key_name: str, signature_line: str, added_at: datetime) -> None:
        await self.conn.execute(insert(checkpoint_cosignatures).values(
            size=size, key_name=key_name, signature_line=signature_line, added_at=added_at))


def _scoped(scope: frozenset[str] | None) -> list:
    """Records about an office of ``scope`` (as sender, recipient, or the office recording a consent)."""
    if scope is None:
        return []
    t = transfer_log
    return [t.c.sender_office.in_(sorted(scope)) | t.c.recipient_office.in_(sorted(scope))]


def _conditions(q: LogQuery) -> list:
    t = transfer_log
    conds = _scoped(q.scope)
    if q.person:
        conds.append(t.c.person == q.person)
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


def _flatten(groups: list[list[tuple[int, int]]]) -> list[tuple[int, int]]:
    return sorted({c for group in groups for c in group})
