"""What an office asks of the checklists context (validated at the HTTP edge)."""
from datetime import date

from pydantic import ConfigDict, Field

from contracts.base import Contract


class PublishTemplate(Contract):
    """A new version of a template, as the owning office's admin sent it (checked by the handler)."""

    template: dict


class CreatePrecheck(Contract):
    person: str
    procedure: str
    facts: dict = Field(default_factory=dict)
    statuses: dict[str, dict] = Field(default_factory=dict, description="Status je Checklisten-Punkt")
    checked_on: date | None = Field(None, description="Stichtag; leer = heute")


class UploadDocument(Contract):
    model_config = ConfigDict(Contract.model_config, str_strip_whitespace=False)  # the title as given

    person: str
    title: str
    declared_type: str | None = Field(None, description="Content-Type der Anfrage")
    content: bytes
