"""Revocation followed up, the hub's side (issue 17): when a consent is revoked or narrowed, a signed
notice to every office that received data it no longer covers (in the revoking or amending unit of
work, under the log head it holds); and the offices' confirmations coming back on
``kim.feedback.v1`` (in the gate's consumer). Each step is a record in the transfer log.
"""
from __future__ import annotations

import uuid
from datetime import datetime

from contracts.revocation import (AffectedTransfer, ConfirmationOutcome, ConsentChange, RevocationConfirmationV1,
                                  RevocationNoticeV1)
from services.audit.record import RevocationLogRecord
from services.consent.domain import ConsentVersion
from services.crypto.signature import DeliverySigner
from services.directory.model import Directory
from services.gate.evaluate import party
from services.gate.requests import envelope
from services.gate.revocation import Affected, Delivered, no_longer_covered
from services.infrastructure import topics

STEP = {ConfirmationOutcome.DELETED: RevocationLogRecord.CONFIRMED_DELETED,
        ConfirmationOutcome.KEPT: RevocationLogRecord.KEPT_ON_BASIS}


def notice_meta(notice: RevocationNoticeV1) -> dict:
    """What the hub signs for a notice and the office verifies before it stores: all but the signature."""
    return notice.model_dump(mode="json", exclude={"signature"})


async def notify_offices(uow, directory: Directory, signer: DeliverySigner, consent, version_before: int,
                         latest: ConsentVersion | None, now: datetime) -> list[RevocationLogRecord]:
    """Notices for what the consent (a ``consents`` row) no longer covers: ``latest`` its version now
    (None: revoked), ``version_before`` its latest version before the change. Staged with the unit of
    work's outbox; returns their log records (the caller appends them)."""
    delivered = [Delivered(r.id, r.sender_office, r.recipient_office, r.person, r.purpose, frozenset(r.categories),
                           r.consent_version) for r in await uow.transfers.delivered_under(consent.id)]
    noticed = await uow.notices.noticed([d.transfer_id for d in delivered])
    by_office = no_longer_covered(delivered, latest, lambda o: party(directory, o), noticed, now)
    change = ConsentChange.REVOKED if latest is None else ConsentChange.NARROWED
    records = []
    for office, affected in sorted(by_office.items()):
        notice = _signed(signer, RevocationNoticeV1(
            notice_id=f"n-{uuid.uuid4().hex}", consent_id=consent.id, consent_version=version_before, change=change,
            new_version=None if latest is None else latest.version, office=office,
            sender_office=consent.recorded_office, person=consent.person, issued_at=now, signature="-",
            transfers=[AffectedTransfer(transfer_id=a.transfer_id, consent_version=a.consent_version,
                                        purpose=a.purpose, categories=list(a.categories)) for a in affected]))
        uow.notices.add(_rows(notice, affected))
        await uow.outbox.add(topics.office_inbox(office), envelope(
            notice, f"{notice.notice_id}/notice", consent.person, now, consentid=consent.id,
            consentversion=version_before, recipientoffice=office), notice)
        records.append(_record(notice, RevocationLogRecord.NOTICE_SENT, now, "kimhub"))
    return records


def _signed(signer: DeliverySigner, notice: RevocationNoticeV1) -> RevocationNoticeV1:
    return notice.model_copy(update={"signature": signer.sign(notice_meta(notice))})


def _rows(notice: RevocationNoticeV1, affected: list[Affected]) -> list[dict]:
    return [{"notice_id": notice.notice_id, "transfer_id": a.transfer_id, "office": notice.office,
             "sender_office": notice.sender_office, "person": notice.person, "consent_id": notice.consent_id,
             "consent_version": a.consent_version, "change": notice.change.value, "purpose": a.purpose,
             "categories": list(a.categories), "issued_at": notice.issued_at, "state": "open"} for a in affected]


def _record(notice, step: str, now: datetime, by: str, legal_basis: str = "") -> RevocationLogRecord:
    """``notice``: the contract, or a notice's first row with its transfers' rows as ``transfers``."""
    return RevocationLogRecord(
        recorded_at=now, notice_id=notice.notice_id, decision=step, change=str(notice.change),
        consent_id=notice.consent_id, person=notice.person, sender_office=notice.sender_office,
        recipient_office=notice.office, transfer_ids=tuple(t.transfer_id for t in notice.transfers),
        categories=tuple(sorted({str(c) for t in notice.transfers for c in t.categories})),
        legal_basis=legal_basis, recorded_by=by)


async def confirmed(uow, confirmations: list[RevocationConfirmationV1], now: datetime) -> list[RevocationLogRecord]:
    """Each office's confirmation closes its open notice (a repeat or another office's finds none):
    state, who and when, the legal basis if kept; and its log record."""
    records = []
    for c in confirmations:
        rows = await uow.notices.lock_open(c.notice_id, c.office)
        if not rows:
            continue
        uow.notices.confirm(c.notice_id, c.outcome.value, c.legal_basis, c.confirmed_by, c.confirmed_at)
        records.append(_record(_Notice(rows), STEP[c.outcome], now, c.confirmed_by, c.legal_basis or ""))
    return records


class _Notice:
    """A notice as its stored rows tell it (what ``_record`` reads)."""

    def __init__(self, rows: list):
        first = rows[0]
        self.notice_id, self.change, self.consent_id = first.notice_id, first.change, first.consent_id
        self.person, self.sender_office, self.office = first.person, first.sender_office, first.office
        self.transfers = rows
