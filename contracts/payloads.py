"""Every kind of content a transfer can carry, each declared once here.

A payload's message type (``referral.v1``) is its CloudEvents type without ``de.nrw.kim.``; the
``MessageType`` of the transfer messages, the gate's payload lookup, the offices' reply routes
(``feedback.*``) and the schema export all follow from this table
(``tests/contract/test_registry_agrees.py``).
"""
from pydantic import BaseModel

from contracts.base import ContractInfo
from contracts.checklist import PrecheckedReferralV1
from contracts.feedback import ErgebnisV1, NachforderungV1, NichtZustaendigV1, SachstandV1, TerminV1
from contracts.notice import EinbuergerungsmitteilungV1
from contracts.rectification import RectificationV1
from contracts.referral import ReferralV1

PAYLOADS: tuple[ContractInfo, ...] = (
    ContractInfo("de.nrw.kim.referral.v1", ReferralV1, "referral.v1.json"),
    ContractInfo("de.nrw.kim.prechecked-referral.v1", PrecheckedReferralV1, "prechecked-referral.v1.json"),
    ContractInfo("de.nrw.kim.notice.einbuergerung.v1", EinbuergerungsmitteilungV1, "notice-einbuergerung.v1.json"),
    ContractInfo("de.nrw.kim.feedback.nachforderung.v1", NachforderungV1, "feedback-nachforderung.v1.json"),
    ContractInfo("de.nrw.kim.feedback.termin.v1", TerminV1, "feedback-termin.v1.json"),
    ContractInfo("de.nrw.kim.feedback.sachstand.v1", SachstandV1, "feedback-sachstand.v1.json"),
    ContractInfo("de.nrw.kim.feedback.ergebnis.v1", ErgebnisV1, "feedback-ergebnis.v1.json"),
    ContractInfo("de.nrw.kim.feedback.nicht-zustaendig.v1", NichtZustaendigV1, "feedback-nicht-zustaendig.v1.json"),
    ContractInfo("de.nrw.kim.rectification.v1", RectificationV1, "rectification.v1.json"),  # Art. 16 DSGVO
)

PAYLOAD_CONTRACTS: dict[str, type[BaseModel]] = {info.message_type: info.model for info in PAYLOADS}
FEEDBACK_PREFIX = "feedback."
# The receiving office's replies, each with its route ``/inbox/{transfer_id}/replies/<kind>``.
FEEDBACK: dict[str, ContractInfo] = {info.message_type.split(".")[1]: info for info in PAYLOADS
                                     if info.message_type.startswith(FEEDBACK_PREFIX)}
