"""Every published message contract: CloudEvents type -> model and committed JSON Schema file.

This is the one list the schema export, the compatibility check and the producers share: the
messages on the topics below, and the payloads a transfer carries (``contracts/payloads.py``).
Adding a contract to one of the two (and running ``make schemas``: ``python -m contracts.export``,
then ``python -m services.asyncapi`` for the AsyncAPI document, which names its topic) publishes it.
"""
from pydantic import BaseModel

from contracts.audit import CheckpointV1
from contracts.base import ContractInfo
from contracts.consent import ConsentRevokedV1, ConsentVersionV1
from contracts.payloads import PAYLOADS
from contracts.revocation import RevocationConfirmationV1, RevocationNoticeV1
from contracts.transfer import DeliveryRejectedV1, OfficeDeliveryV2, ReceiptV1, RefusalV1, TransferRequestedV2

# Where the schema files live, relative to the repository root.
SCHEMA_DIR = "contracts/schemas/"
# CloudEvents ``dataschema`` must be an absolute URI: a URN naming the committed schema file.
SCHEMA_URN = "urn:kimhub:schema:"


CONTRACTS: tuple[ContractInfo, ...] = (
    ContractInfo("de.nrw.kim.consent.version.v1", ConsentVersionV1, "consent-version.v1.json"),
    ContractInfo("de.nrw.kim.consent.revoked.v1", ConsentRevokedV1, "consent-revoked.v1.json"),
    ContractInfo("de.nrw.kim.transfer.requested.v2", TransferRequestedV2, "transfer-requested.v2.json"),
    ContractInfo("de.nrw.kim.transfer.delivery.v2", OfficeDeliveryV2, "transfer-delivery.v2.json"),
    ContractInfo("de.nrw.kim.transfer.receipt.v1", ReceiptV1, "transfer-receipt.v1.json"),
    ContractInfo("de.nrw.kim.transfer.refusal.v1", RefusalV1, "transfer-refusal.v1.json"),
    ContractInfo("de.nrw.kim.transfer.rejected.v1", DeliveryRejectedV1, "transfer-rejected.v1.json"),
    ContractInfo("de.nrw.kim.audit.checkpoint.v1", CheckpointV1, "audit-checkpoint.v1.json"),
    ContractInfo("de.nrw.kim.revocation.notice.v1", RevocationNoticeV1, "revocation-notice.v1.json"),
    ContractInfo("de.nrw.kim.revocation.confirmation.v1", RevocationConfirmationV1,
                 "revocation-confirmation.v1.json"),
    *PAYLOADS,
)

_BY_TYPE = {info.ce_type: info for info in CONTRACTS}
_BY_MODEL = {info.model: info for info in CONTRACTS}
if not len(_BY_TYPE) == len(_BY_MODEL) == len({i.schema_name for i in CONTRACTS}) == len(CONTRACTS):
    raise RuntimeError("contract registry: duplicate CloudEvents type, model or schema file name")


def by_type(ce_type: str) -> ContractInfo:
    """The contract of a CloudEvents type; ``KeyError`` for a type nobody publishes."""
    try:
        return _BY_TYPE[ce_type]
    except KeyError:
        raise KeyError(f"no published contract for CloudEvents type {ce_type!r}") from None


def by_model(model: type[BaseModel]) -> ContractInfo:
    """The registration of a contract model; ``KeyError`` if the model is not published."""
    try:
        return _BY_MODEL[model]
    except KeyError:
        raise KeyError(f"{model.__name__} is not a published contract") from None


def dataschema_uri(info: ContractInfo) -> str:
    """The CloudEvents ``dataschema`` value, e.g. ``urn:kimhub:schema:referral.v1.json``
    (the file of that name in ``contracts/schemas/``)."""
    return SCHEMA_URN + info.schema_name
