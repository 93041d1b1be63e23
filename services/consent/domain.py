"""The coverage rule: may this transfer happen under this person's consents?

Pure functions of the consent versions, the transfer and the clock. Deny by default: a transfer
is allowed only if ONE consent version, active at decision time, recorded by the sending office
for this person, covers the recipient, the purpose and every category that is sent. Optional
parts whose category is not covered are dropped (minimisation); a required part not covered
refuses the transfer.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum


OUTBOUND, INBOUND, BOTH = "outbound", "inbound", "both"


@dataclass(frozen=True)
class ProvisionRule:
    """One permission. ``office``/``kind`` name the other office: the recipient (outbound: the
    recording office sends to it) or the sender of the way back (inbound: it sends to the
    recording office)."""

    purposes: frozenset[str]
    categories: frozenset[str]
    office: str | None = None  # exactly one of office / kind is set
    kind: str | None = None
    direction: str = OUTBOUND


@dataclass(frozen=True)
class ConsentVersion:
    consent_id: str
    version: int
    person: str
    recorded_office: str
    municipality: str  # the person's jurisdiction the consent was given for
    provisions: tuple[ProvisionRule, ...]
    valid_from: datetime
    valid_until: datetime | None
    recorded_at: datetime
    superseded_at: datetime | None = None  # when the next version was recorded
    revoked_at: datetime | None = None


@dataclass(frozen=True)
class Recipient:
    office: str
    kind: str
    competent_for: frozenset[str]  # municipalities this office serves for its kind


@dataclass(frozen=True)
class TransferFacts:
    sender_office: str
    person: str
    recipient: Recipient
    purpose: str
    required_categories: frozenset[str]
    optional_categories: frozenset[str] = frozenset()
    sender: Recipient | None = None  # the sending office as a counterpart: enables inbound consents


class ReasonCode(StrEnum):
    NO_CONSENT = "no_consent"
    CONSENT_REVOKED = "consent_revoked"
    CONSENT_EXPIRED = "consent_expired"
    CONSENT_NOT_YET_VALID = "consent_not_yet_valid"
    RECIPIENT_NOT_COVERED = "recipient_not_covered"
    OTHER_JURISDICTION = "other_jurisdiction"
    PURPOSE_NOT_COVERED = "purpose_not_covered"
    CATEGORY_NOT_COVERED = "category_not_covered"


@dataclass(frozen=True)
class Reason:
    code: ReasonCode
    consent_id: str | None = None
    consent_version: int | None = None
    categories: tuple[str, ...] = ()


@dataclass(frozen=True)
class Decision:
    allowed: bool
    consent_id: str | None = None
    consent_version: int | None = None
    sent_categories: frozenset[str] = frozenset()
    removed_categories: frozenset[str] = frozenset()
    reasons: tuple[Reason, ...] = field(default_factory=tuple)


def is_active(v: ConsentVersion, at: datetime) -> bool:
    return (
        v.recorded_at <= at
        and v.valid_from <= at
        and (v.valid_until is None or at < v.valid_until)
        and (v.superseded_at is None or at < v.superseded_at)
        and (v.revoked_at is None or at < v.revoked_at)
    )


def provision_covers_recipient(p: ProvisionRule, v: ConsentVersion, r: Recipient) -> bool:
    if p.office is not None:
        return p.office == r.office
    return p.kind == r.kind and v.municipality in r.competent_for


def _inbound(v: ConsentVersion, facts: TransferFacts) -> bool:
    """A version recorded by the recipient speaks about the way back to it."""
    return v.recorded_office != facts.sender_office


def _relevant(v: ConsentVersion, facts: TransferFacts) -> list[ProvisionRule]:
    """The provisions of a version that speak about this transfer's direction."""
    if _inbound(v, facts):
        return [p for p in v.provisions if p.direction in (INBOUND, BOTH)]
    return [p for p in v.provisions if p.direction in (OUTBOUND, BOTH)]


def _counterpart(v: ConsentVersion, facts: TransferFacts) -> Recipient:
    return facts.sender if _inbound(v, facts) else facts.recipient


def covered_categories(v: ConsentVersion, facts: TransferFacts) -> frozenset[str]:
    """Categories one version allows for this transfer and purpose (union over its provisions)."""
    out: set[str] = set()
    other = _counterpart(v, facts)
    for p in _relevant(v, facts):
        if facts.purpose in p.purposes and provision_covers_recipient(p, v, other):
            out |= p.categories
    return frozenset(out)


def decide(versions: list[ConsentVersion], facts: TransferFacts, now: datetime) -> Decision:
    """Decide one transfer. Unknown or unrelated consents never allow anything.

    Outbound: consents the sending office recorded. Inbound (the way back, only when ``facts.sender``
    is given): consents the receiving office recorded, through their inbound provisions."""
    offices = {facts.sender_office} | ({facts.recipient.office} if facts.sender is not None else set())
    mine = [v for v in versions if v.person == facts.person and v.recorded_office in offices]
    active = [v for v in mine if is_active(v, now)]
    best: tuple[tuple, ConsentVersion, frozenset[str]] | None = None
    for v in active:
        covered = covered_categories(v, facts)
        if not facts.required_categories <= covered or not covered:
            continue
        removed = facts.optional_categories - covered
        rank = (len(removed), -v.recorded_at.timestamp(), v.consent_id, -v.version)  # total: order-independent
        if best is None or rank < best[0]:
            best = (rank, v, removed)
    if best is not None:
        _, v, removed = best
        sent = facts.required_categories | (facts.optional_categories - removed)
        return Decision(True, v.consent_id, v.version, frozenset(sent), frozenset(removed))
    return Decision(False, reasons=_explain(mine, active, facts, now))


def _explain(mine: list[ConsentVersion], active: list[ConsentVersion], facts: TransferFacts, now: datetime) -> tuple[Reason, ...]:
    """Why nothing covers the transfer, told by the consent version that comes closest."""
    if not mine:
        return (Reason(ReasonCode.NO_CONSENT),)
    if not active:
        return tuple(_inactive_reason(v, now) for v in _latest_per_consent(mine))
    return min((_gaps(v, facts) for v in active), key=_closeness)


def _latest_per_consent(versions: list[ConsentVersion]) -> list[ConsentVersion]:
    latest: dict[str, ConsentVersion] = {}
    for v in versions:
        if v.consent_id not in latest or v.version > latest[v.consent_id].version:
            latest[v.consent_id] = v
    return sorted(latest.values(), key=lambda v: v.consent_id)


def _inactive_reason(v: ConsentVersion, now: datetime) -> Reason:
    if v.revoked_at is not None and v.revoked_at <= now:
        code = ReasonCode.CONSENT_REVOKED
    elif v.valid_from > now or v.recorded_at > now:
        code = ReasonCode.CONSENT_NOT_YET_VALID
    else:
        code = ReasonCode.CONSENT_EXPIRED
    return Reason(code, v.consent_id, v.version)


def _gaps(v: ConsentVersion, facts: TransferFacts) -> tuple[Reason, ...]:
    r = _counterpart(v, facts)
    provisions = _relevant(v, facts)
    for_recipient = [p for p in provisions if provision_covers_recipient(p, v, r)]
    if not for_recipient:
        other_place = any(p.kind == r.kind and v.municipality not in r.competent_for for p in provisions)
        code = ReasonCode.OTHER_JURISDICTION if other_place else ReasonCode.RECIPIENT_NOT_COVERED
        return (Reason(code, v.consent_id, v.version),)
    if not any(facts.purpose in p.purposes for p in for_recipient):
        return (Reason(ReasonCode.PURPOSE_NOT_COVERED, v.consent_id, v.version),)
    missing = facts.required_categories - covered_categories(v, facts)
    return (Reason(ReasonCode.CATEGORY_NOT_COVERED, v.consent_id, v.version, tuple(sorted(missing))),)


_ORDER = {
    ReasonCode.CATEGORY_NOT_COVERED: 0,
    ReasonCode.PURPOSE_NOT_COVERED: 1,
    ReasonCode.OTHER_JURISDICTION: 2,
    ReasonCode.RECIPIENT_NOT_COVERED: 3,
}


def _closeness(reasons: tuple[Reason, ...]) -> tuple[int, int, str, int]:
    first = reasons[0]
    # Ties broken by consent id, then latest version, so the reason never depends on input order.
    return (_ORDER.get(first.code, 9), len(first.categories), first.consent_id or "", -(first.consent_version or 0))
