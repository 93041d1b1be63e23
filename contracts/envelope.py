"""CloudEvents 1.0 envelope in Kafka binary mode: attributes travel as ``ce_*`` record headers.

Extensions (lower-case, per the CloudEvents naming rule): ``consentid``, ``consentversion``,
``purpose``, ``recipientoffice``, ``legalbasis``.
"""
from __future__ import annotations

from datetime import datetime, timezone

from pydantic import AwareDatetime, BaseModel, ConfigDict

CONTENT_TYPE = "application/json"
_EXTENSIONS = ("consentid", "consentversion", "purpose", "recipientoffice", "legalbasis")


class Envelope(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: str
    source: str
    type: str
    subject: str  # the person pseudonym (also the record key)
    time: AwareDatetime
    dataschema: str
    datacontenttype: str = CONTENT_TYPE
    consentid: str | None = None
    consentversion: int | None = None
    purpose: str | None = None
    recipientoffice: str | None = None
    legalbasis: str | None = None

    def to_headers(self) -> dict[str, str]:
        h = {
            "ce_specversion": "1.0",
            "ce_id": self.id,
            "ce_source": self.source,
            "ce_type": self.type,
            "ce_subject": self.subject,
            "ce_time": self.time.astimezone(timezone.utc).isoformat().replace("+00:00", "Z"),
            "ce_dataschema": self.dataschema,
            "content-type": self.datacontenttype,
        }
        for name in _EXTENSIONS:
            value = getattr(self, name)
            if value is not None:
                h[f"ce_{name}"] = str(value)
        return h

    @classmethod
    def from_headers(cls, headers: dict[str, str | bytes]) -> Envelope:
        """Read the envelope of a consumed record; raises ValueError when it is not one."""
        h = {k: (v.decode() if isinstance(v, bytes) else v) for k, v in headers.items()}
        if h.get("ce_specversion") != "1.0":
            raise ValueError("not a CloudEvents 1.0 record (ce_specversion)")
        fields = {k[3:]: v for k, v in h.items() if k.startswith("ce_") and k != "ce_specversion"}
        fields["datacontenttype"] = h.get("content-type", CONTENT_TYPE)
        fields["time"] = datetime.fromisoformat(fields.get("time", "").replace("Z", "+00:00"))
        return cls.model_validate(fields)
