"""The data-protection officer's writes to the audit context: a cosignature on a checkpoint, and the
access report (which signs a checkpoint first, so every entry up to now is proven). Also the signing
of a checkpoint itself, shared with the periodic ``Checkpointer``."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from contracts.audit import CheckpointV1
from contracts.envelope import Envelope
from contracts.registry import by_model, dataschema_uri
from services.audit import report_html, report_pdf, views
from services.audit.checkpoint import Checkpoint, open_checkpoint, sign_checkpoint
from services.audit.commands import AddCosignature, ReportAccess
from services.audit.reads import log_reads, report_read
from services.audit.note_keys import NoteError, NoteSigner, NoteVerifier
from services.audit.record import rfc3339
from services.audit.repository import AuditRepository
from services.audit.signed_note import open_note
from services.directory.model import Directory
from services.infrastructure import topics
from services.infrastructure.db import utcnow
from services.kernel.errors import Conflict, InvalidInput, NotFound
from services.kernel.identity import Actor
from services.kernel.settings import Settings
from services.unit_of_work import HubUnitOfWork

SOURCE = "urn:kimhub:audit"


async def add_cosignature(cmd: AddCosignature, actor: Actor, uow: HubUnitOfWork, signer: NoteSigner,
                          cosigners: list[NoteVerifier]) -> dict:
    """Store a configured cosigner's signature line if the note is exactly the hub's checkpoint of
    ``cmd.size``, signed by the hub and the cosigner."""
    async with uow:
        row = await uow.audit_log.checkpoint_at(cmd.size)
        if row is None:
            raise NotFound("Prüfpunkt nicht gefunden.", field="size")
        lines = cosignature_lines(row.note, cmd.note, signer.verifier(), cosigners)
        added = []
        for name, line in lines.items():
            if not await uow.audit_log.has_cosignature(cmd.size, name):
                await uow.audit_log.add_cosignature(cmd.size, name, line, utcnow())
                added.append(name)
        if not added:
            raise Conflict("Keine neue Mitsignatur eines konfigurierten Schlüssels gefunden.", field="note")
        await uow.commit()
    return {"size": cmd.size, "cosigned_by": added}


def cosignature_lines(hub_note: str, cosigned_note: str, hub: NoteVerifier,
                      cosigners: list[NoteVerifier]) -> dict[str, str]:
    """The configured cosigners' signature lines in ``cosigned_note`` (by key name, in configured
    order), after checking that it is ``hub_note``'s checkpoint with valid signatures."""
    if not cosigners:
        raise InvalidInput("Es sind keine Mitsignatur-Schlüssel konfiguriert (KIMHUB_LOG_COSIGNER_KEYS).", field="note")
    try:
        text, names = open_note(cosigned_note, [hub, *cosigners])
        open_checkpoint(hub_note, [hub])
    except NoteError as exc:
        raise InvalidInput(f"Signatur ungültig: {note_problem(exc)}", field="note") from None
    if text != hub_note.split("\n\n", 1)[0] + "\n" or hub.name not in names:
        raise InvalidInput("Die Notiz ist nicht der Prüfpunkt dieser Größe.", field="note")
    return {c.name: next(ln + "\n" for ln in cosigned_note.split("\n") if ln.startswith(f"\u2014 {c.name} "))
            for c in cosigners if c.name in names}


def note_problem(exc: NoteError) -> str:
    """What is wrong with a signed note, in German (the checks' own texts are for developers)."""
    text = str(exc)
    if text.startswith("malformed") or "UTF-8" in text or "control character" in text or "newline" in text:
        return ("Der Text ist keine vollständige signierte Notiz (Prüfpunkt, Leerzeile, Signaturzeilen mit "
                "„— “ am Anfang). Bitte die Ausgabe von „kimhub audit cosign“ unverändert einfügen.")
    if text.startswith("invalid signature by"):
        return f"Die Signatur von „{text.split(' by ', 1)[1].split('+')[0]}“ passt nicht zum Text."
    if "origin" in text:
        return "Der Prüfpunkt stammt aus einem anderen Protokoll (Herkunft passt nicht)."
    return "Die Notiz trägt keine gültige Signatur des Hubs und eines konfigurierten Schlüssels zum Gegenzeichnen."


async def report_access(cmd: ReportAccess, actor: Actor, uow: HubUnitOfWork, signer: NoteSigner, settings: Settings,
                        directory: Directory) -> dict | str | bytes:
    """The Art. 15 report about ``cmd.person`` as data (JSON), as a printable German page (HTML) or PDF.
    A checkpoint is signed first if the log grew, so the report proves every entry up to now."""
    async with uow:
        signed = await sign_if_grown(uow.audit_log, signer, settings.log_origin)
        if signed is not None:
            await uow.outbox.add(topics.AUDIT, *signed.message())
        report = await views.access_report(uow, cmd.person, utcnow(), views.scope(actor, directory))
        await log_reads(uow, [report_read(actor, cmd.person)])  # commits
    names = {o.id: o.name for o in directory.offices.values()}
    if cmd.format == "html":
        return report_html.render(report, names, cmd.pdf_link)
    if cmd.format == "pdf":
        return report_pdf.render(report, names)
    return report


@dataclass(frozen=True)
class SignedCheckpoint:
    checkpoint: Checkpoint
    note: str
    issued_at: datetime

    def message(self) -> tuple[Envelope, CheckpointV1]:
        """The checkpoint as published on ``kim.audit.v1``."""
        cp = self.checkpoint
        event = CheckpointV1(origin=cp.origin, size=cp.size, root_hash=views.b64(cp.root), issued_at=self.issued_at,
                             note=self.note)
        info = by_model(CheckpointV1)
        return Envelope(id=f"{cp.origin}/{cp.size}", source=SOURCE, type=info.ce_type, subject=cp.origin,
                        time=self.issued_at, dataschema=dataschema_uri(info)), event


async def sign_if_grown(log: AuditRepository, signer: NoteSigner, origin: str) -> SignedCheckpoint | None:
    """Sign and store the current tree head if the log grew since the last checkpoint; None if it
    did not, or if another process stored a checkpoint of this size first. The caller publishes
    ``message()`` in the same transaction."""
    size, root = await log.tree_head()
    last = await log.latest_checkpoint()
    if size == 0 or (last is not None and size <= last.size):
        return None
    now = utcnow()
    cp = Checkpoint(origin, size, root, (f"time {rfc3339(now)}",))
    note = sign_checkpoint(cp, signer)
    if not await log.add_checkpoint(size, root, now, note):
        return None
    return SignedCheckpoint(cp, note, now)
