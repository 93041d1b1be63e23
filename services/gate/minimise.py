"""Which categories a payload carries, read from its contract, and how to drop what is not covered.

Pure functions. The sender never says which categories a message contains: each field of the
payload contract declares its category, and only the fields actually present count: those the
sender set (``model_fields_set``) and not null. A default the sender never sent (``urgency``) is
neither sent nor named as an uncovered field.
"""
from __future__ import annotations

from dataclasses import dataclass

from pydantic import BaseModel

from contracts.base import field_category


@dataclass(frozen=True)
class PayloadCategories:
    required: dict[str, tuple[str, ...]]  # category -> required fields present
    optional: dict[str, tuple[str, ...]]  # category -> optional fields present

    @property
    def required_set(self) -> frozenset[str]:
        return frozenset(self.required)

    @property
    def optional_set(self) -> frozenset[str]:
        """Categories carried only by optional fields (those can be removed)."""
        return frozenset(self.optional) - frozenset(self.required)


def payload_categories(payload: BaseModel) -> PayloadCategories:
    model = type(payload)
    required: dict[str, list[str]] = {}
    optional: dict[str, list[str]] = {}
    for name, info in model.model_fields.items():
        if name not in payload.model_fields_set or getattr(payload, name) is None:
            continue
        category = field_category(model, name)
        if category is None:  # a contract test guarantees this never happens
            raise ValueError(f"{model.__name__}.{name} declares no data category")
        (required if info.is_required() else optional).setdefault(category.value, []).append(name)
    return PayloadCategories(
        {c: tuple(f) for c, f in required.items()}, {c: tuple(f) for c, f in optional.items()}
    )


def minimise(payload: BaseModel, remove: frozenset[str]) -> dict:
    """The payload as JSON data: the fields present, without the optional fields of the removed categories."""
    cats = payload_categories(payload)
    dropped = {f for c in remove for f in cats.optional.get(c, ())}
    present = {f for group in (cats.required, cats.optional) for names in group.values() for f in names}
    return payload.model_dump(mode="json", include=present - dropped, exclude_none=True)


def without(cats: PayloadCategories, removed: frozenset[str] | set[str]) -> PayloadCategories:
    """The fields still sent once the optional fields of ``removed`` are gone."""
    return PayloadCategories(dict(cats.required), {c: f for c, f in cats.optional.items() if c not in removed})


def split_by_category(data: dict, cats: PayloadCategories) -> dict[str, dict]:
    """The payload's JSON data as one part per category: the parts are sealed one by one, so the gate
    can drop a category at delivery time without opening anything."""
    owner = {f: c for group in (cats.required, cats.optional) for c, names in group.items() for f in names}
    parts: dict[str, dict] = {}
    for name, value in data.items():
        parts.setdefault(owner[name], {})[name] = value
    return parts
