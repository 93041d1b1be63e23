"""Hints for the case manager, derived from the case facts: pure functions, never a decision.

Hints say what follows from the facts recorded (age, years of residence, a missing passport, facts
the template's conditions need) and whether the template is an example or of limited validity.
Each is labelled "Hinweis, keine Entscheidung": the hub never decides eligibility, the receiving
office does.
"""
from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from enum import StrEnum
from typing import Any, Literal

from contracts.base import Contract
from services.checklists.conditions import referenced_facts
from services.checklists.facts import FACTS, CaseFacts, as_case_facts, fact_values, format_value, full_months
from services.checklists.model import Template

HINT_LABEL = "Hinweis, keine Entscheidung"


class HintCode(StrEnum):
    EXAMPLE_TEMPLATE = "example_template"
    TEMPLATE_VALIDITY = "template_validity"
    AGE = "age"
    RESIDENCE_DURATION = "residence_duration"
    DATE_IN_FUTURE = "date_in_future"
    NO_PASSPORT = "no_passport"
    MISSING_FACTS = "missing_facts"


class Hint(Contract):
    """Derived information for the case manager; explicitly not a decision."""

    code: HintCode
    text: str  # German
    note: str | None = None  # German; caveat
    label: Literal["Hinweis, keine Entscheidung"] = HINT_LABEL

    def __str__(self) -> str:
        return f"{self.label}: {self.text}" + (f" ({self.note})" if self.note else "")


def format_duration(months: int) -> str:
    """German duration, e.g. ``5 Jahre 3 Monate``, ``1 Jahr``, ``7 Monate``."""
    years, rest = divmod(months, 12)
    parts = []
    if years:
        parts.append(f"{years} {'Jahr' if years == 1 else 'Jahre'}")
    if rest or not years:
        parts.append(f"{rest} {'Monat' if rest == 1 else 'Monate'}")
    return " ".join(parts)


def hints(template: Template, facts: CaseFacts | Mapping[str, Any], today: date) -> list[Hint]:
    """Derived hints (German) for the case manager. Never a statement about eligibility."""
    f = as_case_facts(facts)
    values = fact_values(f, today)
    return [
        *_template_hints(template, today),
        *_age_hints(f, values, today),
        *_residence_hints(f, today),
        *_passport_hints(f),
        *_missing_facts_hints(template, values),
    ]


def _template_hints(template: Template, today: date) -> list[Hint]:
    """An example template's review note, and the template's validity if it is limited."""
    out: list[Hint] = []
    if template.example:
        out.append(Hint(code=HintCode.EXAMPLE_TEMPLATE, text=template.review_note or ""))
    if today < template.valid_from:
        out.append(Hint(code=HintCode.TEMPLATE_VALIDITY,
                        text=f"Vorlage gilt erst ab {format_value(template.valid_from)}."))
    elif template.valid_until is not None:
        if today <= template.valid_until:
            out.append(Hint(code=HintCode.TEMPLATE_VALIDITY,
                            text=f"Vorlage gilt nur bis {format_value(template.valid_until)} (befristete Regelung)."))
        else:
            out.append(Hint(code=HintCode.TEMPLATE_VALIDITY,
                            text=f"Vorlage galt nur bis {format_value(template.valid_until)}."))
    return out


def _age_hints(f: CaseFacts, values: Mapping[str, Any], today: date) -> list[Hint]:
    """The person's age, or a warning that the date of birth lies in the future."""
    if f.date_of_birth is None:
        return []
    if f.date_of_birth > today:
        return [Hint(code=HintCode.DATE_IN_FUTURE,
                     text="Das Geburtsdatum liegt in der Zukunft; bitte Angaben prüfen.")]
    age = values["age"]
    return [Hint(code=HintCode.AGE, text=f"Alter: {age} {'Jahr' if age == 1 else 'Jahre'}")]


def _residence_hints(f: CaseFacts, today: date) -> list[Hint]:
    """The time since entry (not all of it may count), or a warning that the entry date lies in the future."""
    if f.entry_date is None:
        return []
    if f.entry_date > today:
        return [Hint(code=HintCode.DATE_IN_FUTURE,
                     text="Das Einreisedatum liegt in der Zukunft; bitte Angaben prüfen.")]
    return [Hint(
        code=HintCode.RESIDENCE_DURATION,
        text=f"Aufenthaltsdauer laut Einreisedatum: {format_duration(full_months(f.entry_date, today))}",
        note="anrechenbar ist nur der rechtmäßige bzw. geduldete Aufenthalt; das prüft die Behörde")]


def _passport_hints(f: CaseFacts) -> list[Hint]:
    """A reminder to raise identity and passport early when the person has no valid passport."""
    if f.has_passport is not False:
        return []
    return [Hint(
        code=HintCode.NO_PASSPORT,
        text="Kein gültiger Pass angegeben: Identitätsklärung und Passbeschaffung früh ansprechen "
             "(Passlosigkeit ist ein häufiges Hindernis).")]


def _missing_facts(template: Template, values: Mapping[str, Any]) -> list[str]:
    """The unknown facts the template's conditions refer to, in the order of first reference."""
    missing: list[str] = []
    for item in template.items:
        if item.applies_if is not None:
            for name in referenced_facts(item.applies_if):
                if values.get(name) is None and name not in missing:
                    missing.append(name)
    return missing


def _missing_facts_hints(template: Template, values: Mapping[str, Any]) -> list[Hint]:
    """The facts the template's conditions need but the case does not have."""
    missing = _missing_facts(template, values)
    if not missing:
        return []
    return [Hint(
        code=HintCode.MISSING_FACTS,
        text=f"Für die Bedingungen der Vorlage fehlen Angaben: {', '.join(FACTS[n].label for n in missing)}. "
             "Betroffene Punkte werden vorsichtshalber aufgeführt.")]
