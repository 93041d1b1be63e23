"""German texts for refusal reasons, for the case manager who asked."""
from datetime import datetime, timezone

from contracts.categories import DataCategory
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
