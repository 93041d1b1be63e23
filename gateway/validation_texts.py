"""German texts for pydantic's validation errors: one per error type, never pydantic's English.

``german_text(error)`` takes one entry of ``ValidationError.errors()`` (its ``type`` and ``ctx``) and
says what is wrong and what is expected: the form a pattern stands for ("8 Ziffern"), the allowed
values of a vocabulary with their German names, the limits. Errors the hub raises itself
(``PydanticCustomError`` with a type pydantic does not know, e.g. ``consent_period``) carry a German
message already and keep it. Any other type gets a plain German sentence rather than English.
"""
from __future__ import annotations

import re
import typing
from collections.abc import Callable
from enum import StrEnum

from pydantic_core.core_schema import ErrorType

from contracts.agency import MUNICIPALITY_PATTERN, OFFICE_ID_PATTERN, OfficeKind
from contracts.categories import DataCategory
from contracts.consent import PERSON_PATTERN, SHA256_PATTERN, Direction, RevocationMethod
from contracts.feedback import Outcome
from contracts.purposes import Purpose
from contracts.referral import Urgency
from contracts.transfer import Decision
from services.checklists.facts import FamilyStatus, ResidenceStatus
from services.checklists.precheck import ItemStatus

PYDANTIC_TYPES = frozenset(typing.get_args(ErrorType))
GENERIC = "Der Wert ist ungültig."

PATTERNS = {
    MUNICIPALITY_PATTERN: "8 Ziffern (Amtlicher Gemeindeschlüssel, z. B. 05382068)",
    PERSON_PATTERN: "„p-“ und 32 Zeichen aus 0–9 und a–f (das Pseudonym, das der Hub vergeben hat)",
    SHA256_PATTERN: "64 Zeichen aus 0–9 und a–f (SHA-256-Prüfsumme, hexadezimal, Kleinbuchstaben)",
    OFFICE_ID_PATTERN: "die Kennung einer Stelle: 2 bis 63 Kleinbuchstaben, Ziffern oder Bindestriche "
                       "(z. B. rsk-abh)",
    r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})?$": "ein Sprachkürzel nach BCP 47, z. B. „de“, „ar“ oder „uk“",
    r"^pc-[0-9a-f]{32}$": "„pc-“ und 32 Zeichen aus 0–9 und a–f (die Kennung einer Vorprüfung)",
}
_ALTERNATIVES = re.compile(r"^\^\(([\w|-]+)\)\$$")  # ^(json|html)$


def _value_labels() -> dict[str, str]:
    """German names of the vocabularies' values; wire values without a name are shown as they are."""
    own = {Decision.DELIVERED: "zugestellt", Decision.REFUSED: "abgelehnt", Decision.WITHHELD: "zurückgehalten",
           Direction.OUTBOUND: "von der erfassenden Stelle an die andere",
           Direction.INBOUND: "von der anderen Stelle zurück an die erfassende",
           Direction.BOTH: "in beide Richtungen", RevocationMethod.WRITTEN: "schriftlich",
           RevocationMethod.ORAL: "mündlich", RevocationMethod.ELECTRONIC: "elektronisch",
           Urgency.NORMAL: "normal", Urgency.HOCH: "hoch", Urgency.DRINGEND: "dringend"}
    labelled: list[type[StrEnum]] = [Purpose, DataCategory, OfficeKind, FamilyStatus, ResidenceStatus, ItemStatus]
    return {**{m.value: m.label for enum in labelled for m in enum}, **{k.value: v for k, v in own.items()},
            **{m.value: m.value.replace("_", " ") for m in Outcome}}


VALUE_LABELS = _value_labels()


def allowed_values(expected: str) -> str:
    """pydantic's ``ctx['expected']`` (``'a', 'b' or 'c'``) as a German list with the values' names
    (``„jugendhilfe“ = Kinder- und Jugendhilfe (SGB VIII); …``)."""
    values = re.findall(r"'((?:[^'\\]|\\.)*)'", expected) or [expected]
    shown = []
    for value in values:
        label = VALUE_LABELS.get(value)
        shown.append(f"„{value}“ = {label}" if label and label != value else f"„{value}“")
    return "; ".join(shown)


def _pattern(ctx: dict) -> str:
    pattern = str(ctx.get("pattern", ""))
    if pattern in PATTERNS:
        return f"Das Format stimmt nicht. Erwartet: {PATTERNS[pattern]}."
    if match := _ALTERNATIVES.match(pattern):
        return f"Unbekannter Wert. Erlaubt sind: {allowed_values(repr(match.group(1).split('|')))}."
    return f"Das Format stimmt nicht. Erwartet: Text nach dem Muster {pattern}."


def _too_short(ctx: dict) -> str:
    n = ctx.get("min_length")
    return "Die Liste darf nicht leer sein." if n == 1 else f"Die Liste braucht mindestens {n} Einträge."


def _string_too_short(ctx: dict) -> str:
    n = ctx.get("min_length")
    return "Darf nicht leer sein." if n == 1 else f"Mindestens {n} Zeichen nötig."


DATE = "Erwartet wird ein Datum im Format JJJJ-MM-TT, z. B. 2025-03-31."
DATETIME = ("Erwartet wird ein Zeitpunkt mit Zeitzone nach RFC 3339, z. B. 2025-03-31T09:30:00+02:00 "
            "oder 2025-03-31T07:30:00Z.")
INTEGER = "Erwartet wird eine ganze Zahl."
NUMBER = "Erwartet wird eine Zahl."
OBJECT = "Erwartet wird ein Objekt mit Feldern (in geschweiften Klammern {…})."
TEXT = "Erwartet wird ein Text (in Anführungszeichen)."

TEXTS: dict[str, str | Callable[[dict], str]] = {
    "missing": "Diese Angabe fehlt; sie ist Pflicht.",
    "extra_forbidden": "Dieses Feld gibt es hier nicht. Bitte entfernen oder den Namen prüfen.",
    "string_type": TEXT,
    "string_unicode": "Der Text enthält Zeichen, die kein gültiges Unicode sind.",
    "string_too_short": _string_too_short,
    "string_too_long": lambda c: f"Zu lang: höchstens {c.get('max_length')} Zeichen erlaubt.",
    "string_pattern_mismatch": _pattern,
    "enum": lambda c: f"Unbekannter Wert. Erlaubt sind: {allowed_values(str(c.get('expected', '')))}.",
    "literal_error": lambda c: f"Unbekannter Wert. Erlaubt ist: {allowed_values(str(c.get('expected', '')))}.",
    "int_type": INTEGER,
    "int_parsing": INTEGER,
    "int_parsing_size": "Die Zahl ist zu groß.",
    "int_from_float": "Erwartet wird eine ganze Zahl ohne Nachkommastellen.",
    "float_type": NUMBER,
    "float_parsing": NUMBER,
    "finite_number": "Erwartet wird eine endliche Zahl.",
    "greater_than": lambda c: f"Muss größer als {c.get('gt')} sein.",
    "greater_than_equal": lambda c: f"Muss mindestens {c.get('ge')} sein.",
    "less_than": lambda c: f"Muss kleiner als {c.get('lt')} sein.",
    "less_than_equal": lambda c: f"Darf höchstens {c.get('le')} sein.",
    "multiple_of": lambda c: f"Muss ein Vielfaches von {c.get('multiple_of')} sein.",
    "bool_type": "Erwartet wird ja oder nein (true oder false).",
    "bool_parsing": "Erwartet wird ja oder nein (true oder false).",
    "list_type": "Erwartet wird eine Liste (in eckigen Klammern […]).",
    "tuple_type": "Erwartet wird eine Liste (in eckigen Klammern […]).",
    "set_type": "Erwartet wird eine Liste (in eckigen Klammern […]).",
    "too_short": _too_short,
    "too_long": lambda c: f"Zu viele Einträge: höchstens {c.get('max_length')} erlaubt.",
    "dict_type": OBJECT,
    "model_type": OBJECT,
    "model_attributes_type": OBJECT,
    "dataclass_type": OBJECT,
    "none_required": "Hier ist kein Wert erlaubt.",
    "date_type": DATE,
    "date_parsing": DATE,
    "date_from_datetime_parsing": DATE,
    "date_from_datetime_inexact": "Erwartet wird ein Datum ohne Uhrzeit im Format JJJJ-MM-TT.",
    "date_past": "Das Datum muss in der Vergangenheit liegen.",
    "date_future": "Das Datum muss in der Zukunft liegen.",
    "datetime_type": DATETIME,
    "datetime_parsing": DATETIME,
    "datetime_from_date_parsing": DATETIME,
    "datetime_object_invalid": DATETIME,
    "timezone_aware": "Der Zeitpunkt braucht eine Zeitzone, z. B. „Z“ oder „+02:00“ am Ende.",
    "timezone_naive": "Der Zeitpunkt darf keine Zeitzone enthalten.",
    "time_parsing": "Erwartet wird eine Uhrzeit im Format HH:MM, z. B. 09:30.",
    "uuid_parsing": "Erwartet wird eine UUID.",
    "uuid_type": "Erwartet wird eine UUID.",
    "url_parsing": "Erwartet wird eine gültige Internetadresse (URL).",
    "url_type": "Erwartet wird eine gültige Internetadresse (URL).",
    "bytes_type": TEXT,
    "json_invalid": "Kein gültiges JSON.",
    "json_type": "Erwartet wird JSON.",
    "value_error": GENERIC,
    "assertion_error": GENERIC,
}


def german_text(error: dict) -> str:
    """What is wrong with one field, in German (``error``: an entry of ``ValidationError.errors()``)."""
    kind = error.get("type", "")
    if kind not in PYDANTIC_TYPES and error.get("msg"):  # the hub's own error, phrased in German
        return str(error["msg"])
    text = TEXTS.get(kind, GENERIC)
    return text(error.get("ctx") or {}) if callable(text) else text
