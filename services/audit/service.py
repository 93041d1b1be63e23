"""What the DPO asks of the log: checkpoints (with cosignatures), proofs, the access report."""
from __future__ import annotations

import base64
from datetime import datetime

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from services.audit import log as audit_log
from services.audit import merkle
from services.audit.checkpoint import NoteError, NoteVerifier, open_checkpoint, open_note
from services.audit.log import AuditLog, LogQuery
from services.audit.tables import checkpoint_cosignatures, checkpoints
from services.infrastructure.db import utcnow
from services.kernel.errors import Conflict, InvalidInput, NotFound

B64 = lambda b: base64.b64encode(b).decode()  # noqa: E731


async def checkpoint_note(conn: AsyncConnection, size: int | None = None) -> dict:
    """A stored checkpoint with every cosignature appended to the hub's note."""
    row = await (audit_log.latest_checkpoint(conn) if size is None else audit_log.checkpoint_at(conn, size))
    if row is None:
        raise NotFound("Kein Prüfpunkt (Checkpoint) vorhanden." if size is None else "Prüfpunkt nicht gefunden.",
                       field="size")
    cosigs = (await conn.execute(select(checkpoint_cosignatures.c.signature_line)
                                 .where(checkpoint_cosignatures.c.size == row.size)
                                 .order_by(checkpoint_cosignatures.c.key_name))).scalars().all()
    return {"size": row.size, "root_hash": B64(row.root), "issued_at": row.issued_at,
            "note": row.note + "".join(cosigs)}


async def add_cosignature(conn: AsyncConnection, size: int, cosigned_note: str, hub: NoteVerifier,
                          cosigners: list[NoteVerifier]) -> dict:
    """Store a cosigner's signature line if the note is exactly the hub's checkpoint, signed by both."""
    row = await audit_log.checkpoint_at(conn, size)
    if row is None:
        raise NotFound("Prüfpunkt nicht gefunden.", field="size")
    if not cosigners:
        raise InvalidInput("Es sind keine Mitsignatur-Schlüssel konfiguriert (KIMHUB_LOG_COSIGNER_KEYS).", field="note")
    try:
        text, names = open_note(cosigned_note, [hub, *cosigners])
        open_checkpoint(row.note, [hub])
    except NoteError as exc:
        raise InvalidInput(f"Signatur ungültig: {exc}", field="note") from None
    if text != row.note.split("\n\n", 1)[0] + "\n" or hub.name not in names:
        raise InvalidInput("Die Notiz ist nicht der Prüfpunkt dieser Größe.", field="note")
    added = []
    for cosigner in cosigners:
        if cosigner.name not in names:
            continue
        line = next(ln + "\n" for ln in cosigned_note.split("\n") if ln.startswith(f"\u2014 {cosigner.name} "))
        exists = await conn.scalar(select(checkpoint_cosignatures.c.size).where(
            checkpoint_cosignatures.c.size == size, checkpoint_cosignatures.c.key_name == cosigner.name))
        if exists is None:
            await conn.execute(insert(checkpoint_cosignatures).values(
                size=size, key_name=cosigner.name, signature_line=line, added_at=utcnow()))
            added.append(cosigner.name)
    if not added:
        raise Conflict("Keine neue Mitsignatur eines konfigurierten Schlüssels gefunden.", field="note")
    return {"size": size, "cosigned_by": added}


async def _size_or_latest(conn: AsyncConnection, size: int | None) -> int:
    if size is not None:
        if await audit_log.checkpoint_at(conn, size) is None:
            raise NotFound("Für diese Baumgröße gibt es keinen signierten Prüfpunkt.", field="size")
        return size
    latest = await audit_log.latest_checkpoint(conn)
    if latest is None:
        raise NotFound("Kein Prüfpunkt (Checkpoint) vorhanden.", field="size")
    return latest.size


async def inclusion(conn: AsyncConnection, index: int, size: int | None) -> dict:
    size = await _size_or_latest(conn, size)
    if index >= size:
        raise InvalidInput(f"Eintrag {index} ist nicht im Prüfpunkt der Größe {size} enthalten.", field="index")
    record, leaf_hash = await audit_log.leaf(conn, index)
    proof = await audit_log.inclusion_proof(conn, index, size)
    return {"index": index, "tree_size": size, "leaf_hash": B64(leaf_hash), "record": record,
            "proof": [B64(h) for h in proof]}


async def consistency(conn: AsyncConnection, old: int, new: int | None) -> dict:
    new = await _size_or_latest(conn, new)
    await _size_or_latest(conn, old)
    if old > new:
        raise InvalidInput("'old' muss kleiner oder gleich 'new' sein.", field="old")
    proof = await audit_log.consistency_proof(conn, old, new)
    return {"old_size": old, "new_size": new, "proof": [B64(h) for h in proof]}


async def access_report(conn: AsyncConnection, audit: AuditLog, person: str, now: datetime) -> dict:
    """Art. 15 DSGVO: every transfer and consent event about one person, each with its inclusion
    proof against the latest signed checkpoint (machine-readable, Art. 20)."""
    latest = await checkpoint_note(conn)
    size = latest["size"]
    records, _ = await audit.query(conn, LogQuery(person=person, limit=100_000))
    coords = sorted({c for seq, _ in records if seq < size
                     for group in merkle.inclusion_proof_nodes(seq, size) for c in group}
                    | {(0, seq) for seq, _ in records if seq < size})
    nodes = await audit_log.fetch_nodes(conn, coords)
    entries = []
    for seq, record in records:
        entry = {"index": seq, **record}
        if seq < size:
            entry["leaf_hash"] = B64(nodes[(0, seq)])
            entry["inclusion_proof"] = [B64(h) for h in merkle.inclusion_proof(seq, size, lambda _c: nodes)]
        else:
            entry["inclusion_proof"] = None  # appended after the latest checkpoint
        entries.append(entry)
    return {
        "person": person, "log_pseudonym": audit.pseudonym(person), "generated_at": now,
        "checkpoint": latest,
        "transfers": [e for e in entries if e["kind"] == "transfer"],
        "consents": [e for e in entries if e["kind"] == "consent"],
        "verification": ("Jeder Eintrag ist ein Blatt des Merkle-Baums (RFC 9162): leaf_hash = SHA-256(0x00 || "
                         "kanonisches JSON des Eintrags ohne 'index', 'leaf_hash', 'inclusion_proof'); der "
                         "Inklusionsnachweis führt zur Wurzel des signierten Prüfpunkts (C2SP tlog-checkpoint)."),
    }
