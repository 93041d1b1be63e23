"""The Berichtigung (Art. 16 DSGVO) form of the case manager's pages, as pure functions: which
transfers it corrects, which fields it asks for (those of the categories the original carried, read
from the contract), the rectification from the form, and German messages that name each field as the
form labels it (``gateway/field_labels.py``, as the API's route names the fields)."""
from __future__ import annotations

import typing
from collections.abc import Collection
from dataclasses import dataclass
from datetime import date

from pydantic import ValidationError
from pydantic.fields import FieldInfo

from contracts.base import field_category
from contracts.categories import DataCategory
from contracts.rectification import CORRECTED, RectificationV1
from contracts.referral import PersonDetails, SocialSituation
from gateway.field_labels import field_label
from gateway.validation_texts import german_text

ROUTE = "rectifications"  # the API route's last segment: its field labels
REFERRALS = ("referral.v1", "prechecked-referral.v1")  # what the rectification contract corrects
DELIVERED = ("delivered", "received")  # what the rectification handler accepts
NESTED = {"person": PersonDetails, "social_situation": SocialSituation}
LONG_TEXT = 2000  # a field allowing this many characters or more is a text area


@dataclass(frozen=True)
class FormField:
    """One corrected field: ``name`` is its path in the payload (``person.family_name``)."""

    name: str
    label: str
    category: DataCategory
    kind: str  # text | textarea | date
    max_length: int | None

    @property
    def id(self) -> str:
        return self.name.replace(".", "-")


def rectifiable(transfer: dict) -> bool:
    """Whether the case manager may correct ``transfer`` (a timeline event or a transfer's status): a
    referral the office sent and that was delivered."""
    return (transfer.get("direction", "sent") == "sent" and transfer.get("status") in DELIVERED
            and transfer.get("message_type") in REFERRALS)


def _form_field(path: str, info: FieldInfo, category: DataCategory) -> FormField:
    max_length = next((m.max_length for m in info.metadata if getattr(m, "max_length", None)), None)
    kind = ("date" if date in typing.get_args(info.annotation) else
            "textarea" if max_length and max_length >= LONG_TEXT else "text")
    return FormField(path, field_label(tuple(path.split(".")), ROUTE), category, kind, max_length)


def _all_fields() -> tuple[FormField, ...]:
    """Every field a rectification corrects, nested ones (Stammdaten, Sozialdaten) field by field."""
    out = []
    for name in CORRECTED:
        category = field_category(RectificationV1, name)
        inner = NESTED.get(name)
        if inner is None:
            out.append(_form_field(name, RectificationV1.model_fields[name], category))
        else:
            out += [_form_field(f"{name}.{sub}", info, category) for sub, info in inner.model_fields.items()]
    return tuple(out)


FIELDS = _all_fields()
EXPLANATION = _form_field("explanation", RectificationV1.model_fields["explanation"], DataCategory.FALLDATEN)


def offered(categories: Collection[str]) -> list[tuple[DataCategory, list[FormField]]]:
    """The fields the form asks for, by category: those of the categories the original transfer carried
    (a rectification corrects what was sent; it sends nothing new)."""
    groups: dict[DataCategory, list[FormField]] = {}
    for f in FIELDS:
        if f.category.value in categories:
            groups.setdefault(f.category, []).append(f)
    return list(groups.items())


def rectification_payload(form, corrects: str, categories: Collection[str]) -> dict:
    """The rectification as the form states it: the explanation and each offered field filled in (an
    empty field is not corrected; a field the form does not offer is ignored)."""
    payload: dict = {"corrects": corrects, "explanation": form.get("explanation") or ""}
    for _, fields in offered(categories):
        for f in fields:
            value = form.get(f.name)
            if not isinstance(value, str) or not value.strip():
                continue
            head, _, sub = f.name.partition(".")
            if sub:
                payload.setdefault(head, {})[sub] = value
            else:
                payload[head] = value
    return payload


def field_messages(exc: ValidationError) -> list[str]:
    """What is wrong, in German, each naming the field as the form labels it; an error of the whole
    rectification (nothing corrected) as it is."""
    out = [f"{field_label(e['loc'], ROUTE)}: {german_text(e)}" if e["loc"] else german_text(e)
           for e in exc.errors(include_url=False)]
    return list(dict.fromkeys(out))
