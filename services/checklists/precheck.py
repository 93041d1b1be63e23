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

from pydantic import Field, TypeAdapter, field_validator, model_validator
from pydantic_core import PydanticCustomError

from contracts.base import Contract
from contracts.categories import DataCategory
from services.checklists.conditions import describe, evaluate, referenced_facts
from services.checklists.facts import FACTS, CaseFacts, as_case_facts, fact_values, format_value
from services.checklists.model import Item, Template

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
            raise PydanticCustomError("document_id_empty", "Eine Dokument-Kennung darf nicht leer sein.")
        return v


_STATUSES = TypeAdapter(dict[str, StatusEntry])


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
    entries = _STATUSES.validate_python(dict(statuses))  # errors name the item: (item id, field)
    items: list[ItemCheck] = []
    not_applicable: list[NotApplicableItem] = []
    errors = _unknown_item_errors(template, entries)
    warnings: list[Issue] = []
    for item in template.items:
        entry = entries.get(item.id)
        applies = True if item.applies_if is None else evaluate(item.applies_if, values)
        if applies is False:
            not_applicable.append(_not_applicable_item(item, values))
            warnings.extend(_ignored_status_warnings(item, entry))
            continue
        applicability = Applicability.UNDETERMINED if applies is None else Applicability.APPLIES
        errors.extend(_reason_required_errors(item, entry, applicability))
        warnings.extend(_documents_without_present_status_warnings(item, entry))
        items.append(_item_check(item, entry, applicability, values))
    open_items = [i.item_id for i in items if i.open]
    return PrecheckResult(
        procedure=template.procedure, version=template.version, checked_on=on,
        items=items, not_applicable=not_applicable, open_items=open_items,
        errors=errors, warnings=warnings, complete=not open_items and not errors)


def _unknown_item_errors(template: Template, entries: Mapping[str, StatusEntry]) -> list[Issue]:
    """An error for each status whose item id is not in the template, by item id."""
    errors = [
        Issue(severity="error", code=IssueCode.UNKNOWN_ITEM, item_id=item_id,
              message=f"Status für unbekannten Punkt „{item_id}“: nicht in der Vorlage "
                      f"{template.procedure} (Version {template.version}).")
        for item_id in entries.keys() - set(template.item_ids)
    ]
    errors.sort(key=lambda i: i.item_id)
    return errors


def _not_applicable_item(item: Item, values: Mapping[str, Any]) -> NotApplicableItem:
    """An item whose condition is false for the facts, with the condition and the facts it read."""
    names = referenced_facts(item.applies_if)
    return NotApplicableItem(
        item_id=item.id, label=item.label,
        reason=f"Entfällt laut Angaben: gilt nur bei „{describe(item.applies_if)}“ "
               f"(erfasst: {_facts_text(names, values)}).")


def _ignored_status_warnings(item: Item, entry: StatusEntry | None) -> list[Issue]:
    """A warning when a status other than ``not_required`` is recorded for an item that does not apply."""
    if entry is None or entry.status is ItemStatus.NOT_REQUIRED:
        return []
    return [Issue(
        severity="warning", code=IssueCode.STATUS_FOR_NOT_APPLICABLE_ITEM, item_id=item.id,
        message=f"„{item.label}“ trifft laut Angaben nicht zu; der erfasste Status "
                f"„{entry.status.label}“ wird nicht berücksichtigt.")]


def _undetermined_note(item: Item, values: Mapping[str, Any]) -> str:
    """Why an item is listed although its condition could not be evaluated: the facts that are unknown."""
    unknown = [n for n in referenced_facts(item.applies_if) if values.get(n) is None]
    return (f"Angaben fehlen ({', '.join(FACTS[n].label for n in unknown)}) für die Bedingung "
            f"„{describe(item.applies_if)}“; der Punkt wird vorsichtshalber aufgeführt.")


def _open_note(entry: StatusEntry | None) -> str | None:
    """Why an applicable item is open (no status, or missing / not required without a reason); None if it is not."""
    if entry is None:
        return "Noch kein Status erfasst."
    if entry.status is ItemStatus.MISSING and entry.reason is None:
        return "Fehlt; keine Begründung angegeben."
    if entry.status is ItemStatus.NOT_REQUIRED and entry.reason is None:
        return "Als nicht erforderlich markiert, aber ohne Begründung."
    return None


def _reason_required_errors(item: Item, entry: StatusEntry | None, applicability: Applicability) -> list[Issue]:
    """An error when an applicable item is marked ``not_required`` without a reason."""
    if entry is None or entry.status is not ItemStatus.NOT_REQUIRED or entry.reason is not None:
        return []
    why = ("trifft laut Angaben zu" if applicability is Applicability.APPLIES
           else "kann mangels Angaben nicht ausgeschlossen werden")
    return [Issue(
        severity="error", code=IssueCode.REASON_REQUIRED, item_id=item.id,
        message=f"„{item.label}“ {why}; „nicht erforderlich“ braucht eine Begründung.")]


def _documents_without_present_status_warnings(item: Item, entry: StatusEntry | None) -> list[Issue]:
    """A warning when documents are attached to an item recorded as missing or not required."""
    if entry is None or not entry.documents or entry.status not in (ItemStatus.MISSING, ItemStatus.NOT_REQUIRED):
        return []
    return [Issue(
        severity="warning", code=IssueCode.DOCUMENTS_WITHOUT_PRESENT_STATUS, item_id=item.id,
        message=f"„{item.label}“: Dokumente zugeordnet, aber Status „{entry.status.label}“.")]


def _item_check(item: Item, entry: StatusEntry | None, applicability: Applicability,
                values: Mapping[str, Any]) -> ItemCheck:
    """An applicable item with what is recorded for it and whether it is open."""
    open_note = _open_note(entry)
    return ItemCheck(
        item_id=item.id, label=item.label, category=item.category, legal_reference=item.legal_reference,
        applicability=applicability,
        applicability_note=_undetermined_note(item, values) if applicability is Applicability.UNDETERMINED else None,
        status=entry.status if entry else None, reason=entry.reason if entry else None,
        documents=list(entry.documents) if entry else [],
        open=open_note is not None, open_note=open_note)
