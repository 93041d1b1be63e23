"""One evaluation of a transfer against the consents on record, as used at request and delivery time:
the decision is pure (``decide_many``); the consents come through a port (``ports.ConsentVersions``)."""
from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime

from services.consent import explain
from services.consent.domain import ConsentVersion, Decision, Recipient, TransferFacts, decide
from services.directory.model import Directory
from services.gate.minimise import PayloadCategories
from services.gate.ports import ConsentVersions, RestrictedPersons
from services.gate.statutory import load_routes

LEGAL_BASIS_CONSENT = "Einwilligung: Art. 6 Abs. 1 lit. a DSGVO"
LEGAL_BASIS_CONSENT_ART9 = "Einwilligung: Art. 6 Abs. 1 lit. a, Art. 9 Abs. 2 lit. a DSGVO"
ART9_CATEGORY = "besondere_kategorien"  # health and the other special categories of Art. 9 GDPR
RESTRICTED = {"code": "processing_restricted",
              "message": "Die Verarbeitung der Daten dieser Person ist nach Art. 18 DSGVO eingeschränkt: "
                         "sie werden gespeichert, aber nicht übermittelt, bis die Einschränkung aufgehoben ist."}


@dataclass(frozen=True)
class Evaluation:
    decision: Decision
    categories: PayloadCategories
    statute: str | None = None  # a statutory route's legal basis; consent otherwise
    policy_reasons: tuple[dict, ...] = ()  # refusals by office policy, not by consent

    @property
    def allowed(self) -> bool:
        return self.decision.allowed and not self.policy_reasons

    @property
    def legal_basis(self) -> str:
        """The statute, or consent naming only the articles that apply: Art. 9 only when Art. 9 data goes."""
        if self.statute is not None:
            return self.statute
        return LEGAL_BASIS_CONSENT_ART9 if ART9_CATEGORY in self.decision.sent_categories else LEGAL_BASIS_CONSENT

    def reasons(self) -> list[dict]:
        req, opt = self.categories.required, self.categories.optional
        fields = {c: req.get(c, ()) + opt.get(c, ()) for c in req.keys() | opt.keys()}
        return [explain.as_dict(r, fields) for r in self.decision.reasons] + list(self.policy_reasons)

    def reason_codes(self) -> tuple[str, ...]:
        return tuple(r["code"] for r in self.reasons())


def party(directory: Directory, office_id: str) -> Recipient:
    office = directory.office(office_id)
    return Recipient(office.id, office.kind.value, directory.competent_for(office.id))


@dataclass(frozen=True)
class Question:
    """One transfer to evaluate."""

    sender_office: str
    person: str
    recipient_office: str
    purpose: str
    categories: PayloadCategories  # which fields of which categories are sent (names, not values)
    message_type: str = "referral.v1"


async def evaluate_many(consents: ConsentVersions, directory: Directory, questions: list[Question],
                        now: datetime, restrictions: RestrictedPersons | None = None) -> list[Evaluation]:
    """Read the consents the questions need through the port (one query), then decide. A person whose
    data is restricted (Art. 18, ``restrictions``: read with the consents) is refused whatever the legal basis."""
    prepared = [_prepare(directory, q) for q in questions]
    pending = [q for q, p in zip(questions, prepared) if not isinstance(p, Evaluation)]
    persons, offices = {q.person for q in pending}, {o for q in pending for o in (q.sender_office, q.recipient_office)}
    versions: Mapping[str, list[ConsentVersion]] = {}
    restricted: set[str] = set()
    if pending and restrictions is not None:  # the restrictions ride along with the consents: one query
        versions, restricted = await consents.versions_and_restrictions(persons, offices, {q.person for q in questions})
    elif pending:
        versions = await consents.versions_for_many(persons, offices)
    elif restrictions is not None and questions:  # statutory routes only
        restricted = await restrictions.restricted({q.person for q in questions})
    evaluations = _decide(questions, prepared, versions, now)
    return [replace(ev, policy_reasons=ev.policy_reasons + (RESTRICTED,)) if q.person in restricted else ev
            for q, ev in zip(questions, evaluations)]


def decide_many(directory: Directory, questions: list[Question], versions: Mapping[str, list[ConsentVersion]],
                now: datetime) -> list[Evaluation]:
    """The decision, pure: a statutory route if the allowlist has one; otherwise the coverage rule
    over the consent versions of the sending office (outbound) and of the receiving office (inbound,
    the way back), at ``now``."""
    return _decide(questions, [_prepare(directory, q) for q in questions], versions, now)


def _decide(questions: list[Question], prepared: list, versions: Mapping[str, list[ConsentVersion]],
            now: datetime) -> list[Evaluation]:
    return [p if isinstance(p, Evaluation) else Evaluation(decide(versions.get(q.person, []), p[0], now), p[1])
            for q, p in zip(questions, prepared)]


def _prepare(directory: Directory, q: Question) -> Evaluation | tuple[TransferFacts, PayloadCategories]:
    """Everything decided without the consents: a statutory route, or no legal basis at all."""
    cats = q.categories
    sender, recipient = party(directory, q.sender_office), party(directory, q.recipient_office)
    routes = load_routes()
    statute = routes.legal_basis(sender.kind, recipient.kind, q.message_type)
    if statute is not None:
        everything = cats.required_set | cats.optional_set
        return Evaluation(Decision(True, sent_categories=everything), cats, statute=statute)
    if routes.requires_statute(q.message_type):
        return Evaluation(Decision(False), cats, policy_reasons=({
            "code": "no_legal_basis",
            "message": "Für diese Mitteilung zwischen diesen Stellen gibt es keine Rechtsgrundlage."},))
    facts = TransferFacts(
        sender_office=q.sender_office, person=q.person, recipient=recipient, sender=sender, purpose=q.purpose,
        required_categories=cats.required_set, optional_categories=cats.optional_set,
    )
    return facts, cats


def digest(data: dict) -> str:
    """SHA-256 over the canonical JSON of a payload (what the log records instead of the payload)."""
    raw = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    return hashlib.sha256(raw).hexdigest()
