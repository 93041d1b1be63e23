"""Log records and their canonical bytes (the Merkle leaf data).

Canonical form: JSON with keys sorted, no insignificant whitespace, UTF-8, no floats (times are
RFC 3339 strings in UTC with microseconds). For these value types this is exactly what RFC 8785
(JCS) produces, so any JCS implementation can recompute a leaf. Records hold metadata only:
never a name, never a payload; the person appears only as a keyed pseudonym.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, fields
from datetime import datetime, timezone
from typing import ClassVar


def canonical_json(value: dict) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode()


def rfc3339(t: datetime) -> str:
    return t.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _shallow(obj) -> dict:
    """Field values by name (dataclasses.asdict deep-copies, which dominated append time)."""
    return {f.name: getattr(obj, f.name) for f in fields(obj)}


def parse_time(s: str) -> datetime:
    return datetime.fromisoformat(s.replace("Z", "+00:00"))


@dataclass(frozen=True)
class TransferLogRecord:
    """One decision about a transfer: delivered, refused (request time) or withheld (delivery time)."""

    KIND: ClassVar[str] = "transfer"
    recorded_at: datetime
    transfer_id: str
    message_type: str
    sender_office: str
    sender_user: str
    recipient_office: str
    person: str  # the hub's pseudonym here; the log stores the keyed one (AuditLog.append)
    purpose: str
    decision: str  # delivered | refused | withheld
    stage: str  # request | delivery
    categories_sent: tuple[str, ...] = ()
    categories_removed: tuple[str, ...] = ()
    consent_id: str | None = None
    consent_version: int | None = None
    legal_basis: str = ""
    reasons: tuple[str, ...] = ()  # reason codes, no free text
    payload_sha256: str = ""

    def to_dict(self) -> dict:
        d = _shallow(self)
        d["kind"] = self.KIND
        d["recorded_at"] = rfc3339(self.recorded_at)
        d["categories_sent"] = sorted(self.categories_sent)
        d["categories_removed"] = sorted(self.categories_removed)
        d["reasons"] = list(self.reasons)
        return d

    @classmethod
    def from_dict(cls, d: dict) -> TransferLogRecord:
        """Read a stored record back (its ``person`` is then the keyed pseudonym)."""
        d = {k: v for k, v in d.items() if k != "kind"}
        d["recorded_at"] = parse_time(d["recorded_at"])
        for key in ("categories_sent", "categories_removed", "reasons"):
            d[key] = tuple(d[key])
        return cls(**d)


@dataclass(frozen=True)
class ConsentLogRecord:
    """A consent event (granted, amended, revoked), so coverage can be proven from the log alone."""

    KIND: ClassVar[str] = "consent"
    recorded_at: datetime
    event: str  # granted | amended | revoked
    consent_id: str
    consent_version: int | None  # None for a revocation (it ends every version)
    person: str
    office: str  # the recording office
    recorded_by: str
    municipality: str = ""
    provisions: tuple[dict, ...] = ()  # {recipient: {office|kind}, purposes, categories}
    valid_from: datetime | None = None
    valid_until: datetime | None = None
    evidence_sha256: str = ""
    form_version: str = ""
    revocation_method: str = ""

    def to_dict(self) -> dict:
        d = _shallow(self)
        d["kind"] = self.KIND
        d["provisions"] = list(self.provisions)
        for key in ("recorded_at", "valid_from", "valid_until"):
            value = getattr(self, key)
            d[key] = rfc3339(value) if value is not None else None
        return d


@dataclass(frozen=True)
class AccessLogRecord:
    """Someone read a transfer's content (an inbox item, a document, a case timeline) or a report
    (Art. 15): who (user, role, office), what (the transfer, or the report's person), when."""

    KIND: ClassVar[str] = "access"
    recorded_at: datetime
    read: str  # inbox_item | document | timeline | access_report
    office: str  # the reading office
    user: str
    roles: tuple[str, ...]  # the reader's roles
    person: str  # the hub's pseudonym here; the log stores the keyed one
    transfer_id: str | None = None  # None for a report over many transfers
    message_type: str = ""
    purpose: str | None = None
    document_sha256: str = ""  # the document read (its ciphertext's name), for ``read == "document"``

    def to_dict(self) -> dict:
        d = _shallow(self)
        d["kind"] = self.KIND
        d["recorded_at"] = rfc3339(self.recorded_at)
        d["roles"] = sorted(self.roles)
        return d


@dataclass(frozen=True)
class RevocationLogRecord:
    """A step of a revocation followed up (issue 17): the hub notified an office that data it received
    under a consent is no longer covered, and the office confirmed deletion or kept it on a legal basis."""

    KIND: ClassVar[str] = "revocation"
    NOTICE_SENT: ClassVar[str] = "notice_sent"
    CONFIRMED_DELETED: ClassVar[str] = "confirmed_deleted"
    KEPT_ON_BASIS: ClassVar[str] = "kept_on_basis"
    recorded_at: datetime
    notice_id: str
    decision: str  # notice_sent | confirmed_deleted | kept_on_basis
    change: str  # revoked | narrowed
    consent_id: str
    person: str
    sender_office: str  # the office that recorded the consent
    recipient_office: str  # the office notified, which confirms
    transfer_ids: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()  # no longer covered
    legal_basis: str = ""  # kept: the statute the office named
    recorded_by: str = ""  # who confirmed (the hub's component for a notice)

    def to_dict(self) -> dict:
        d = _shallow(self)
        d["kind"] = self.KIND
        d["recorded_at"] = rfc3339(self.recorded_at)
        d["transfer_ids"] = sorted(self.transfer_ids)
        d["categories"] = sorted(self.categories)
        return d


@dataclass(frozen=True)
class RightsLogRecord:
    """A data subject's right carried out, or a case's data erased by the retention job: ``event``
    erased | restricted | restriction_lifted | exported. Counts and table names only, never content."""

    KIND: ClassVar[str] = "rights"
    recorded_at: datetime
    event: str
    person: str  # the hub's pseudonym here; the log stores the keyed one
    office: str  # the acting office (the DPO's, or the case's for the retention job)
    recorded_by: str
    legal_basis: str  # e.g. "Art. 17 DSGVO", or the retention rule
    case_id: str = ""
    erased: tuple[str, ...] = ()  # tables rows were deleted from ("person_keys": crypto-shredded)
    reasons: tuple[str, ...] = ()  # codes, e.g. kept_for_open_case

    def to_dict(self) -> dict:
        d = _shallow(self)
        d["kind"] = self.KIND
        d["recorded_at"] = rfc3339(self.recorded_at)
        d["erased"] = sorted(self.erased)
        d["reasons"] = list(self.reasons)
        return d


LogRecord = TransferLogRecord | ConsentLogRecord | AccessLogRecord | RevocationLogRecord | RightsLogRecord


def canonical_bytes(record_dict: dict) -> bytes:
    """The leaf data of a record given as a dict (as exported or stored)."""
    return canonical_json(record_dict)
