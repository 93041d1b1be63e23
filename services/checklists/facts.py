"""Case facts a checklist condition may refer to, and the facts derived from them.

A template's conditions (``applies_if``) may only name facts listed in ``FACTS``; the template is
rejected at load time otherwise. Facts are what the case manager recorded about the person; derived
facts (``age``, ``years_since_entry``) are computed for a reference date. A fact that is not known
is ``None``: conditions on it are *undetermined*, never silently false.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Any, Literal

from pydantic_core import PydanticCustomError

from contracts.base import Contract


class FamilyStatus(StrEnum):
    LEDIG = "ledig"
    VERHEIRATET = "verheiratet"
    LEBENSPARTNERSCHAFT = "lebenspartnerschaft"  # eingetragene Lebenspartnerschaft
    GETRENNT_LEBEND = "getrennt_lebend"
    GESCHIEDEN = "geschieden"
    VERWITWET = "verwitwet"

    @property
    def label(self) -> str:
        return {
            FamilyStatus.LEDIG: "ledig",
            FamilyStatus.VERHEIRATET: "verheiratet",
            FamilyStatus.LEBENSPARTNERSCHAFT: "eingetragene Lebenspartnerschaft",
            FamilyStatus.GETRENNT_LEBEND: "getrennt lebend",
            FamilyStatus.GESCHIEDEN: "geschieden",
            FamilyStatus.VERWITWET: "verwitwet",
        }[self]


class ResidenceStatus(StrEnum):
    DULDUNG = "duldung"
    GESTATTUNG = "gestattung"
    AUFENTHALTSERLAUBNIS = "aufenthaltserlaubnis"
    NIEDERLASSUNGSERLAUBNIS = "niederlassungserlaubnis"
    DAUERAUFENTHALT_EU = "daueraufenthalt_eu"
    BLAUE_KARTE_EU = "blaue_karte_eu"
    SONSTIGES = "sonstiges"

    @property
    def label(self) -> str:
        return {
            ResidenceStatus.DULDUNG: "Duldung",
            ResidenceStatus.GESTATTUNG: "Aufenthaltsgestattung",
            ResidenceStatus.AUFENTHALTSERLAUBNIS: "Aufenthaltserlaubnis",
            ResidenceStatus.NIEDERLASSUNGSERLAUBNIS: "Niederlassungserlaubnis",
            ResidenceStatus.DAUERAUFENTHALT_EU: "Erlaubnis zum Daueraufenthalt-EU",
            ResidenceStatus.BLAUE_KARTE_EU: "Blaue Karte EU",
            ResidenceStatus.SONSTIGES: "sonstiger Status",
        }[self]


class CaseFacts(Contract):
    """What the case manager recorded about the person. Every fact is optional (``None`` = unknown)."""

    date_of_birth: date | None = None
    entry_date: date | None = None  # date of (first) entry into Germany
    family_status: FamilyStatus | None = None
    has_children: bool | None = None
    has_passport: bool | None = None  # a valid national passport or passport substitute
    residence_status: ResidenceStatus | None = None
    employed: bool | None = None
    receives_benefits: bool | None = None  # SGB II / SGB XII / AsylbLG
    in_education: bool | None = None  # school, vocational training or university
    german_school_certificate: bool | None = None  # a school leaving certificate from a German school


FactKind = Literal["bool", "int", "date", "enum"]


@dataclass(frozen=True)
class FactSpec:
    name: str
    label: str  # German, shown to users
    kind: FactKind
    enum: type[StrEnum] | None = None
    derived: bool = False

    @property
    def ordered(self) -> bool:
        """Whether at_least / at_most / less_than make sense for this fact."""
        return self.kind in ("int", "date")


FACTS: dict[str, FactSpec] = {
    s.name: s
    for s in (
        FactSpec("date_of_birth", "Geburtsdatum", "date"),
        FactSpec("entry_date", "Einreisedatum", "date"),
        FactSpec("family_status", "Familienstand", "enum", FamilyStatus),
        FactSpec("has_children", "Kinder vorhanden", "bool"),
        FactSpec("has_passport", "Gültiger Pass vorhanden", "bool"),
        FactSpec("residence_status", "Aufenthaltsstatus", "enum", ResidenceStatus),
        FactSpec("employed", "Erwerbstätig", "bool"),
        FactSpec("receives_benefits", "Bezug von Sozialleistungen", "bool"),
        FactSpec("in_education", "In Schule, Ausbildung oder Studium", "bool"),
        FactSpec("german_school_certificate", "Deutscher Schulabschluss vorhanden", "bool"),
        FactSpec("age", "Alter (Jahre)", "int", derived=True),
        FactSpec("years_since_entry", "Jahre seit Einreise", "int", derived=True),
    )
}

assert {n for n, s in FACTS.items() if not s.derived} == set(CaseFacts.model_fields), "FACTS out of sync"


def coerce_fact_value(spec: FactSpec, value: Any) -> Any:
    """A condition's comparison value, checked against the fact's type. Raises PydanticCustomError (a ValueError)."""
    if spec.kind == "bool":
        if isinstance(value, bool):
            return value
        raise _wrong(spec, value, "ist ja/nein: erwartet true oder false")
    if spec.kind == "int":
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        raise _wrong(spec, value, "ist eine ganze Zahl")
    if spec.kind == "date":
        if isinstance(value, date):
            return value
        if isinstance(value, str):
            try:
                return date.fromisoformat(value)
            except ValueError:
                pass
        raise _wrong(spec, value, "ist ein Datum (JJJJ-MM-TT)")
    assert spec.enum is not None
    try:
        return spec.enum(value)
    except ValueError:
        allowed = ", ".join(m.value for m in spec.enum)
        raise _wrong(spec, value, f"erlaubt nur: {allowed}") from None


def _wrong(spec: FactSpec, value: Any, expected: str) -> PydanticCustomError:
    """A condition's value that does not fit its fact, in German (it reaches the admin who publishes)."""
    return PydanticCustomError("condition_invalid", "Die Angabe „{fact}“ {expected}, nicht {value}.",
                               {"fact": spec.name, "expected": expected, "value": repr(value)})


def full_months(start: date, end: date) -> int:
    """Completed calendar months from ``start`` to ``end`` (negative if end is before start)."""
    months = (end.year - start.year) * 12 + (end.month - start.month)
    if months > 0 and end.day < start.day:
        months -= 1
    elif months < 0 and end.day > start.day:
        months += 1
    return months


def full_years(start: date, end: date) -> int:
    return full_months(start, end) // 12 if end >= start else -(full_months(end, start) // 12)


def as_case_facts(facts: CaseFacts | Mapping[str, Any]) -> CaseFacts:
    return facts if isinstance(facts, CaseFacts) else CaseFacts.model_validate(dict(facts))


def fact_values(facts: CaseFacts | Mapping[str, Any], on: date) -> dict[str, Any]:
    """Every fact in ``FACTS`` by name, derived ones computed for ``on``; unknown facts are None.

    A date of birth or entry date after ``on`` is treated as unknown for the derived facts.
    """
    f = as_case_facts(facts)
    values: dict[str, Any] = {name: getattr(f, name) for name in CaseFacts.model_fields}
    dob, entry = f.date_of_birth, f.entry_date
    values["age"] = full_years(dob, on) if dob is not None and dob <= on else None
    values["years_since_entry"] = full_years(entry, on) if entry is not None and entry <= on else None
    return values


def format_value(value: Any) -> str:
    """A fact value as German text."""
    if value is None:
        return "unbekannt"
    if isinstance(value, bool):
        return "ja" if value else "nein"
    if isinstance(value, StrEnum) and hasattr(value, "label"):
        return value.label
    if isinstance(value, date):
        return value.strftime("%d.%m.%Y")
    return str(value)
