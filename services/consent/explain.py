"""German texts for the case manager: refusal reasons, what a consent covers, what an amendment changes."""
from collections.abc import Callable
from datetime import datetime, timezone

from contracts.agency import OfficeKind
from contracts.categories import DataCategory
from contracts.consent import ConsentTerms
from contracts.purposes import Purpose
from services.consent.domain import Reason, ReasonCode

_TEXT = {
    ReasonCode.NO_CONSENT: "Für diese Person liegt Ihrer Stelle keine Einwilligung vor.",
    ReasonCode.CONSENT_REVOKED: "Die Einwilligung wurde widerrufen.",
    ReasonCode.CONSENT_EXPIRED: "Die Einwilligung ist abgelaufen.",
    ReasonCode.CONSENT_NOT_YET_VALID: "Die Einwilligung ist noch nicht gültig.",
    ReasonCode.RECIPIENT_NOT_COVERED: "Die Einwilligung umfasst diese empfangende Stelle nicht.",
    ReasonCode.OTHER_JURISDICTION: "Die Einwilligung gilt für Stellen einer anderen Gemeinde (Zuständigkeit).",
    ReasonCode.PURPOSE_NOT_COVERED: "Die Einwilligung umfasst diesen Zweck nicht.",
    ReasonCode.CATEGORY_NOT_COVERED: "Die Einwilligung umfasst folgende Datenkategorien nicht: {categories}.",
}


def describe(reason: Reason) -> str:
    labels = ", ".join(DataCategory(c).label.split(" (")[0] for c in reason.categories)
    return _TEXT[reason.code].format(categories=labels)


def as_dict(reason: Reason, fields: dict[str, tuple[str, ...]] | None = None) -> dict:
    d: dict = {"code": reason.code.value, "message": describe(reason)}
    if reason.consent_id:
        d["consent_id"] = reason.consent_id
        d["consent_version"] = reason.consent_version
    if reason.categories:
        d["categories"] = list(reason.categories)
        if fields:
            d["fields"] = sorted(f for c in reason.categories for f in fields.get(c, ()))
    return d


def expired_on_recording(valid_until: datetime) -> str:
    """Why a consent whose period has already ended is not recorded."""
    until = valid_until.astimezone(timezone.utc)
    return (f"Die Einwilligung ist bereits abgelaufen: Sie galt bis {until:%d.%m.%Y %H:%M} UTC, also vor "
            f"dem Zeitpunkt der Erfassung. Eine abgelaufene Einwilligung kann nicht erfasst werden; bitte eine "
            f"neue Einwilligung mit gültigem Zeitraum einholen.")


# What a consent covers, in plain German, and what an amendment changes (for the case manager's pages).
# A permission is one (counterpart, way, purpose, category): way "send" = the recording office may send
# to the counterpart; "answer" = the counterpart may answer the recording office (the way back).
Permission = tuple[tuple[str, str], str, str, str]
_WAYS = {"outbound": ("send",), "inbound": ("answer",), "both": ("send", "answer")}


def permissions(terms: ConsentTerms) -> set[Permission]:
    """Every single permission of ``terms``: what the coverage rule checks, one at a time."""
    found = set()
    for p in terms.provisions:
        counterpart = ("office", p.recipient.office) if p.recipient.office else ("kind", str(p.recipient.kind))
        for way in _WAYS[str(p.direction)]:
            found |= {(counterpart, way, str(purpose), str(c)) for purpose in p.purposes for c in p.categories}
    return found


def covered(terms: ConsentTerms, office_name: Callable[[str], str], place: str) -> list[str]:
    """What ``terms`` allows, one sentence per counterpart, way and purpose; ``place``: the
    municipality's name (the competent office of a kind is the one for the person's place)."""
    return _sentences(permissions(terms), office_name, place)


def changes(before: ConsentTerms, after: ConsentTerms, office_name: Callable[[str], str],
            place_before: str, place_after: str) -> dict[str, list[str]]:
    """What an amendment from ``before`` to ``after`` changes: newly allowed, no longer allowed, other."""
    old, new = permissions(before), permissions(after)
    if place_before != place_after:  # the competent offices are others now
        old = {(("kind_before", p[0][1]),) + p[1:] if p[0][0] == "kind" else p for p in old}
    return {"added": _sentences(new - old, office_name, place_after),
            "removed": _sentences(old - new, office_name, place_before),
            "other": _other_changes(before, after, place_before, place_after)}


def _sentences(perms: set[Permission], office_name: Callable[[str], str], place: str) -> list[str]:
    grouped: dict[tuple, list[str]] = {}
    for counterpart, way, purpose, category in perms:
        grouped.setdefault((counterpart, way, purpose), []).append(category)
    out = []
    for (counterpart, way, purpose), cats in sorted(grouped.items(), key=lambda kv: (kv[0][0], kv[0][1] != "send",
                                                                                     kv[0][2])):
        who = _counterpart(counterpart, office_name, place)
        labels = ", ".join(DataCategory(c).label.split(" (")[0] for c in sorted(cats))
        if way == "send":
            out.append(f"Ihre Stelle darf {labels} an {who} übermitteln, nur für „{Purpose(purpose).label}“.")
        else:
            out.append(f"{who[0].upper()}{who[1:]} darf Ihrer Stelle dazu antworten ({labels}), nur für "
                       f"„{Purpose(purpose).label}“.")
    return out


def _counterpart(counterpart: tuple[str, str], office_name: Callable[[str], str], place: str) -> str:
    kind, value = counterpart
    if kind == "office":
        return f"die Stelle „{office_name(value)}“"
    return f"die für {place} zuständige {OfficeKind(value).label}"  # "kind", or "kind_before" a move


def _other_changes(before: ConsentTerms, after: ConsentTerms, place_before: str, place_after: str) -> list[str]:
    out = []
    if place_before != place_after:
        out.append(f"Wohnort: bisher {place_before}, künftig {place_after}.")
    if period(before) != period(after):  # in days, as the case manager enters them
        out.append(f"Gültigkeit: bisher {period(before)}, künftig {period(after)}.")
    if before.evidence.form_sha256 != after.evidence.form_sha256:
        out.append("Nachweis: Das neu unterschriebene Formular wird als Nachweis gespeichert (SHA-256).")
    return out


def period(terms: ConsentTerms) -> str:
    """The validity in words: 'ab 01.01.2025 bis 31.12.2026' or 'ab 01.01.2025, ohne Enddatum'."""
    start = f"ab {terms.valid_from.astimezone(timezone.utc):%d.%m.%Y}"
    if terms.valid_until is None:
        return f"{start}, ohne Enddatum"
    return f"{start} bis {terms.valid_until.astimezone(timezone.utc):%d.%m.%Y}"
