"""What a clerk asks of the office inbox (validated at the HTTP edge)."""
from pydantic import Field, model_validator

from contracts.base import Contract
from contracts.revocation import ConfirmationOutcome, basis_when_kept


class ConfirmReceipt(Contract):
    transfer_id: str


class NoticeAnswer(Contract):
    """The office's answer to a revocation notice: deleted, or kept on the legal basis it names."""

    outcome: ConfirmationOutcome
    legal_basis: str | None = Field(None, min_length=3, max_length=300,
                                    description="Rechtsgrundlage zum Aufbewahren, z. B. § 86 AufenthG")

    @model_validator(mode="after")
    def _basis_when_kept(self) -> "NoticeAnswer":
        return basis_when_kept(self)


class ConfirmNotice(NoticeAnswer):
    notice_id: str
