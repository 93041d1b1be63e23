"""Transfer contracts: the referral payload and the messages of a transfer's life."""
from datetime import date
from enum import StrEnum
from typing import Literal

from pydantic import AwareDatetime, BaseModel, Field

from contracts.agency import MUNICIPALITY_PATTERN, OFFICE_ID_PATTERN
from contracts.base import Contract, categorised
from contracts.categories import DataCategory as C
from contracts.consent import PERSON_PATTERN, SHA256_PATTERN, RecipientSpec
from contracts.purposes import Purpose


class Urgency(StrEnum):
    NORMAL = "normal"
    HOCH = "hoch"
    DRINGEND = "dringend"


class PersonDetails(Contract):
    given_name: str | None = Field(None, max_length=200)
    family_name: str | None = Field(None, max_length=200)
    date_of_birth: date | None = None
    address: str | None = Field(None, max_length=500)
    phone: str | None = Field(None, max_length=50)
    email: str | None = Field(None, max_length=200)
    family_status: str | None = Field(None, max_length=100)
    education: str | None = Field(None, max_length=1000)


class SocialSituation(Contract):
    housing: str | None = Field(None, max_length=1000)
    benefits: str | None = Field(None, max_length=1000)
    work_permit: str | None = Field(None, max_length=1000)


class DocumentRef(Contract):
    title: str = Field(min_length=1, max_length=200)
    media_type: Literal["application/pdf", "image/jpeg", "image/png"]
    sha256: str = Field(pattern=SHA256_PATTERN)


class ReferralV1(Contract):
    """Überleitung: one office hands a person's concern to another.

    Every field declares the data category it carries. Required fields must be covered by
    consent; optional fields that are not covered are removed before delivery.
    """

    reason: str = categorised(C.FALLDATEN, min_length=1, max_length=4000, description="Anlass der Überleitung")
    requested_action: str = categorised(C.FALLDATEN, min_length=1, max_length=4000, description="Erbetene Handlung")
    urgency: Urgency = categorised(C.FALLDATEN, Urgency.NORMAL, description="Dringlichkeit")
    reply_to: str | None = categorised(C.FALLDATEN, None, pattern=OFFICE_ID_PATTERN, description="Antwort an (Stelle)")
    person: PersonDetails | None = categorised(C.STAMMDATEN, None, description="Stammdaten der Person")
    social_situation: SocialSituation | None = categorised(C.SOZIALDATEN, None, description="Sozialdaten")
    health_notes: str | None = categorised(
        C.BESONDERE_KATEGORIEN, None, max_length=4000, description="Gesundheit, Behinderung, Förderbedarf (Art. 9 DSGVO)"
    )
    case_notes: str | None = categorised(C.FALLDATEN, None, max_length=8000, description="Beratungsverlauf")
    documents: list[DocumentRef] | None = categorised(C.DOKUMENTE, None, max_length=50, description="Unterlagen")
    in_reply_to: str | None = categorised(C.FALLDATEN, None, max_length=40,
                                          description="Antwort auf eine Nachforderung (Übermittlung)")


MessageType = Literal[
    "referral.v1", "prechecked-referral.v1", "notice.einbuergerung.v1",
    "feedback.nachforderung.v1", "feedback.termin.v1", "feedback.sachstand.v1", "feedback.ergebnis.v1",
    "feedback.nicht-zustaendig.v1",
]


class TransferStatus(StrEnum):
    REQUESTED = "requested"
    DELIVERED = "delivered"
    RECEIVED = "received"
    REFUSED = "refused"
    WITHHELD = "withheld"


class Decision(StrEnum):
    DELIVERED = "delivered"
    REFUSED = "refused"
    WITHHELD = "withheld"


class TransferRequestedV1(Contract):
    """On ``kim.transfer.requested.v1``: accepted at request time, awaiting the gate."""

    transfer_id: str
    message_type: MessageType
    sender_office: str = Field(pattern=OFFICE_ID_PATTERN)
    sender_user: str
    person: str = Field(pattern=PERSON_PATTERN)
    municipality: str = Field(pattern=MUNICIPALITY_PATTERN)
    recipient: RecipientSpec
    recipient_office: str = Field(pattern=OFFICE_ID_PATTERN)
    purpose: Purpose
    payload: dict
    requested_at: AwareDatetime
    legal_basis: str | None = None  # set for statutory routes; consent otherwise


class OfficeDeliveryV1(Contract):
    """On ``agency.<office>.inbox.v1``: the minimised message for the recipient office."""

    transfer_id: str
    message_type: MessageType
    sender_office: str = Field(pattern=OFFICE_ID_PATTERN)
    recipient_office: str = Field(pattern=OFFICE_ID_PATTERN)
    person: str = Field(pattern=PERSON_PATTERN)
    purpose: Purpose
    payload: dict
    categories: list[C]
    removed_categories: list[C]
    consent_id: str | None
    consent_version: int | None
    legal_basis: str
    delivered_at: AwareDatetime


class ReceiptV1(Contract):
    """On ``kim.feedback.v1``: the recipient office confirms receipt (Eingangsbestätigung)."""

    transfer_id: str
    office: str = Field(pattern=OFFICE_ID_PATTERN)
    received_by: str
    received_at: AwareDatetime


class ReasonV1(Contract):
    code: str
    message: str
    detail: dict = {}


class RefusalV1(Contract):
    """On ``kim.feedback.v1``: a transfer was refused (request time) or withheld (delivery time)."""

    transfer_id: str
    decision: Literal["refused", "withheld"]
    reasons: list[ReasonV1]
    decided_at: AwareDatetime

