"""What a case manager or a clerk asks the gate to do (validated at the HTTP edge)."""
from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel, Field

from contracts.agency import MUNICIPALITY_PATTERN
from contracts.base import Contract
from contracts.consent import PERSON_PATTERN, RecipientSpec
from contracts.notice import EinbuergerungsmitteilungV1
from contracts.purposes import Purpose
from contracts.rectification import RectificationV1
from contracts.referral import ReferralV1


class SendTransfer(Contract):
    """Send a message about one person. There is deliberately no field for data categories:
    the gate derives them from the payload contract."""

    person: str = Field(pattern=PERSON_PATTERN, description="Pseudonym der Person")
    municipality: str = Field(pattern=MUNICIPALITY_PATTERN, description="AGS des Wohnorts der Person")
    recipient: RecipientSpec
    purpose: Purpose
    message_type: Literal["referral.v1"] = "referral.v1"
    payload: ReferralV1
    precheck_id: str | None = Field(None, pattern=r"^pc-[0-9a-f]{32}$",
                                    description="Vorprüfung, deren Checkliste mitgeschickt wird")


@dataclass(frozen=True)
class Reply:
    """The receiving office answers a transfer it received (``payload``: a feedback contract)."""

    in_reply_to: str
    message_type: str
    payload: BaseModel


@dataclass(frozen=True)
class SendNaturalisationNotice:
    """The naturalisation office informs the competent immigration office (statutory route)."""

    person: str
    municipality: str
    payload: EinbuergerungsmitteilungV1


@dataclass(frozen=True)
class SendRectification:
    """Art. 16 DSGVO: the sending office corrects a transfer it sent and that was delivered
    (``payload.corrects``), to the office that received it."""

    payload: RectificationV1
