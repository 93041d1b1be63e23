"""Base classes and the data-category annotation every payload field carries."""
from dataclasses import dataclass
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, Field

from contracts.categories import DataCategory

CATEGORY_KEY = "x-data-category"

M = TypeVar("M", bound=BaseModel)


class Contract(BaseModel):
    """A message as its producer builds it: unknown fields are an error."""

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


def read_message(model: type[M], data: bytes | str) -> M:
    """Parse a message as a consumer: unknown fields (from newer producers) are ignored."""
    return model.model_validate_json(data, extra="ignore")


def categorised(category: DataCategory, default: Any = ..., **kwargs: Any) -> Any:
    """A payload field that carries personal data of ``category``.

    The category lives in the model (and its JSON Schema), so the gate reads it from the
    contract; a sender never gets to say which categories a message contains.
    """
    extra = dict(kwargs.pop("json_schema_extra", None) or {})
    extra[CATEGORY_KEY] = category.value
    return Field(default, json_schema_extra=extra, **kwargs)


def field_category(model: type[BaseModel], name: str) -> DataCategory | None:
    extra = model.model_fields[name].json_schema_extra
    if isinstance(extra, dict) and CATEGORY_KEY in extra:
        return DataCategory(extra[CATEGORY_KEY])
    return None


CE_TYPE_PREFIX = "de.nrw.kim."


@dataclass(frozen=True)
class ContractInfo:
    """A contract's one registration: its CloudEvents type, model and committed JSON Schema file."""

    ce_type: str  # CloudEvents ``type``
    model: type[BaseModel]
    schema_name: str  # file name in contracts/schemas/

    @property
    def message_type(self) -> str:
        """The short name a transfer carries for its payload (``referral.v1``)."""
        return self.ce_type.removeprefix(CE_TYPE_PREFIX)
