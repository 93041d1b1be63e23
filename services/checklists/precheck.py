"""The pre-check of a case against a checklist template: pure functions, advice to a human.

The pre-check says which items of the template apply to the person (from the case facts), what the
case manager has recorded for each, and what is still open. It NEVER says whether the person
qualifies for anything: the KIM privacy notice rules out automated decisions, and the receiving
office decides. No result type has a field like "eligible"; a unit test keeps it that way.

Rules:

* An item applies when its ``applies_if`` is true or absent. When the condition depends on an
  unknown fact it is *undetermined* and the item is treated as applicable (conditions never hide
  an item because data is missing).
* An applicable item is **open** when it has no status, when it is ``missing`` without a reason,
  or when it is ``not_required`` without a reason (the latter is also an error: the facts say it
  applies).
* ``complete`` = no open items and no errors. Every error concerns an open item or a status for an
  unknown item id, so with statuses only for known items: complete <=> no open items.
* Statuses for items that do not apply are ignored with a warning (except ``not_required``).
"""
from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from enum import StrEnum
from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from contracts.base import Contract
from contracts.categories import DataCategory
from services.checklists.conditions import describe, evaluate, referenced_facts
from services.checklists.facts import FACTS, CaseFacts, as_case_facts, fact_values, format_value, full_months
from services.checklists.model import Template

HINT_LABEL = "Hinweis, keine Entscheidung"
DISCLAIMER = (
    "Vorprüfung der Unterlagen als Hilfe für die Fallbearbeitung. Sie ist keine Entscheidung über "
    "einen Antrag; darüber entscheidet allein die zuständige Behörde."
)


class ItemStatus(StrEnum):
    PRESENT = "present"  # the case manager has the document(s)
    VERIFIED = "verified"  # ... and has checked them (e.g. original seen)
    MISSING = "missing"
    NOT_REQUIRED = "not_required"

    @property
    def label(self) -> str:
        return {
            ItemStatus.PRESENT: "liegt vor",
            ItemStatus.VERIFIED: "liegt vor und ist geprüft",
            ItemStatus.MISSING: "fehlt",
            ItemStatus.NOT_REQUIRED: "nicht erforderlich",
        }[self]


class StatusEntry(Contract):
    """The case manager's record for one item."""

    status: ItemStatus
    reason: str | None = Field(None, max_length=2000)
    documents: list[str] = Field(default_factory=list)  # ids of uploaded documents

    @field_validator("reason")
    @classmethod
    def _blank_is_none(cls, v: str | None) -> str | None:
        return v or None

    @field_validator("documents")
    @classmethod
    def _non_empty_ids(cls, v: list[str]) -> list[str]:
        if any(not d for d in v):
            raise ValueError("document ids must not be empty")
        return v


class Applicability(StrEnum):
    APPLIES = "applies"
    UNDETERMINED = "undetermined"  # depends on unknown facts; treated as applicable


class IssueCode(StrEnum):
    UNKNOWN_ITEM = "unknown_item"
    REASON_REQUIRED = "reason_required"
    STATUS_FOR_NOT_APPLICABLE_ITEM = "status_for_not_applicable_item"
    DOCUMENTS_WITHOUT_PRESENT_STATUS = "documents_without_present_status"


class Issue(Contract):
    severity: Literal["error", "warning"]
    code: IssueCode
    item_id: str
    message: str  # German


class ItemCheck(Contract):
    """An applicable item and what is recorded for it."""

    item_id: str
    label: str
    category: DataCategory
    legal_reference: str
    applicability: Applicability
    applicability_note: str | None = None  # German; why undetermined
    status: ItemStatus | None = None
    reason: str | None = None
    documents: list[str] = Field(default_factory=list)
    open: bool
    open_note: str | None = None  # German; why the item is open


class NotApplicableItem(Contract):
    item_id: str
    label: str
    reason: str  # German


class PrecheckResult(Contract):
    procedure: str
    version: int
    checked_on: date
    items: list[ItemCheck]
    not_applicable: list[NotApplicableItem]
    open_items: list[str]
    errors: list[Issue]
    warnings: list[Issue]
    complete: bool
    disclaimer: str = DISCLAIMER

    @model_validator(mode="after")
    def _complete_is_consistent(self) -> PrecheckResult:
        if self.complete != (not self.open_items and not self.errors):
            raise ValueError("complete must be true exactly when nothing is open and there are no errors")
        return self


def _facts_text(names: list[str], values: Mapping[str, Any]) -> str:
    return ", ".join(f"{FACTS[n].label}: {format_value(values.get(n))}" for n in names)


def precheck(
    template: Template,
    facts: CaseFacts | Mapping[str, Any],
    statuses: Mapping[str, StatusEntry | Mapping[str, Any]],
    on: date,
) -> PrecheckResult:
    """Pre-check the case manager's item statuses against ``template`` for the facts on ``on``.

    Malformed input (an unknown fact name, an unknown status) raises pydantic's ValidationError.
    """
    values = fact_values(as_case_facts(facts), on)
    entries = {k: v if isinstance(v, StatusEntry) else StatusEntry.model_validate(v) for k, v in statuses.items()}
    known = set(template.item_ids)

    items: list[ItemCheck] = []
    not_applicable: list[NotApplicableItem] = []
    errors: list[Issue] = []
    warnings: list[Issue] = []

    for item_id in entries.keys() - known:
        errors.append(Issue(
            severity="error", code=IssueCode.UNKNOWN_ITEM, item_id=item_id,
            message=f"Status für unbekannten Punkt „{item_id}“: nicht in der Vorlage "
                    f"{template.procedure} (Version {template.version})."))
    errors.sort(key=lambda i: i.item_id)

    for item in template.items:
        entry = entries.get(item.id)
        applicability = Applicability.APPLIES
        applicability_note = None
        if item.applies_if is not None:
            result = evaluate(item.applies_if, values)
            names = referenced_facts(item.applies_if)
            if result is False:
                not_applicable.append(NotApplicableItem(
                    item_id=item.id, label=item.label,
                    reason=f"Entfällt laut Angaben: gilt nur bei „{describe(item.applies_if)}“ "
                           f"(erfasst: {_facts_text(names, values)})."))
                if entry is not None and entry.status is not ItemStatus.NOT_REQUIRED:
                    warnings.append(Issue(
                        severity="warning", code=IssueCode.STATUS_FOR_NOT_APPLICABLE_ITEM, item_id=item.id,
                        message=f"„{item.label}“ trifft laut Angaben nicht zu; der erfasste Status "
                                f"„{entry.status.label}“ wird nicht berücksichtigt."))
                continue
            if result is None:
                applicability = Applicability.UNDETERMINED
                unknown = [n for n in names if values.get(n) is None]
                applicability_note = (
                    f"Angaben fehlen ({', '.join(FACTS[n].label for n in unknown)}) für die Bedingung "
                    f"„{describe(item.applies_if)}“; der Punkt wird vorsichtshalber aufgeführt.")

        open_note = None
        if entry is None:
            open_note = "Noch kein Status erfasst."
        elif entry.status is ItemStatus.MISSING and entry.reason is None:
            open_note = "Fehlt; keine Begründung angegeben."
        elif entry.status is ItemStatus.NOT_REQUIRED and entry.reason is None:
            open_note = "Als nicht erforderlich markiert, aber ohne Begründung."
            why = ("trifft laut Angaben zu" if applicability is Applicability.APPLIES
                   else "kann mangels Angaben nicht ausgeschlossen werden")
            errors.append(Issue(
                severity="error", code=IssueCode.REASON_REQUIRED, item_id=item.id,
                message=f"„{item.label}“ {why}; „nicht erforderlich“ braucht eine Begründung."))
        if entry is not None and entry.documents and entry.status in (ItemStatus.MISSING, ItemStatus.NOT_REQUIRED):
            warnings.append(Issue(
                severity="warning", code=IssueCode.DOCUMENTS_WITHOUT_PRESENT_STATUS, item_id=item.id,
                message=f"„{item.label}“: Dokumente zugeordnet, aber Status „{entry.status.label}“."))

        items.append(ItemCheck(
            item_id=item.id, label=item.label, category=item.category, legal_reference=item.legal_reference,
            applicability=applicability, applicability_note=applicability_note,
            status=entry.status if entry else None, reason=entry.reason if entry else None,
            documents=list(entry.documents) if entry else [],
            open=open_note is not None, open_note=open_note))

    open_items = [i.item_id for i in items if i.open]
    return PrecheckResult(
        procedure=template.procedure, version=template.version, checked_on=on,
        items=items, not_applicable=not_applicable, open_items=open_items,
        errors=errors, warnings=warnings, complete=not open_items and not errors)


# --------------------------------------------------------------------------- hints


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
    if f.date_of_birth is not None:
        if f.date_of_birth > today:
            out.append(Hint(code=HintCode.DATE_IN_FUTURE,
                            text="Das Geburtsdatum liegt in der Zukunft; bitte Angaben prüfen."))
        else:
            age = values["age"]
            out.append(Hint(code=HintCode.AGE, text=f"Alter: {age} {'Jahr' if age == 1 else 'Jahre'}"))
    if f.entry_date is not None:
        if f.entry_date > today:
            out.append(Hint(code=HintCode.DATE_IN_FUTURE,
                            text="Das Einreisedatum liegt in der Zukunft; bitte Angaben prüfen."))
        else:
            out.append(Hint(
                code=HintCode.RESIDENCE_DURATION,
                text=f"Aufenthaltsdauer laut Einreisedatum: {format_duration(full_months(f.entry_date, today))}",
                note="anrechenbar ist nur der rechtmäßige bzw. geduldete Aufenthalt; das prüft die Behörde"))
    if f.has_passport is False:
        out.append(Hint(
            code=HintCode.NO_PASSPORT,
            text="Kein gültiger Pass angegeben: Identitätsklärung und Passbeschaffung früh ansprechen "
                 "(Passlosigkeit ist ein häufiges Hindernis)."))
    missing: list[str] = []
    for item in template.items:
        if item.applies_if is not None:
            for name in referenced_facts(item.applies_if):
                if values.get(name) is None and name not in missing:
                    missing.append(name)
    if missing:
        out.append(Hint(
            code=HintCode.MISSING_FACTS,
            text=f"Für die Bedingungen der Vorlage fehlen Angaben: {', '.join(FACTS[n].label for n in missing)}. "
                 "Betroffene Punkte werden vorsichtshalber aufgeführt."))
    return out
