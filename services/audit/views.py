"""What the data-protection officer reads from the transfer log: records and totals (metadata, never
payloads), checkpoints with their cosignatures, proofs, the export and the Art. 15 report."""
from __future__ import annotations

import base64
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime

from contracts.purposes import Purpose
from contracts.transfer import Decision
from services.audit import merkle
from services.audit.note_keys import NoteSigner, NoteVerifier
from services.audit.repository import LogQuery
from services.directory.model import Directory
from services.kernel.errors import Forbidden, InvalidInput, NotFound
from services.kernel.identity import Actor
from services.unit_of_work import HubUnitOfWork


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


@dataclass(frozen=True)
class LogFilter:
    """The DPO's filter as asked: the hub's person pseudonym (matched via the log's keyed one)."""

    person: str | None = None
    office: str | None = None  # sender or recipient
    purpose: Purpose | None = None
    decision: Decision | None = None
    kind: str | None = None
    since: datetime | None = None  # inclusive
    until: datetime | None = None  # exclusive


def scope(actor: Actor, directory: Directory) -> frozenset[str]:
    """The offices whose records the actor may read: those of the actor's controller (Kreis or
    kreisfreie Stadt). The checkpoints and proofs are of the one joint log (``docs/controllers.md``)."""
    return directory.same_controller(actor.office)


def signing_keys(origin: str, signer: NoteSigner, cosigners: list[NoteVerifier]) -> dict:
    """The log's origin and the public keys its checkpoints are (co)signed with."""
    return {"origin": origin, "hub": signer.vkey, "cosigners": [v.vkey for v in cosigners]}


async def transfers(uow: HubUnitOfWork, actor: Actor, directory: Directory, f: LogFilter, after_seq: int = -1,
                    limit: int = 100) -> dict:
    offices = _check(f, actor, directory)
    async with uow:
        records, total = await uow.audit_log.query(_query(uow, f, offices, after_seq, limit))
    return {"total": total, "records": [{"seq": seq, **rec} for seq, rec in records]}


async def totals(uow: HubUnitOfWork, actor: Actor, directory: Directory, f: LogFilter) -> dict:
    offices = _check(f, actor, directory)
    async with uow:
        return {"totals": await uow.audit_log.totals(_query(uow, f, offices))}


async def monthly_totals(uow: HubUnitOfWork, actor: Actor, directory: Directory, f: LogFilter) -> list[dict]:
    """Transfers per sending office, month (UTC) and decision, about the offices of the actor's controller."""
    offices = _check(f, actor, directory)
    async with uow:
        return await uow.audit_log.monthly_totals(_query(uow, f, offices))


async def checkpoint(uow: HubUnitOfWork, actor: Actor, size: int | None = None) -> dict:
    """The latest stored checkpoint, or the one of ``size``, with every cosignature."""
    async with uow:
        return await checkpoint_note(uow, size)


async def cosigning(uow: HubUnitOfWork, actor: Actor, cosigners: list[NoteVerifier]) -> list[dict]:
    """For each configured cosigner key: the last checkpoint size it cosigned (None: none yet)."""
    async with uow:
        return [{"name": c.name, "vkey": c.vkey, "last_size": await uow.audit_log.last_cosigned(c.name)}
                for c in cosigners]


async def inclusion(uow: HubUnitOfWork, actor: Actor, directory: Directory, index: int, size: int | None) -> dict:
    """The record at ``index`` and its inclusion proof in the signed checkpoint of ``size`` (or the latest);
    a record of another controller is not found."""
    async with uow:
        size = await _size_or_latest(uow, size)
        if index >= size:
            raise InvalidInput(f"Eintrag {index} ist nicht im Prüfpunkt der Größe {size} enthalten.", field="index")
        leaf = await uow.audit_log.leaf(index, scope(actor, directory))
        if leaf is None:
            raise NotFound("Eintrag nicht gefunden.", field="index")
        record, leaf_hash = leaf
        proof = await uow.audit_log.inclusion_proof(index, size)
    return {"index": index, "tree_size": size, "leaf_hash": b64(leaf_hash), "record": record,
            "proof": [b64(h) for h in proof]}


async def consistency(uow: HubUnitOfWork, actor: Actor, old: int, new: int | None) -> dict:
    """A proof that the signed checkpoint of ``new`` (or the latest) extends the one of ``old``."""
    async with uow:
        new = await _size_or_latest(uow, new)
        await _size_or_latest(uow, old)
        if old > new:
            raise InvalidInput("'old' muss kleiner oder gleich 'new' sein.", field="old")
        proof = await uow.audit_log.consistency_proof(old, new)
    return {"old_size": old, "new_size": new, "proof": [b64(h) for h in proof]}


async def export(uow: HubUnitOfWork, actor: Actor, directory: Directory, start: int = 0,
                 end: int | None = None) -> AsyncIterator[str]:
    """The log as JSON Lines for ``kimhub audit verify``, streamed: the unit of work is opened when
    the first line is asked for and closed after the last. Records of other controllers are withheld
    (their leaf hashes kept, so the whole tree still verifies)."""
    async with uow:
        async for line in uow.audit_log.export(start, end, scope(actor, directory)):
            yield line


async def checkpoint_note(uow: HubUnitOfWork, size: int | None = None) -> dict:
    """A stored checkpoint with every cosignature appended to the hub's note (in an open unit of work)."""
    row = await (uow.audit_log.latest_checkpoint() if size is None else uow.audit_log.checkpoint_at(size))
    if row is None:
        raise NotFound("Kein Prüfpunkt (Checkpoint) vorhanden." if size is None else "Prüfpunkt nicht gefunden.",
                       field="size")
    cosignatures = await uow.audit_log.cosignature_lines(row.size)
    return {"size": row.size, "root_hash": b64(row.root), "issued_at": row.issued_at,
            "note": row.note + "".join(cosignatures)}


async def access_report(uow: HubUnitOfWork, person: str, now: datetime, offices: frozenset[str] | None = None) -> dict:
    """Art. 15 DSGVO: every transfer and consent event about one person (about ``offices``, the
    controller's), each with its inclusion proof against the latest signed checkpoint
    (machine-readable, Art. 20; in an open unit of work)."""
    latest = await checkpoint_note(uow)
    size = latest["size"]
    records, _ = await uow.audit_log.query(LogQuery(person=uow.log.pseudonym(person), limit=100_000, scope=offices))
    proven = [seq for seq, _ in records if seq < size]  # later ones were appended after the checkpoint
    nodes = await uow.audit_log.nodes(_proof_nodes(proven, size))
    entries = []
    for seq, record in records:
        entry = {"index": seq, **record}
        if seq < size:
            entry["leaf_hash"] = b64(nodes[(0, seq)])
            entry["inclusion_proof"] = [b64(h) for h in merkle.inclusion_proof(seq, size, lambda _c: nodes)]
        else:
            entry["inclusion_proof"] = None
        entries.append(entry)
    return {
        "person": person, "log_pseudonym": uow.log.pseudonym(person), "generated_at": now,
        "checkpoint": latest,
        "transfers": [e for e in entries if e["kind"] == "transfer"],
        "consents": [e for e in entries if e["kind"] == "consent"],
        "reads": [e for e in entries if e["kind"] == "access"],  # who read what about the person, when
        "revocations": [e for e in entries if e["kind"] == "revocation"],
        "rights": [e for e in entries if e["kind"] == "rights"],  # erasure, restriction, export (Art. 17, 18, 20)
        "verification": ("Jeder Eintrag ist ein Blatt des Merkle-Baums (RFC 9162): leaf_hash = SHA-256(0x00 || "
                         "kanonisches JSON des Eintrags ohne 'index', 'leaf_hash', 'inclusion_proof'); der "
                         "Inklusionsnachweis führt zur Wurzel des signierten Prüfpunkts (C2SP tlog-checkpoint)."),
    }


def _proof_nodes(indexes: list[int], size: int) -> list[tuple[int, int]]:
    """The stored nodes the leaves' inclusion proofs in a tree of ``size`` need, and the leaves."""
    return sorted({c for i in indexes for group in merkle.inclusion_proof_nodes(i, size) for c in group}
                  | {(0, i) for i in indexes})


def _check(f: LogFilter, actor: Actor, directory: Directory) -> frozenset[str]:
    """The filter is sound and within the actor's controller; returns the offices of that controller."""
    if f.office is not None and f.office not in directory.offices:
        raise InvalidInput("Unbekannte Stelle.", field="office")
    if f.since and f.until and f.until <= f.since:
        raise InvalidInput("'until' muss nach 'since' liegen.", field="until")
    offices = scope(actor, directory)
    if f.office is not None and f.office not in offices:
        raise Forbidden("Diese Stelle gehört zu einem anderen Verantwortlichen (Kreis oder kreisfreie Stadt); "
                        "ihr Protokoll sieht nur dessen Datenschutzbeauftragte:r.", field="office")
    return offices


def _query(uow: HubUnitOfWork, f: LogFilter, offices: frozenset[str], after_seq: int = -1,
           limit: int = 100) -> LogQuery:
    return LogQuery(person=uow.log.pseudonym(f.person) if f.person else None, office=f.office,
                    purpose=f.purpose.value if f.purpose else None, decision=f.decision.value if f.decision else None,
                    kind=f.kind, since=f.since, until=f.until, after_seq=after_seq, limit=limit, scope=offices)


async def _size_or_latest(uow: HubUnitOfWork, size: int | None) -> int:
    """``size`` if a signed checkpoint of that size exists, else the latest checkpoint's size."""
    if size is not None:
        if await uow.audit_log.checkpoint_at(size) is None:
            raise NotFound("Für diese Baumgröße gibt es keinen signierten Prüfpunkt.", field="size")
        return size
    latest = await uow.audit_log.latest_checkpoint()
    if latest is None:
        raise NotFound("Kein Prüfpunkt (Checkpoint) vorhanden.", field="size")
    return latest.size
