"""Consent contracts: provisions, evidence and the consent events on ``kim.consent.v1``."""
from enum import StrEnum
from typing import Literal

from datetime import datetime

from pydantic import AwareDatetime, Field, ValidationInfo, field_validator, model_validator
from pydantic_core import PydanticCustomError

from contracts.agency import MUNICIPALITY_PATTERN, OFFICE_ID_PATTERN, OfficeKind
from contracts.base import Contract
from contracts.categories import DataCategory
from contracts.purposes import Purpose

SHA256_PATTERN = r"^[0-9a-f]{64}$"
PERSON_PATTERN = r"^p-[0-9a-f]{32}$"


class RecipientSpec(Contract):
    """Either one specific office or every office of a kind competent for the person."""

    office: str | None = Field(None, pattern=OFFICE_ID_PATTERN)
    kind: OfficeKind | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> "RecipientSpec":
        if (self.office is None) == (self.kind is None):
            # German: the text reaches the user as it is (gateway/validation_texts.py)
            raise PydanticCustomError("recipient_choice", "Genau eines angeben: eine bestimmte Stelle („office“) "
                                                          "oder eine Art von Stelle („kind“).")
        return self


class Direction(StrEnum):
    OUTBOUND = "outbound"  # the recording office may send to ``recipient``
    INBOUND = "inbound"  # ``recipient`` may send back to the recording office (the way back)
    BOTH = "both"


class Provision(Contract):
    """One permission of a consent: between the recording office and this other office, for these
    purposes, these categories, in this direction."""

    recipient: RecipientSpec
    purposes: list[Purpose] = Field(min_length=1)
    categories: list[DataCategory] = Field(min_length=1)
    direction: Direction = Direction.OUTBOUND


class Evidence(Contract):
    """Proof of the signed form; the scan itself stays with the case-management office."""

    form_sha256: str = Field(pattern=SHA256_PATTERN, description="SHA-256 of the scanned signed form, hex")
    form_version: str = Field(min_length=1, max_length=50)
    language: str = Field(pattern=r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})?$", description="BCP 47 tag it was explained in")

    @field_validator("form_version", mode="before")
    @classmethod
    def _no_surrounding_whitespace(cls, value):
        """A form's version is a name: surrounding whitespace means nothing (FHIR drops it too)."""
        return value.strip() if isinstance(value, str) else value


class ConsentTerms(Contract):
    """What a person agreed to: the part a case manager enters, shared by grant and amendment."""

    municipality: str = Field(pattern=MUNICIPALITY_PATTERN, description="AGS of the person's residence")
    provisions: list[Provision] = Field(min_length=1, max_length=50)
    valid_from: AwareDatetime
    valid_until: AwareDatetime | None = None
    evidence: Evidence

    @field_validator("valid_until")
    @classmethod
    def _period(cls, valid_until: datetime | None, info: ValidationInfo) -> datetime | None:
        valid_from = info.data.get("valid_from")  # absent when valid_from itself was invalid
        if valid_until is not None and valid_from is not None and valid_until <= valid_from:
            raise PydanticCustomError("consent_period", "Muss nach dem Beginn der Gültigkeit liegen.")
        return valid_until


class RevocationMethod(StrEnum):
    WRITTEN = "schriftlich"
    ORAL = "muendlich"
    ELECTRONIC = "elektronisch"


class ConsentVersionV1(Contract):
    """One version of a consent, as published on ``kim.consent.v1``."""

    event: Literal["granted", "amended"]
    consent_id: str
    version: int = Field(ge=1)
    person: str = Field(pattern=PERSON_PATTERN)
    terms: ConsentTerms
    recorded_by: str
    recorded_office: str = Field(pattern=OFFICE_ID_PATTERN)
    recorded_at: AwareDatetime


class ConsentRevokedV1(Contract):
    event: Literal["revoked"]
    consent_id: str
    person: str = Field(pattern=PERSON_PATTERN)
    revoked_at: AwareDatetime
    revoked_by: str
    method: RevocationMethod
