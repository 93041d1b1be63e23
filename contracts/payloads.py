"""Message type -> payload contract: every kind of content a transfer can carry."""
from pydantic import BaseModel

from contracts.checklist import PrecheckedReferralV1
from contracts.feedback import FEEDBACK_CONTRACTS
from contracts.notice import EinbuergerungsmitteilungV1
from contracts.transfer import ReferralV1

PAYLOAD_CONTRACTS: dict[str, type[BaseModel]] = {
    "referral.v1": ReferralV1,
    "prechecked-referral.v1": PrecheckedReferralV1,
    "notice.einbuergerung.v1": EinbuergerungsmitteilungV1,
    **FEEDBACK_CONTRACTS,
}
