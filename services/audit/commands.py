"""What the data-protection officer asks of the audit context (validated at the HTTP edge)."""
from typing import Literal

from pydantic import ConfigDict, Field

from contracts.base import Contract
from contracts.consent import PERSON_PATTERN


class AddCosignature(Contract):
    """A cosigner's signature on the hub's checkpoint of ``size`` (the note as the cosigner signed it)."""

    model_config = ConfigDict(str_strip_whitespace=False)  # a signed note is byte-exact

    size: int
    note: str = Field(max_length=20_000)


class ReportAccess(Contract):
    """The Art. 15 access report about one person, proven against a checkpoint signed now."""

    person: str = Field(pattern=PERSON_PATTERN)
    format: Literal["json", "html", "pdf"] = "json"
    pdf_link: str | None = None  # html: where the page links to the same report as a PDF
