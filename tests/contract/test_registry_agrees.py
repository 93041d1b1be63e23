"""A message type is declared once (contracts/payloads.py, contracts/registry.py); everything that
names message types follows from that and agrees with it."""
import typing

from contracts.base import CE_TYPE_PREFIX
from contracts.payloads import FEEDBACK, PAYLOAD_CONTRACTS, PAYLOADS
from contracts.registry import CONTRACTS, by_model, by_type
from contracts.transfer import OfficeDeliveryV2, TransferRequestedV2
from gateway.routes import transfers
from services.gate import worker


def test_the_transfer_messages_name_exactly_the_registered_payloads():
    for message in (TransferRequestedV2, OfficeDeliveryV2):
        literal = message.model_fields["message_type"].annotation
        assert set(typing.get_args(literal)) == set(PAYLOAD_CONTRACTS)


def test_every_payload_is_a_published_contract_under_its_message_type():
    for info in PAYLOADS:
        assert info.ce_type == CE_TYPE_PREFIX + info.message_type
        assert by_type(info.ce_type) is info and by_model(info.model) is info
    assert set(PAYLOADS) <= set(CONTRACTS)


def test_the_gate_reads_each_payload_with_its_registered_contract():
    assert worker.PAYLOAD_CONTRACTS == {info.message_type: info.model for info in PAYLOADS}


def test_each_reply_kind_has_its_route_and_no_other_reply_route_exists():
    routes = {route.path for route in transfers.router.routes if "/replies/" in route.path}
    assert routes == {f"/inbox/{{transfer_id}}/replies/{kind}" for kind in FEEDBACK}
    assert {info.message_type for info in FEEDBACK.values()} == {t for t in PAYLOAD_CONTRACTS
                                                                if t.startswith("feedback.")}
