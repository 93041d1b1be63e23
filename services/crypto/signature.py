"""The hub's delivery signature: a compact JWS (Ed25519) over the canonical JSON of the delivery metadata.

The payload is detached (RFC 7515 Appendix F: ``header..signature``): the receiving side rebuilds the
canonical bytes from the metadata it is about to store, so a signature verifies only for exactly that
metadata, digests of the sealed parts included. The algorithm is named ``Ed25519`` (RFC 9864's
fully-specified name for EdDSA over Ed25519; joserfc 1.8 warns on the polymorphic ``EdDSA``).

``canonical`` is RFC 8785 (JCS) for the values it accepts: strings, integers, booleans, null, lists and
objects with ASCII keys; floats are refused (their JCS form differs from Python's).
"""
from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Mapping

from joserfc import jws
from joserfc.errors import JoseError
from joserfc.jwk import OKPKey

from services.crypto.errors import SignatureInvalid

SIGNATURE_ALG = "Ed25519"
SIGNATURE_TYP = "kimhub-delivery+jws"
_DIGEST = re.compile(r"[0-9a-f]{64}")


def _check_json(value, where: str = "meta") -> None:
    """Only values whose canonical form is unambiguous (see the module docstring)."""
    if value is None or isinstance(value, (str, bool, int)):
        return
    if isinstance(value, list):
        for i, item in enumerate(value):
            _check_json(item, f"{where}[{i}]")
        return
    if isinstance(value, Mapping):
        for key, item in value.items():
            if not isinstance(key, str) or not key.isascii():
                raise ValueError(f"{where}: keys are ASCII strings")
            _check_json(item, f"{where}.{key}")
        return
    raise ValueError(f"{where}: {type(value).__name__} has no canonical form here")


def canonical(meta: Mapping) -> bytes:
    """The metadata's canonical JSON bytes: sorted keys, no spaces, UTF-8 (equal metadata, equal bytes)."""
    _check_json(meta)
    return json.dumps(meta, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def delivery_meta(*, transfer_id: str, message_type: str, sender_office: str, recipient_office: str,
                  person: str, purpose: str, categories: list[str], consent_id: str | None,
                  consent_version: int | None, digests: Mapping[str, str]) -> dict:
    """The metadata a delivery signature covers; ``digests`` maps each sealed part's name to its
    :func:`seal.sealed_digest`. Categories are sorted so their order does not matter."""
    for name, digest in digests.items():
        if not isinstance(digest, str) or not _DIGEST.fullmatch(digest):
            raise ValueError(f"digest of part {name} is not lower-case SHA-256 hex")
    return {"transfer_id": transfer_id, "message_type": message_type, "sender_office": sender_office,
            "recipient_office": recipient_office, "person": person, "purpose": purpose,
            "categories": sorted(categories), "consent_id": consent_id, "consent_version": consent_version,
            "digests": dict(digests)}


def _public_jwk(key: OKPKey) -> dict:
    return {**key.as_dict(private=False), "use": "sig", "alg": SIGNATURE_ALG, "kid": key.kid}


def _ed25519(key: OKPKey, private: bool) -> OKPKey:
    if key.as_dict(private=False).get("crv") != "Ed25519" or (private and not key.is_private):
        raise ValueError("delivery signing keys are Ed25519" + (" private keys" if private else ""))
    key.ensure_kid()
    return key


class DeliverySigner:
    """The hub's private signing key; ``repr`` shows only its kid."""

    def __init__(self, key: OKPKey):
        self._key = _ed25519(key, private=True)

    def __repr__(self) -> str:
        return f"DeliverySigner(kid={self.kid!r})"

    @property
    def kid(self) -> str:
        return self._key.kid

    @classmethod
    def generate(cls) -> DeliverySigner:
        return cls(OKPKey.generate_key("Ed25519", auto_kid=True))

    @classmethod
    def from_pem(cls, pem: bytes | str) -> DeliverySigner:
        """From a PKCS#8 PEM private key."""
        return cls(OKPKey.import_key(pem))

    @classmethod
    def from_jwk(cls, jwk: dict | str) -> DeliverySigner:
        """From a private OKP JWK (a dict or its JSON)."""
        return cls(OKPKey.import_key(json.loads(jwk) if isinstance(jwk, str) else dict(jwk)))

    def to_pem(self) -> bytes:
        """The private key as PKCS#8 PEM, for a 0600 file or a secret store."""
        return self._key.as_pem(private=True)

    @property
    def public_jwk(self) -> dict:
        """The public key the receiving side verifies with (``use: sig``, ``alg``, ``kid``)."""
        return _public_jwk(self._key)

    def sign(self, meta: Mapping) -> str:
        """A detached compact JWS (``header..signature``) over ``canonical(meta)``."""
        header = {"alg": SIGNATURE_ALG, "typ": SIGNATURE_TYP, "kid": self.kid}
        token = jws.serialize_compact(header, canonical(meta), self._key, algorithms=[SIGNATURE_ALG])
        head, _, signature = token.split(".")
        return f"{head}..{signature}"


def _header(token: str) -> dict:
    parts = token.split(".") if isinstance(token, str) else []
    if len(parts) != 3 or parts[1]:
        raise SignatureInvalid("not a detached compact JWS")
    try:
        header = json.loads(base64.urlsafe_b64decode(parts[0] + "=" * (-len(parts[0]) % 4)))
    except (ValueError, binascii.Error):
        raise SignatureInvalid("unreadable protected header") from None
    if not isinstance(header, dict):
        raise SignatureInvalid("unreadable protected header")
    return header


class DeliveryVerifier:
    """The receiving side: the hub's public keys (one JWK or a JWK set, for rotation), by kid."""

    def __init__(self, keys: Mapping):
        jwks = keys["keys"] if "keys" in keys else [keys]
        public = [_ed25519(OKPKey.import_key(_public_members(j)), private=False) for j in jwks]
        self._keys = {k.kid: k for k in public}

    def verify(self, token: str, meta: Mapping) -> None:
        """Returns only if ``token`` is the hub's signature over exactly ``meta``; else SignatureInvalid."""
        header = _header(token)
        if header.get("alg") != SIGNATURE_ALG or header.get("typ") != SIGNATURE_TYP:
            raise SignatureInvalid("unexpected algorithm or type")
        key = self._keys.get(header.get("kid"))
        if key is None:
            raise SignatureInvalid("unknown signing key")
        try:
            jws.deserialize_compact(token, key, algorithms=[SIGNATURE_ALG], payload=canonical(meta))
        except (JoseError, ValueError):
            raise SignatureInvalid("signature does not match the metadata") from None


def _public_members(jwk: Mapping) -> dict:
    """A JWK without its private member ``d``; a verifier never holds the signing secret."""
    return {k: v for k, v in jwk.items() if k != "d"}
