"""One transfer-log record and its canonical bytes.

Canonical form: JSON with keys sorted, no insignificant whitespace, UTF-8, no floats
(times are RFC 3339 strings in UTC with microseconds), which is what RFC 8785 (JCS) yields for
these value types. The record holds metadata only: never a name, never a payload.
"""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone


@dataclass(frozen=True)
class TransferLogRecord:
    recorded_at: datetime
    transfer_id: str
    message_type: str
    sender_office: str
    sender_user: str
    recipient_office: str
    person: str  # pseudonym
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
    schema: str = field(default="kimhub.transfer-log.v1")

    def to_dict(self) -> dict:
        d = asdict(self)
        d["recorded_at"] = _rfc3339(self.recorded_at)
        for k in ("categories_sent", "categories_removed", "reasons"):
            d[k] = sorted(d[k]) if k != "reasons" else list(d[k])
        return d

    def canonical_bytes(self) -> bytes:
        return canonical_json(self.to_dict())

    @classmethod
    def from_dict(cls, d: dict) -> TransferLogRecord:
        d = dict(d)
        d["recorded_at"] = datetime.fromisoformat(d["recorded_at"].replace("Z", "+00:00"))
        for k in ("categories_sent", "categories_removed", "reasons"):
            d[k] = tuple(d[k])
        return cls(**d)


def canonical_json(value: dict) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode()


def _rfc3339(t: datetime) -> str:
    return t.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
