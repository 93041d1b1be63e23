"""Revocation followed up (issue 17): a notice to every office that received data under a consent
version that was revoked or narrowed since, and the office's confirmation back to the hub.

Neither carries personal data: the person appears as the hub's pseudonym, what is no longer
covered as category and purpose codes, the office's legal basis as a statute reference.
"""
from enum import StrEnum

from pydantic import AwareDatetime, Field, model_validator
from pydantic_core import PydanticCustomError

from contracts.agency import OFFICE_ID_PATTERN
from contracts.base import Contract
from contracts.categories import DataCategory
from contracts.consent import PERSON_PATTERN
from contracts.purposes import Purpose

NOTICE_ID_PATTERN = r"^n-[0-9a-f]{32}$"


class ConsentChange(StrEnum):
    REVOKED = "revoked"  # the consent covers nothing any more
    NARROWED = "narrowed"  # amended to cover less: some categories (or the purpose, or the office) fell out


class AffectedTransfer(Contract):
    """One transfer the office received under the consent, and what of it is no longer covered."""

    transfer_id: str = Field(min_length=3, max_length=40)
    consent_version: int = Field(ge=1, description="the version it was delivered under")
    purpose: Purpose
    categories: list[DataCategory] = Field(min_length=1, description="categories no longer covered")


class RevocationNoticeV1(Contract):
    """On ``agency.<office>.inbox.v1``: the hub tells an office that data it received under a consent
    is no longer covered. The office reads it no more unless it names a legal basis to keep it, and
    confirms deletion or that basis (``RevocationConfirmationV1``). Signed by the hub like a delivery."""

    notice_id: str = Field(pattern=NOTICE_ID_PATTERN)
    consent_id: str = Field(min_length=3, max_length=40)
    consent_version: int = Field(ge=1, description="the latest version before the change")
    change: ConsentChange
    new_version: int | None = Field(None, ge=2, description="the narrowing version (only when narrowed)")
    office: str = Field(pattern=OFFICE_ID_PATTERN, description="the office notified")
    sender_office: str = Field(pattern=OFFICE_ID_PATTERN, description="the office that recorded the consent")
    person: str = Field(pattern=PERSON_PATTERN)
    transfers: list[AffectedTransfer] = Field(min_length=1)
    issued_at: AwareDatetime
    signature: str = Field(description="the hub's detached JWS (Ed25519) over the notice without it")


class ConfirmationOutcome(StrEnum):
    DELETED = "deleted"
    KEPT = "kept"  # kept on a legal basis the office names


class RevocationConfirmationV1(Contract):
    """On ``kim.feedback.v1``: the notified office confirms that it deleted what the notice names, or
    names the legal basis on which it keeps it."""

    notice_id: str = Field(pattern=NOTICE_ID_PATTERN)
    office: str = Field(pattern=OFFICE_ID_PATTERN)
    outcome: ConfirmationOutcome
    legal_basis: str | None = Field(None, min_length=3, max_length=300,
                                    description="statute reference, required when kept (e.g. § 86 AufenthG)")
    confirmed_by: str
    confirmed_at: AwareDatetime

    @model_validator(mode="after")
    def _basis_when_kept(self) -> "RevocationConfirmationV1":
        return basis_when_kept(self)


def basis_when_kept(answer):
    """A legal basis is named exactly when the office keeps what the notice names."""
    if (answer.outcome == ConfirmationOutcome.KEPT) != (answer.legal_basis is not None):
        # German: the text reaches the user as it is (gateway/validation_texts.py)
        raise PydanticCustomError("legal_basis_choice", "Beim Aufbewahren („kept“) die Rechtsgrundlage angeben, "
                                                        "beim Löschen („deleted“) keine.")
    return answer
