"""The office layer: rings, rotation with an overlap, the published key set, the key store, and the
JWE that only the recipient office opens (tampering of any part refuses)."""
import base64
import json
import os
from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from joserfc.jwk import RSAKey

from services.crypto.errors import KeyFileExposed, NoKeys, NoUsableKey, SealBroken
from services.crypto.key_store import OfficeKeyStore
from services.crypto.office_keys import PRIVATE_MEMBERS, OfficeKeyRing
from services.crypto.seal import open_for_office, protected_header, seal_for_office, sealed_digest

T0 = datetime(2026, 1, 5, 9, 0, tzinfo=timezone.utc)
SECRET = "Erika Mustermann; Gesundheit: Diabetes Typ 1".encode()


@pytest.fixture(scope="module")
def ring():
    return OfficeKeyRing.generate("rsk-abh", T0)


@pytest.fixture(scope="module")
def other_ring():
    return OfficeKeyRing.generate("me-abh", T0)


def _segments(token: str) -> list[bytes]:
    return [base64.urlsafe_b64decode(s + "=" * (-len(s) % 4)) for s in token.split(".")]


def _flip(token: str, part: int) -> str:
    """The token with one character in the middle of segment ``part`` changed."""
    parts = token.split(".")
    mid = len(parts[part]) // 2
    parts[part] = parts[part][:mid] + ("A" if parts[part][mid] != "A" else "B") + parts[part][mid + 1:]
    return ".".join(parts)


def test_a_sealed_payload_opens_with_the_office_ring_and_names_its_key(ring):
    token = seal_for_office(SECRET, ring, T0)
    assert open_for_office(token, ring) == SECRET
    header = protected_header(token)
    assert header == {"alg": "RSA-OAEP-256", "enc": "A256GCM", "kid": ring.keys[0].kid}


def test_a_sealed_token_holds_no_plaintext_bytes(ring):
    token = seal_for_office(SECRET, ring, T0)
    assert b"Erika" not in token.encode() and b"Diabetes" not in token.encode()
    assert all(b"Erika" not in seg and b"Diabetes" not in seg for seg in _segments(token))


def test_the_digest_is_sha256_hex_over_the_ascii_token(ring):
    import hashlib
    token = seal_for_office(SECRET, ring, T0)
    assert sealed_digest(token) == hashlib.sha256(token.encode("ascii")).hexdigest()
    assert sealed_digest(token) != sealed_digest(seal_for_office(SECRET, ring, T0))  # fresh CEK and IV


@pytest.mark.parametrize("part", [1, 2, 3, 4], ids=["encrypted_key", "iv", "ciphertext", "tag"])
def test_a_tampered_part_does_not_open(ring, part):
    token = seal_for_office(SECRET, ring, T0)
    with pytest.raises(SealBroken) as broken:
        open_for_office(_flip(token, part), ring)
    assert broken.value.reason == "decryption_failed"
    assert "Erika" not in str(broken.value)


def test_a_tampered_protected_header_does_not_open(ring):
    token = seal_for_office(SECRET, ring, T0)
    header = {**protected_header(token), "cty": "x"}  # still our algorithms and kid: only the AAD changes
    forged = base64.urlsafe_b64encode(json.dumps(header).encode()).rstrip(b"=").decode()
    with pytest.raises(SealBroken) as broken:
        open_for_office(".".join([forged] + token.split(".")[1:]), ring)
    assert broken.value.reason == "decryption_failed"


@pytest.mark.parametrize("header", [{"alg": "RSA-OAEP", "enc": "A256GCM"}, {"alg": "RSA1_5", "enc": "A128GCM"},
                                    {"alg": "RSA-OAEP-256", "enc": "A256GCM", "zip": "DEF"}])
def test_other_algorithms_are_refused_before_any_key_is_used(ring, header):
    token = seal_for_office(SECRET, ring, T0)
    forged = base64.urlsafe_b64encode(json.dumps({**header, "kid": ring.keys[0].kid}).encode()).decode().rstrip("=")
    with pytest.raises(SealBroken) as broken:
        open_for_office(".".join([forged] + token.split(".")[1:]), ring)
    assert broken.value.reason == "algorithm"


@pytest.mark.parametrize("junk", ["", "a.b.c", "not a token", "!!!!.a.b.c.d"])
def test_junk_is_malformed(ring, junk):
    with pytest.raises(SealBroken) as broken:
        open_for_office(junk, ring)
    assert broken.value.reason == "malformed"


def test_another_offices_ring_does_not_open(ring, other_ring):
    with pytest.raises(SealBroken) as broken:
        open_for_office(seal_for_office(SECRET, ring, T0), other_ring)
    assert broken.value.reason == "unknown_key"


def test_a_public_ring_seals_but_does_not_open(ring):
    public = OfficeKeyRing.from_public_jwks("rsk-abh", ring.public_jwks(T0))
    token = seal_for_office(SECRET, public, T0)
    assert open_for_office(token, ring) == SECRET
    with pytest.raises(SealBroken) as broken:
        open_for_office(token, public)
    assert broken.value.reason == "no_private_key"


def test_the_published_key_set_has_no_private_members(ring):
    rotated = ring.rotate(T0 + timedelta(days=1), overlap=timedelta(days=7))
    jwks = rotated.public_jwks(T0 + timedelta(days=2))
    assert len(jwks["keys"]) == 2
    for jwk in jwks["keys"]:
        assert not set(PRIVATE_MEMBERS) & set(jwk)
        assert (jwk["kty"], jwk["use"], jwk["alg"]) == ("RSA", "enc", "RSA-OAEP-256") and jwk["kid"]
    assert "d" in json.loads(rotated.to_json())["keys"][0]  # the store's copy is private


def test_rotation_keeps_old_items_opening_during_the_overlap_and_not_after_the_prune(ring):
    old_item = seal_for_office(SECRET, ring, T0)
    t1 = T0 + timedelta(days=30)
    rotated = ring.rotate(t1, overlap=timedelta(days=7))
    new_kid = rotated.sealing_key(t1).kid
    assert new_kid != ring.keys[0].kid
    assert protected_header(seal_for_office(SECRET, rotated, t1))["kid"] == new_kid
    cached_by_a_sender = OfficeKeyRing.from_public_jwks("rsk-abh", ring.public_jwks(T0))
    late_item = seal_for_office(SECRET, cached_by_a_sender, t1 + timedelta(days=1))
    during = rotated.prune(t1 + timedelta(days=6))
    assert open_for_office(old_item, during) == SECRET and open_for_office(late_item, during) == SECRET
    after = rotated.prune(t1 + timedelta(days=7))
    assert [k.kid for k in after.keys] == [new_kid]
    for item in (old_item, late_item):
        with pytest.raises(SealBroken):
            open_for_office(item, after)


def test_a_sender_seals_with_the_newest_published_key(ring):
    t1 = T0 + timedelta(days=30)
    rotated = ring.rotate(t1, overlap=timedelta(days=7))
    sender = OfficeKeyRing.from_public_jwks("rsk-abh", rotated.public_jwks(t1 + timedelta(days=1)))
    assert sender.sealing_key(t1 + timedelta(days=1)).kid == rotated.keys[-1].kid
    assert [j["kid"] for j in rotated.public_jwks(t1 + timedelta(days=8))["keys"]] == [rotated.keys[-1].kid]


def test_a_second_rotation_within_the_overlap_keeps_the_earlier_retirement(ring):
    t1, t2 = T0 + timedelta(days=1), T0 + timedelta(days=2)
    twice = ring.rotate(t1, timedelta(days=7)).rotate(t2, timedelta(days=30))
    assert twice.keys[0].retire_after == t1 + timedelta(days=7)
    assert twice.keys[1].retire_after == t2 + timedelta(days=30)
    assert twice.keys[2].retire_after is None and twice.sealing_key(t2).kid == twice.keys[2].kid


def test_no_key_seals_before_its_not_before_or_after_all_retired(ring):
    with pytest.raises(NoUsableKey):
        ring.sealing_key(T0 - timedelta(seconds=1))
    retired = ring.rotate(T0, timedelta(0)).prune(T0)
    assert len(retired.keys) == 1
    with pytest.raises(NoUsableKey):
        OfficeKeyRing("rsk-abh", ()).sealing_key(T0)


def test_the_private_ring_survives_its_json_with_its_moments(ring):
    rotated = ring.rotate(T0 + timedelta(hours=1), timedelta(days=7))
    again = OfficeKeyRing.from_json(rotated.to_json())
    assert [(k.kid, k.not_before, k.retire_after) for k in again.keys] == \
        [(k.kid, k.not_before, k.retire_after) for k in rotated.keys]
    assert again.is_private and open_for_office(seal_for_office(SECRET, rotated, T0 + timedelta(hours=2)),
                                                again) == SECRET


@pytest.mark.filterwarnings("ignore:Key size should be")  # joserfc warns about the 1024-bit key we refuse
def test_2048_bit_keys_are_read_but_not_generated_and_smaller_ones_refused():
    small = RSAKey.generate_key(2048, auto_kid=True)
    ring = OfficeKeyRing.from_public_jwks("x", {"keys": [small.as_dict(private=False)]})
    assert ring.sealing_key(T0).kid == small.kid
    with pytest.raises(ValueError):
        OfficeKeyRing.generate("x", T0, bits=2048)
    from cryptography.hazmat.primitives.asymmetric import rsa
    tiny = RSAKey.import_key(rsa.generate_private_key(65537, 1024).public_key())
    with pytest.raises(ValueError):
        OfficeKeyRing.from_public_jwks("x", {"keys": [tiny.as_dict(private=False)]})


def test_a_published_set_may_hold_signature_keys_which_are_not_used_for_sealing(ring):
    jwks = ring.public_jwks(T0)
    signing = {**jwks["keys"][0], "use": "sig", "alg": "PS512", "kid": "sig-1"}
    assert [k.kid for k in OfficeKeyRing.from_public_jwks("rsk-abh", {"keys": [signing] + jwks["keys"]}).keys] \
        == [ring.keys[0].kid]


def test_naive_moments_are_refused():
    with pytest.raises(ValueError):
        OfficeKeyRing.generate("x", datetime(2026, 1, 1))


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.binary(max_size=4096))
def test_any_bytes_round_trip(ring, plaintext):
    assert open_for_office(seal_for_office(plaintext, ring, T0), ring) == plaintext


# the key store


def test_the_store_keeps_a_ring_in_a_0600_file(tmp_path, ring):
    store = OfficeKeyStore(tmp_path / "keys")
    store.save(ring)
    path = tmp_path / "keys" / "rsk-abh.jwks.json"
    assert path.stat().st_mode & 0o777 == 0o600
    assert [k.kid for k in store.ring("rsk-abh").keys] == [k.kid for k in ring.keys]


def test_the_store_says_when_an_office_has_no_keys(tmp_path):
    with pytest.raises(NoKeys):
        OfficeKeyStore(tmp_path).ring("rsk-abh")


def test_the_store_refuses_a_file_others_may_read(tmp_path, ring):
    store = OfficeKeyStore(tmp_path)
    store.save(ring)
    os.chmod(store.path("rsk-abh"), 0o644)
    with pytest.raises(KeyFileExposed):
        store.ring("rsk-abh")


def test_ensure_generates_once(tmp_path):
    store = OfficeKeyStore(tmp_path)
    first = store.ensure("troisdorf-abh", T0)
    assert [k.kid for k in store.ensure("troisdorf-abh", T0 + timedelta(days=1)).keys] == [first.keys[0].kid]


def test_the_store_keeps_private_rings_only_and_safe_names(tmp_path, ring):
    store = OfficeKeyStore(tmp_path)
    with pytest.raises(ValueError):
        store.save(OfficeKeyRing.from_public_jwks("rsk-abh", ring.public_jwks(T0)))
    for bad in ("../etc", "a/b", ".hidden", ""):
        with pytest.raises(ValueError):
            store.path(bad)


def test_a_file_of_another_office_is_refused(tmp_path, ring):
    store = OfficeKeyStore(tmp_path)
    store.save(ring)
    os.replace(store.path("rsk-abh"), store.path("me-abh"))
    with pytest.raises(ValueError):
        store.ring("me-abh")
