"""The pre-checked referral: a referral that carries the snapshot of a document checklist."""
from datetime import date

from pydantic import Field

from contracts.base import Contract, categorised
from contracts.categories import DataCategory, DataCategory as C
from contracts.referral import ReferralV1


class ChecklistItemV1(Contract):
    item_id: str
    label: str
    legal_reference: str
    category: DataCategory
    status: str | None = Field(None, description="present | verified | missing | not_required")
    reason: str | None = None
    documents: list[str] = Field(default_factory=list, description="ids of attached documents")
    open: bool


class NotApplicableV1(Contract):
    item_id: str
    label: str
    reason: str


class ChecklistSnapshotV1(Contract):
    """The checklist as the case manager checked it, against one template version."""

    procedure: str
    version: int = Field(ge=1)
    title: str
    legal_basis: str
    checked_on: date
    complete: bool
    open_items: list[str]
    items: list[ChecklistItemV1]
    not_applicable: list[NotApplicableV1] = Field(default_factory=list)
    hints: list[str] = Field(default_factory=list, description="Hinweise, keine Entscheidung")
    disclaimer: str


class PrecheckedReferralV1(ReferralV1):
    """A referral with its checklist snapshot ("vorgeprüfter Fall")."""

    checklist: ChecklistSnapshotV1 = categorised(C.FALLDATEN, description="Vorprüfung der Unterlagen")
