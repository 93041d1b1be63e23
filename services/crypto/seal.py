"""Sealing and opening: the office layer (JWE compact, RSA-OAEP-256 + A256GCM, for the recipient office)
and the person layer (JWE compact, ``dir`` + A256GCM, under the person's data key).

A payload is sealed for the person first, then that compact string for the office
(``layers.seal_layers``). Both layers put the ``kid`` in the protected header, which the A256GCM tag
authenticates. Opening accepts exactly the expected algorithms (no downgrade, no ``zip``) and fails with
:class:`SealBroken` and a reason code, never with plaintext in the message.
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import json

from joserfc import jwe
from joserfc.errors import JoseError
from joserfc.jwk import OctKey

from services.crypto.errors import SealBroken
from services.crypto.office_keys import CONTENT_ENC, ENC_ALG, OfficeKeyRing
from services.crypto.person_keys import PersonKey

PERSON_ALG = "dir"
_OFFICE_HEADER = {"alg": ENC_ALG, "enc": CONTENT_ENC}
_PERSON_HEADER = {"alg": PERSON_ALG, "enc": CONTENT_ENC}


def protected_header(token: str) -> dict:
    """The protected header of a compact JWE, read without a key; SealBroken(malformed) if unreadable."""
    parts = token.split(".") if isinstance(token, str) else []
    if len(parts) != 5:
        raise SealBroken("malformed", "not a compact JWE")
    try:
        header = json.loads(base64.urlsafe_b64decode(parts[0] + "=" * (-len(parts[0]) % 4)))
    except (ValueError, binascii.Error):
        raise SealBroken("malformed", "unreadable protected header") from None
    if not isinstance(header, dict) or not isinstance(header.get("kid"), str):
        raise SealBroken("malformed", "protected header without kid")
    return header


def _expect(header: dict, expected: dict) -> str:
    """The header's kid when it names exactly the expected algorithms and nothing that changes decoding."""
    if any(header.get(name) != value for name, value in expected.items()) or "zip" in header:
        raise SealBroken("algorithm", f"expected {expected['alg']} with {expected['enc']}")
    return header["kid"]


def _decrypt(token: str, key, expected: dict) -> bytes:
    try:
        return jwe.decrypt_compact(token, key, algorithms=list(expected.values())).plaintext
    except (JoseError, ValueError, TypeError):
        raise SealBroken("decryption_failed", "ciphertext, header or tag do not verify") from None


def seal_for_office(plaintext: bytes, ring: OfficeKeyRing, now) -> str:
    """A compact JWE that only a holder of the office's private key opens (the key that seals at ``now``)."""
    key = ring.sealing_key(now)
    return jwe.encrypt_compact({**_OFFICE_HEADER, "kid": key.kid}, plaintext, key.key,
                               algorithms=list(_OFFICE_HEADER.values()))


def open_for_office(token: str, ring: OfficeKeyRing) -> bytes:
    """The plaintext, if the token was sealed for a key in this (private) ring and was not altered."""
    kid = _expect(protected_header(token), _OFFICE_HEADER)
    key = ring.opening_key(kid)
    if key is None:
        raise SealBroken("unknown_key", f"office {ring.office} holds no key {kid}")
    if not key.is_private:
        raise SealBroken("no_private_key", f"key {kid} of office {ring.office} is public only")
    return _decrypt(token, key.key, _OFFICE_HEADER)


def seal_for_person(plaintext: bytes, key: PersonKey) -> str:
    """A compact JWE under the person's data key; it opens only while that key exists."""
    return jwe.encrypt_compact({**_PERSON_HEADER, "kid": key.kid}, plaintext, OctKey.import_key(key.secret),
                               algorithms=list(_PERSON_HEADER.values()))


def open_for_person(token: str, key: PersonKey) -> bytes:
    """The plaintext, if the token was sealed under this person key and was not altered."""
    if _expect(protected_header(token), _PERSON_HEADER) != key.kid:
        raise SealBroken("unknown_key", f"sealed under another person key than {key.kid}")
    return _decrypt(token, OctKey.import_key(key.secret), _PERSON_HEADER)


def person_key_id(token: str) -> str:
    """The person key id of a person-layer token (the inner JWE), read without any key."""
    return _expect(protected_header(token), _PERSON_HEADER)


def sealed_digest(token: str) -> str:
    """SHA-256, hex, over the ASCII bytes of a compact JWE: what the signature and the log bind."""
    return hashlib.sha256(token.encode("ascii")).hexdigest()
