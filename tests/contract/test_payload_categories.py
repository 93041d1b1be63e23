"""Payload contracts: every field names its data category; producers strict, consumers tolerant."""
import json

import pytest
from pydantic import ValidationError

from contracts.base import CATEGORY_KEY, field_category, read_message
from contracts.categories import DataCategory
from contracts.payloads import PAYLOAD_CONTRACTS
from contracts.referral import ReferralV1

PAYLOADS = list(PAYLOAD_CONTRACTS.items())
REFERRAL = {"reason": "Beratung zur Einbürgerung", "requested_action": "Termin anbieten", "person": {"given_name": "A"}}


@pytest.mark.parametrize("name, model", PAYLOADS, ids=[name for name, _ in PAYLOADS])
def test_every_payload_field_declares_a_category(name, model):
    missing = [field for field in model.model_fields if field_category(model, field) is None]
    assert not missing, f"{name}: fields without categorised(...): {missing}"
    assert all(isinstance(field_category(model, f), DataCategory) for f in model.model_fields)


@pytest.mark.parametrize("name, model", PAYLOADS, ids=[name for name, _ in PAYLOADS])
def test_categories_reach_the_json_schema(name, model):
    properties = model.model_json_schema()["properties"]
    assert properties and all(CATEGORY_KEY in prop for prop in properties.values())


def test_producer_rejects_unknown_field():
    with pytest.raises(ValidationError) as caught:
        ReferralV1.model_validate({**REFERRAL, "shoe_size": 44})
    assert [e["type"] for e in caught.value.errors()] == ["extra_forbidden"]
    with pytest.raises(ValidationError):
        ReferralV1.model_validate_json(json.dumps({**REFERRAL, "shoe_size": 44}))


def test_consumer_tolerates_unknown_fields():
    data = {**REFERRAL, "shoe_size": 44, "person": {"given_name": "A", "nickname": "B"}}
    message = read_message(ReferralV1, json.dumps(data))
    assert message.reason == REFERRAL["reason"] and message.person.given_name == "A"
    assert "shoe_size" not in message.model_dump() and "nickname" not in message.person.model_dump()
    assert read_message(ReferralV1, json.dumps(data).encode()) == message


def test_consumer_still_validates_known_fields():
    with pytest.raises(ValidationError):
        read_message(ReferralV1, json.dumps({**REFERRAL, "urgency": "sofort", "shoe_size": 44}))
