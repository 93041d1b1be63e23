"""Transfer contracts: the messages of a transfer's life (its payload is one of contracts/payloads.py)."""
from enum import StrEnum
from typing import Literal

from pydantic import AwareDatetime, Field

from contracts.agency import MUNICIPALITY_PATTERN, OFFICE_ID_PATTERN
from contracts.base import Contract
from contracts.categories import DataCategory as C
from contracts.consent import PERSON_PATTERN, SHA256_PATTERN, RecipientSpec
from contracts.payloads import PAYLOAD_CONTRACTS
from contracts.purposes import Purpose


# Derived from the payload contracts (contracts/payloads.py): declared there once.
MessageType = Literal[tuple(PAYLOAD_CONTRACTS)]  # type: ignore[valid-type]


class TransferStatus(StrEnum):
    REQUESTED = "requested"
    DELIVERED = "delivered"
    RECEIVED = "received"
    REFUSED = "refused"
    WITHHELD = "withheld"
    REJECTED = "rejected"  # the recipient office did not store it: the delivery failed its checks


class Decision(StrEnum):
    DELIVERED = "delivered"
    REFUSED = "refused"
    WITHHELD = "withheld"
    RECEIVED = "received"  # a receipt: the office names the digest of what it stored


class ReceiptV1(Contract):
    """On ``kim.feedback.v1``: the recipient office confirms receipt (Eingangsbestätigung)."""

    transfer_id: str
    office: str = Field(pattern=OFFICE_ID_PATTERN)
    received_by: str
    received_at: AwareDatetime
    payload_sha256: str | None = Field(None, pattern=SHA256_PATTERN,
                                       description="digest of the sealed payload as the office stored it")


class DeliveryRejectedV1(Contract):
    """On ``kim.feedback.v1``: the recipient office's side did not store a delivery (its signature did
    not verify, so its metadata or a sealed part was changed); the gate tells the sender why."""

    transfer_id: str
    office: str = Field(pattern=OFFICE_ID_PATTERN)
    reason: Literal["signature_invalid"]
    rejected_at: AwareDatetime


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



class PayloadFieldsV1(Contract):
    """Which fields of the payload were sent, by data category: names only, never values. The gate
    decides from this at delivery time without opening the sealed payload."""

    required: dict[C, list[str]] = {}
    optional: dict[C, list[str]] = {}


class SealedPayloadV1(Contract):
    """A payload sealed for its recipient office: one part per data category, each a compact JWE
    (``RSA-OAEP-256``/``A256GCM`` to the office's key) over a JWE under the person's key
    (``dir``/``A256GCM``), so the gate can drop a category without opening anything."""

    fields: PayloadFieldsV1
    parts: dict[C, str]
    documents: dict[str, str] = {}  # sha256 of a document → its sealed copy's digest (the copy: table transfer_documents)


class TransferRequestedV2(Contract):
    """On ``kim.transfer.requested.v1``: accepted at request time, awaiting the gate. Unlike v1 it
    carries no readable payload: only what the consent covered, sealed for the recipient office."""

    transfer_id: str
    message_type: MessageType
    sender_office: str = Field(pattern=OFFICE_ID_PATTERN)
    sender_user: str
    person: str = Field(pattern=PERSON_PATTERN)
    municipality: str = Field(pattern=MUNICIPALITY_PATTERN)
    recipient: RecipientSpec
    recipient_office: str = Field(pattern=OFFICE_ID_PATTERN)
    purpose: Purpose
    sealed: SealedPayloadV1
    removed_categories: list[C] = []  # removed at request time (the delivery may remove more)
    requested_at: AwareDatetime
    legal_basis: str | None = None  # set for statutory routes; consent otherwise


class OfficeDeliveryV2(Contract):
    """On ``agency.<office>.inbox.v1``: the sealed, minimised message for the recipient office and
    the hub's signature (JWS, EdDSA) over its metadata and the digest of each sealed part."""

    transfer_id: str
    message_type: MessageType
    sender_office: str = Field(pattern=OFFICE_ID_PATTERN)
    recipient_office: str = Field(pattern=OFFICE_ID_PATTERN)
    person: str = Field(pattern=PERSON_PATTERN)
    purpose: Purpose
    sealed: SealedPayloadV1
    categories: list[C]
    removed_categories: list[C]
    consent_id: str | None
    consent_version: int | None
    legal_basis: str
    delivered_at: AwareDatetime
    signature: str
