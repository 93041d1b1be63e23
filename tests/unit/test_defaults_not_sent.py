"""A default the sender never sent (``urgency``) is not present: not among the fields sent, not in the
minimised payload, not named as an uncovered field in a refusal (issue 17)."""
from __future__ import annotations

from contracts.referral import ReferralV1
from services.consent.domain import Decision, Reason, ReasonCode
from services.gate.evaluate import Evaluation
from services.gate.minimise import minimise, payload_categories

BARE = {"reason": "Prüfung § 25b AufenthG", "requested_action": "Beratungstermin anbieten"}


def test_an_unsent_default_is_not_a_field_present():
    referral = ReferralV1.model_validate(BARE)
    assert referral.urgency == "normal"  # the contract's default, for whoever reads it
    assert payload_categories(referral).optional == {}
    assert minimise(referral, frozenset()) == BARE


def test_a_sent_value_is_present_even_when_it_equals_the_default():
    referral = ReferralV1.model_validate({**BARE, "urgency": "normal"})
    assert payload_categories(referral).optional == {"falldaten": ("urgency",)}
    assert minimise(referral, frozenset())["urgency"] == "normal"


def test_a_refusal_does_not_name_an_unsent_default_as_uncovered():
    refused = Decision(False, reasons=(Reason(ReasonCode.CATEGORY_NOT_COVERED, categories=("falldaten",)),))
    [reason] = Evaluation(refused, payload_categories(ReferralV1.model_validate(BARE))).reasons()
    assert reason["fields"] == ["reason", "requested_action"]
