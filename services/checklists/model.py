"""Procedure checklist templates: versioned data files (YAML), validated at load.

A template says which documents a receiving office (e.g. the EBH for a naturalisation) wants for a
procedure, with the legal reference of each item and the data category its evidence carries.
Templates change with the law, so they are versioned and carry validity dates; see ``catalogue``.

``Item.category`` is the consent category of the *information* the evidence reveals (e.g.
``sozialdaten`` for proof of income, ``stammdaten`` for a registration certificate). Sending a copy
of a document needs consent to ``dokumente`` in addition; that is the gate's business.
"""
from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from pathlib import Path
from typing import Annotated, Any

import yaml
from pydantic import Field, StringConstraints, ValidationError, model_validator
from pydantic_core import PydanticCustomError

from contracts.agency import OFFICE_ID_PATTERN, OfficeKind
from contracts.base import Contract
from contracts.categories import DataCategory
from services.checklists.conditions import TAG_PREFIX, Condition

SLUG_PATTERN = r"^[a-z0-9][a-z0-9-]{0,62}$"
EXAMPLE_REVIEW_NOTE = "Beispielvorlage – von der zuständigen Stelle zu prüfen"

Text = Annotated[str, StringConstraints(min_length=1, max_length=2000)]


class TemplateError(ValueError):
    """A template file is invalid. The message names the file and, where it can, the item."""

    def __init__(self, source: str, problems: list[str]):
        self.source = source
        self.problems = problems
        super().__init__(f"{source}: invalid checklist template:\n" + "\n".join(f"  - {p}" for p in problems))


class Item(Contract):
    id: str = Field(pattern=SLUG_PATTERN)
    label: Text  # German
    documents: list[Text] = Field(min_length=1)  # acceptable documents, German
    legal_reference: Text
    category: DataCategory
    applies_if: Condition | None = None  # None: the item always applies
    hint: Text | None = None  # German


class Template(Contract):
    procedure: str = Field(pattern=SLUG_PATTERN)
    version: int = Field(ge=1, le=2**31 - 1)  # stored in an INTEGER column
    title: Text  # German
    legal_basis: Text
    owner_office_kind: OfficeKind
    owner_office: str | None = Field(None, pattern=OFFICE_ID_PATTERN)
    valid_from: date
    valid_until: date | None = None  # inclusive; None = open-ended
    example: bool
    review_note: Text | None = None  # required for examples
    items: list[Item] = Field(min_length=1)

    @model_validator(mode="after")
    def _consistent(self) -> Template:
        # German: the texts reach the admin who publishes (gateway/validation_texts.py keeps them)
        if self.valid_until is not None and self.valid_until < self.valid_from:
            raise PydanticCustomError(
                "template_period", "Das Ende der Gültigkeit (valid_until {until}) liegt vor ihrem Beginn "
                "(valid_from {start}).", {"until": str(self.valid_until), "start": str(self.valid_from)})
        if self.example and not self.review_note:
            raise PydanticCustomError(
                "template_review_note", "Eine Beispielvorlage (example: true) braucht einen Prüfvermerk "
                "(review_note), z. B. „{note}“.", {"note": EXAMPLE_REVIEW_NOTE})
        seen: dict[str, int] = {}
        for i, item in enumerate(self.items):
            if item.id in seen:
                raise PydanticCustomError(
                    "template_item_twice", "Punkt „{id}“: Die Kennung (id) kommt mehrfach vor (Punkt {first} "
                    "und Punkt {second}).", {"id": item.id, "first": seen[item.id] + 1, "second": i + 1})
            seen[item.id] = i
        return self

    @property
    def key(self) -> tuple[str, int]:
        return (self.procedure, self.version)

    def covers(self, on: date) -> bool:
        """Whether the template is valid on ``on`` (both ends inclusive)."""
        return self.valid_from <= on and (self.valid_until is None or on <= self.valid_until)

    def item(self, item_id: str) -> Item:
        for item in self.items:
            if item.id == item_id:
                return item
        raise KeyError(item_id)

    @property
    def item_ids(self) -> tuple[str, ...]:
        return tuple(i.id for i in self.items)


def _where(loc: tuple[Any, ...], raw: Any) -> str:
    """An error location as text; ``items[3]`` becomes ``item 'heiratsurkunde' (items[3])``."""
    loc = tuple(p for p in loc if not (isinstance(p, str) and p.startswith(TAG_PREFIX)))
    prefix = "template"
    rest = loc
    if len(loc) >= 2 and loc[0] == "items" and isinstance(loc[1], int):
        idx = loc[1]
        item_id = None
        if isinstance(raw, Mapping) and isinstance(raw.get("items"), list) and idx < len(raw["items"]):
            entry = raw["items"][idx]
            if isinstance(entry, Mapping) and isinstance(entry.get("id"), str):
                item_id = entry["id"]
        prefix = f"item '{item_id}' (items[{idx}])" if item_id else f"item #{idx + 1} (items[{idx}])"
        rest = loc[2:]
    path = ""
    for p in rest:
        path += f"[{p}]" if isinstance(p, int) else (f".{p}" if path else str(p))
    return f"{prefix} {path}".rstrip() if path else prefix


def parse_template(raw: Any, source: str) -> Template:
    """Validate one template (already parsed YAML/JSON). Raises TemplateError naming ``source``."""
    if not isinstance(raw, Mapping):
        raise TemplateError(source, [f"expected a mapping at the top level, got {type(raw).__name__}"])
    try:
        return Template.model_validate(raw)
    except ValidationError as exc:
        problems = []
        for err in exc.errors(include_url=False):
            msg = err["msg"].removeprefix("Value error, ")
            problems.append(f"{_where(tuple(err['loc']), raw)}: {msg}")
        raise TemplateError(source, problems) from None


def load_template(path: Path | str) -> Template:
    path = Path(path)
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise TemplateError(str(path), [f"cannot read: {exc}"]) from exc
    return parse_template(raw, str(path))
