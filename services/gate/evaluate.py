"""One evaluation of a transfer against the consents on record, as used at request and delivery time."""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime

from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncConnection

from services.consent import explain
from services.consent.domain import Decision, Recipient, TransferFacts, decide
from services.consent.service import versions_for
from services.directory.model import Directory
from services.gate.minimise import PayloadCategories, payload_categories

LEGAL_BASIS_CONSENT = "Einwilligung: Art. 6 Abs. 1 lit. a, Art. 9 Abs. 2 lit. a DSGVO"


@dataclass(frozen=True)
class Evaluation:
    decision: Decision
    categories: PayloadCategories

    def reasons(self) -> list[dict]:
        req, opt = self.categories.required, self.categories.optional
        fields = {c: req.get(c, ()) + opt.get(c, ()) for c in req.keys() | opt.keys()}
        return [explain.as_dict(r, fields) for r in self.decision.reasons]


async def evaluate(conn: AsyncConnection, directory: Directory, *, sender_office: str, person: str,
                   recipient_office: str, purpose: str, payload: BaseModel, now: datetime) -> Evaluation:
    office = directory.office(recipient_office)
    cats = payload_categories(payload)
    facts = TransferFacts(
        sender_office=sender_office, person=person,
        recipient=Recipient(office.id, office.kind.value, directory.competent_for(office.id)),
        purpose=purpose, required_categories=cats.required_set, optional_categories=cats.optional_set,
    )
    versions = await versions_for(conn, person, sender_office)
    return Evaluation(decide(versions, facts, now), cats)


def digest(data: dict) -> str:
    """SHA-256 over the canonical JSON of a payload (what the log records instead of the payload)."""
    raw = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    return hashlib.sha256(raw).hexdigest()
