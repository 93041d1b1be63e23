"""A small, safe condition language for ``applies_if`` (data, never ``eval``).

YAML forms::

    {fact: family_status, equals: verheiratet}
    {fact: family_status, not_equals: ledig}
    {fact: family_status, in: [verheiratet, lebenspartnerschaft]}
    {fact: age, at_least: 16}          # >=
    {fact: age, at_most: 26}           # <=
    {fact: age, less_than: 27}         # <
    {all_of: [<condition>, ...]}
    {any_of: [<condition>, ...]}
    {not: <condition>}

A fact condition has exactly one operator. The fact must be in ``facts.FACTS`` and the value must
fit the fact's type (a bool for yes/no facts, a whole number for ``age``, a date for dates, a listed
value for ``family_status``...). Ordering operators only work on numbers and dates.

Evaluation is three-valued (Kleene): a condition on an unknown fact is ``None`` (undetermined);
``all_of`` is False if any part is False, ``any_of`` is True if any part is True, else None if any
part is undetermined; ``not`` keeps None.
"""
from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import Annotated, Any, Union

from pydantic_core import PydanticCustomError
from pydantic import ConfigDict, Discriminator, Field, Tag, model_serializer, model_validator

from contracts.base import Contract
from services.checklists.facts import FACTS, coerce_fact_value, format_value

TAG_PREFIX = "cond:"  # discriminator tags; they appear in error locations and are dropped when reporting


class Operator(StrEnum):
    EQUALS = "equals"
    NOT_EQUALS = "not_equals"
    IN = "in"
    AT_LEAST = "at_least"
    AT_MOST = "at_most"
    LESS_THAN = "less_than"


_ORDERED_OPS = {Operator.AT_LEAST, Operator.AT_MOST, Operator.LESS_THAN}


class FactCondition(Contract):
    fact: str
    op: Operator
    value: Any

    @model_validator(mode="before")
    @classmethod
    def _from_yaml_form(cls, data: Any) -> Any:
        if not isinstance(data, Mapping):
            raise _invalid("Eine Bedingung ist ein Objekt wie {example}.", example="{fact: age, at_least: 16}")
        if "op" in data and "value" in data:  # the internal form, e.g. FactCondition(fact=..., op=..., value=...)
            data = {"fact": data.get("fact"), data["op"]: data["value"], **{
                k: v for k, v in data.items() if k not in ("fact", "op", "value")}}
        fact = data.get("fact")
        if not isinstance(fact, str):
            raise _invalid("„fact“ muss eine Angabe zum Fall nennen.")
        spec = FACTS.get(fact)
        if spec is None:
            raise _invalid("Unbekannte Angabe zum Fall „{fact}“ (bekannt: {known}).", fact=fact, known=", ".join(FACTS))
        ops = [k for k in data if k != "fact"]
        unknown = [k for k in ops if k not in Operator._value2member_map_]
        if unknown:
            raise _invalid("Unbekannter Operator {ops} (erlaubt: {allowed}, oder all_of/any_of/not).",
                           ops=", ".join(map(repr, unknown)), allowed=", ".join(o.value for o in Operator))
        if len(ops) != 1:
            raise _invalid("Eine Bedingung braucht genau einen Operator, hier sind es {n}: {ops}.", n=len(ops), ops=str(ops))
        op = Operator(ops[0])
        raw = data[op.value]
        if op in _ORDERED_OPS and not spec.ordered:
            raise _invalid("Der Operator „{op}“ braucht eine Angabe mit Zahl oder Datum; „{fact}“ ist {kind}.",
                           op=op.value, fact=fact, kind=str(spec.kind))
        if op is Operator.IN:
            if not isinstance(raw, (list, tuple)) or not raw:
                raise _invalid("Der Operator „in“ braucht eine nicht leere Liste von Werten.")
            value: Any = tuple(coerce_fact_value(spec, v) for v in raw)
        else:
            value = coerce_fact_value(spec, raw)
        return {"fact": fact, "op": op, "value": value}

    @model_serializer
    def _to_yaml_form(self) -> dict[str, Any]:
        value = list(self.value) if self.op is Operator.IN else self.value
        return {"fact": self.fact, self.op.value: value}


class AllOf(Contract):
    all_of: list[Condition] = Field(min_length=1)


class AnyOf(Contract):
    any_of: list[Condition] = Field(min_length=1)


class Not(Contract):
    model_config = ConfigDict(**Contract.model_config, validate_by_name=True, validate_by_alias=True,
                              serialize_by_alias=True)

    not_: Condition = Field(alias="not")


def _invalid(message: str, **context) -> PydanticCustomError:
    """A condition's problem in German: the text reaches the admin who publishes a template."""
    return PydanticCustomError("condition_invalid", message, context)


_TAGS: dict[type, str] = {FactCondition: "fact", AllOf: "all_of", AnyOf: "any_of", Not: "not"}


def _tag(value: Any) -> str | None:
    if isinstance(value, Mapping):
        for key in ("all_of", "any_of", "not"):
            if key in value:
                return TAG_PREFIX + key
        return TAG_PREFIX + "fact"  # FactCondition reports what is wrong with it
    name = _TAGS.get(type(value))
    return TAG_PREFIX + name if name else None


Condition = Annotated[
    Union[
        Annotated[FactCondition, Tag(TAG_PREFIX + "fact")],
        Annotated[AllOf, Tag(TAG_PREFIX + "all_of")],
        Annotated[AnyOf, Tag(TAG_PREFIX + "any_of")],
        Annotated[Not, Tag(TAG_PREFIX + "not")],
    ],
    Discriminator(
        _tag,
        custom_error_type="invalid_condition",
        custom_error_message="Eine Bedingung ist ein Objekt: {fact: …, <Operator>: …}, all_of, any_of oder not.",
    ),
]

AllOf.model_rebuild()
AnyOf.model_rebuild()
Not.model_rebuild()

AnyCondition = FactCondition | AllOf | AnyOf | Not


def evaluate(cond: AnyCondition, values: Mapping[str, Any]) -> bool | None:
    """True / False, or None when it depends on an unknown fact."""
    if isinstance(cond, FactCondition):
        v = values.get(cond.fact)
        if v is None:
            return None
        match cond.op:
            case Operator.EQUALS:
                return v == cond.value
            case Operator.NOT_EQUALS:
                return v != cond.value
            case Operator.IN:
                return v in cond.value
            case Operator.AT_LEAST:
                return v >= cond.value
            case Operator.AT_MOST:
                return v <= cond.value
            case Operator.LESS_THAN:
                return v < cond.value
    if isinstance(cond, AllOf):
        results = [evaluate(c, values) for c in cond.all_of]
        if False in results:
            return False
        return None if None in results else True
    if isinstance(cond, AnyOf):
        results = [evaluate(c, values) for c in cond.any_of]
        if True in results:
            return True
        return None if None in results else False
    if isinstance(cond, Not):
        r = evaluate(cond.not_, values)
        return None if r is None else not r
    raise TypeError(f"not a condition: {cond!r}")


def referenced_facts(cond: AnyCondition) -> list[str]:
    """Fact names the condition refers to, in order of first appearance."""
    out: list[str] = []

    def walk(c: AnyCondition) -> None:
        if isinstance(c, FactCondition):
            if c.fact not in out:
                out.append(c.fact)
        elif isinstance(c, AllOf):
            for p in c.all_of:
                walk(p)
        elif isinstance(c, AnyOf):
            for p in c.any_of:
                walk(p)
        elif isinstance(c, Not):
            walk(c.not_)

    walk(cond)
    return out


def describe(cond: AnyCondition) -> str:
    """The condition in German, e.g. ``Familienstand: verheiratet``."""
    if isinstance(cond, FactCondition):
        spec = FACTS[cond.fact]
        label = spec.label
        is_date = spec.kind == "date"
        match cond.op:
            case Operator.EQUALS:
                return f"{label}: {format_value(cond.value)}"
            case Operator.NOT_EQUALS:
                return f"{label}: nicht {format_value(cond.value)}"
            case Operator.IN:
                return f"{label}: {' oder '.join(format_value(v) for v in cond.value)}"
            case Operator.AT_LEAST:
                return f"{label}: {'frühestens' if is_date else 'mindestens'} {format_value(cond.value)}"
            case Operator.AT_MOST:
                return f"{label}: {'spätestens' if is_date else 'höchstens'} {format_value(cond.value)}"
            case Operator.LESS_THAN:
                return f"{label}: {'vor dem' if is_date else 'unter'} {format_value(cond.value)}"
    if isinstance(cond, AllOf):
        return " und ".join(_group(c) for c in cond.all_of)
    if isinstance(cond, AnyOf):
        return " oder ".join(_group(c) for c in cond.any_of)
    if isinstance(cond, Not):
        return f"nicht ({describe(cond.not_)})"
    raise TypeError(f"not a condition: {cond!r}")


def _group(c: AnyCondition) -> str:
    text = describe(c)
    return f"({text})" if isinstance(c, (AllOf, AnyOf)) else text
