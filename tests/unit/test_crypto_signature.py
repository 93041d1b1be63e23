"""The delivery signature: a detached Ed25519 JWS over the canonical metadata; any change to the metadata,
a digest, the key or the token makes the receiving side refuse."""
import base64
import json

import pytest
from joserfc.jwk import OKPKey

from services.crypto.errors import SignatureInvalid
from services.crypto.signature import DeliverySigner, DeliveryVerifier, canonical, delivery_meta

DIGEST_A, DIGEST_B = "a" * 64, "0123456789abcdef" * 4


def _meta(**change):
    fields = dict(transfer_id="t-1", message_type="transfer.referral.v1", sender_office="rsk-kim",
                  recipient_office="rsk-abh", person="ps-7f3a", purpose="integration",
                  categories=["identity", "residence"], consent_id="c-9", consent_version=2,
                  digests={"payload": DIGEST_A, "document:1": DIGEST_B})
    return delivery_meta(**{**fields, **change})


@pytest.fixture(scope="module")
def signer():
    return DeliverySigner.generate()


@pytest.fixture(scope="module")
def verifier(signer):
    return DeliveryVerifier(signer.public_jwk)


def test_a_signature_verifies_over_the_same_metadata(signer, verifier):
    token = signer.sign(_meta())
    verifier.verify(token, _meta())
    verifier.verify(token, _meta(categories=["residence", "identity"]))  # categories are a set
    head, payload, _ = token.split(".")
    assert payload == ""  # detached: the receiver rebuilds the bytes from what it stores
    assert json.loads(base64.urlsafe_b64decode(head + "==")) == {
        "alg": "Ed25519", "typ": "kimhub-delivery+jws", "kid": signer.kid}


@pytest.mark.parametrize("change", [
    {"transfer_id": "t-2"}, {"message_type": "transfer.notice.v1"}, {"sender_office": "me-kim"},
    {"recipient_office": "troisdorf-abh"}, {"person": "ps-other"}, {"purpose": "other"},
    {"categories": ["identity"]}, {"consent_id": "c-10"}, {"consent_version": 3},
    {"digests": {"payload": DIGEST_B, "document:1": DIGEST_B}}, {"digests": {"payload": DIGEST_A}},
], ids=lambda c: next(iter(c)))
def test_changed_metadata_or_digest_is_refused(signer, verifier, change):
    with pytest.raises(SignatureInvalid):
        verifier.verify(signer.sign(_meta()), _meta(**change))


def test_an_added_field_is_refused(signer, verifier):
    with pytest.raises(SignatureInvalid):
        verifier.verify(signer.sign(_meta()), {**_meta(), "extra": "x"})


def test_another_key_is_refused_even_under_the_hubs_kid(signer, verifier):
    with pytest.raises(SignatureInvalid):
        verifier.verify(DeliverySigner.generate().sign(_meta()), _meta())
    forger = DeliverySigner(OKPKey.generate_key("Ed25519", parameters={"kid": signer.kid}))
    assert forger.kid == signer.kid
    with pytest.raises(SignatureInvalid):
        verifier.verify(forger.sign(_meta()), _meta())


def _with_header(token: str, header: dict) -> str:
    head = base64.urlsafe_b64encode(json.dumps(header).encode()).decode().rstrip("=")
    return ".".join([head] + token.split(".")[1:])


@pytest.mark.parametrize("header", [{"alg": "none"}, {"alg": "EdDSA", "typ": "kimhub-delivery+jws"},
                                    {"alg": "HS256", "typ": "kimhub-delivery+jws"},
                                    {"alg": "Ed25519", "typ": "JWT"}])
def test_other_algorithms_or_types_are_refused(signer, verifier, header):
    with pytest.raises(SignatureInvalid):
        verifier.verify(_with_header(signer.sign(_meta()), {**header, "kid": signer.kid}), _meta())


def test_a_tampered_signature_or_an_attached_payload_is_refused(signer, verifier):
    head, _, sig = signer.sign(_meta()).split(".")
    flipped = sig[:10] + ("A" if sig[10] != "A" else "B") + sig[11:]
    attached = base64.urlsafe_b64encode(canonical(_meta())).decode().rstrip("=")
    for token in (f"{head}..{flipped}", f"{head}.{attached}.{sig}", "junk", "a.b", ""):
        with pytest.raises(SignatureInvalid):
            verifier.verify(token, _meta())


def test_a_signer_reloaded_from_pem_or_jwk_keeps_its_key(signer, verifier):
    for again in (DeliverySigner.from_pem(signer.to_pem()),
                  DeliverySigner.from_jwk(json.dumps({**OKPKey.import_key(signer.to_pem()).as_dict(private=True)}))):
        assert again.public_jwk["x"] == signer.public_jwk["x"]
        verifier.verify(again.sign(_meta()), _meta())
    assert "PRIVATE" not in repr(signer) and "d" not in signer.public_jwk


def test_a_verifier_holds_public_keys_only_and_takes_a_key_set_for_rotation(signer):
    newer = DeliverySigner.generate()
    private_jwk = OKPKey.import_key(newer.to_pem()).as_dict(private=True)
    verifier = DeliveryVerifier({"keys": [signer.public_jwk, private_jwk]})
    assert all(not k.is_private for k in verifier._keys.values())
    verifier.verify(signer.sign(_meta()), _meta())
    verifier.verify(newer.sign(_meta()), _meta())


def test_signing_keys_are_ed25519():
    with pytest.raises(ValueError):
        DeliverySigner(OKPKey.generate_key("X25519"))
    with pytest.raises(ValueError):
        DeliveryVerifier(OKPKey.generate_key("Ed448").as_dict(private=False))


def test_canonical_json_is_key_order_free_compact_and_utf8():
    assert canonical({"b": [1, True, None], "a": "Müller"}) == '{"a":"Müller","b":[1,true,null]}'.encode()
    assert canonical({"a": 1, "b": 2}) == canonical({"b": 2, "a": 1})
    assert canonical({"a": "\n\u001f\""}) == b'{"a":"\\n\\u001f\\""}'


@pytest.mark.parametrize("bad", [{"a": 1.5}, {1: "x"}, {"ä": 1}, {"a": {"b": b"x"}}, {"a": ("t",)}])
def test_values_without_an_unambiguous_canonical_form_are_refused(bad):
    with pytest.raises(ValueError):
        canonical(bad)


def test_delivery_meta_wants_sha256_hex_digests():
    with pytest.raises(ValueError):
        _meta(digests={"payload": "A" * 64})
    with pytest.raises(ValueError):
        _meta(digests={"payload": "ab"})
