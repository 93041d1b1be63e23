"""An office's encryption keys (the office layer, as FIT-Connect): RSA key pairs in a ring with rotation.

Each key carries a not-before and, once a newer key replaced it, a retire-after. The newest key whose
not-before has passed seals; every key still in the ring opens (``prune`` drops those past retire-after,
so the overlap is the time an item sealed under the old key, or by a sender with a cached key set, still
opens). Keys are JWKs (``use: enc``, ``alg: RSA-OAEP-256``, ``kid`` = RFC 7638 thumbprint when new);
``nbf``/``exp`` carry the two moments as NumericDate (JWK allows additional members; readers that do not
know them ignore them). Lists are written newest first.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, replace
from datetime import datetime, timedelta, timezone

from joserfc.jwk import RSAKey

from services.crypto.errors import NoUsableKey

ENC_ALG = "RSA-OAEP-256"
CONTENT_ENC = "A256GCM"
NEW_KEY_BITS = 3072
MIN_KEY_BITS = 2048
PRIVATE_MEMBERS = ("d", "p", "q", "dp", "dq", "qi")
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


def _instant(moment: datetime) -> datetime:
    """An aware moment truncated to whole seconds (what a NumericDate keeps); naive ones are refused."""
    if moment.tzinfo is None:
        raise ValueError("key moments must be timezone-aware")
    return moment.astimezone(timezone.utc).replace(microsecond=0)


def _numeric(moment: datetime) -> int:
    return int(moment.timestamp())


def _moment(value) -> datetime:
    if not isinstance(value, int) or isinstance(value, bool):
        raise ValueError("nbf/exp must be integers (NumericDate)")
    return datetime.fromtimestamp(value, tz=timezone.utc)


@dataclass(frozen=True)
class OfficeKey:
    """One RSA key of an office (private, or public only) and the moments that govern its use."""

    key: RSAKey
    not_before: datetime
    retire_after: datetime | None = None

    @property
    def kid(self) -> str:
        return self.key.kid

    @property
    def is_private(self) -> bool:
        return bool(self.key.is_private)

    def retired(self, now: datetime) -> bool:
        """True once ``now`` reached the retire-after: the key neither seals nor is published."""
        return self.retire_after is not None and self.retire_after <= now

    def seals(self, now: datetime) -> bool:
        """True when the key may seal at ``now``: its not-before has passed and it is not retired."""
        return self.not_before <= now and not self.retired(now)

    def as_jwk(self, private: bool) -> dict:
        """The key as a JWK with use/alg/kid and nbf/exp; private members only when asked and present."""
        jwk = dict(self.key.as_dict(private=private and self.is_private))
        jwk.update(use="enc", alg=ENC_ALG, kid=self.kid, nbf=_numeric(self.not_before))
        if self.retire_after is not None:
            jwk["exp"] = _numeric(self.retire_after)
        return jwk

    @classmethod
    def new(cls, now: datetime, bits: int = NEW_KEY_BITS) -> OfficeKey:
        """A fresh key pair that seals from ``now``; its kid is its RFC 7638 thumbprint."""
        if bits < NEW_KEY_BITS:
            raise ValueError(f"new office keys have at least {NEW_KEY_BITS} bits")
        key = RSAKey.generate_key(bits, parameters={"use": "enc", "alg": ENC_ALG}, auto_kid=True)
        return cls(key, _instant(now))

    @classmethod
    def from_jwk(cls, jwk: dict, private: bool) -> OfficeKey:
        """Read a JWK: RSA of at least 2048 bits; without nbf it counts as valid since ever."""
        if jwk.get("kty") != "RSA":
            raise ValueError("office keys are RSA keys")
        members = {k: v for k, v in jwk.items() if k not in ("nbf", "exp")}
        if not private:
            members = {k: v for k, v in members.items() if k not in PRIVATE_MEMBERS}
        key = RSAKey.import_key(members)
        if key.public_key.key_size < MIN_KEY_BITS:
            raise ValueError(f"office keys have at least {MIN_KEY_BITS} bits")
        key.ensure_kid()
        exp = jwk.get("exp")
        return cls(key, _moment(jwk["nbf"]) if "nbf" in jwk else _EPOCH, None if exp is None else _moment(exp))


def _for_encryption(jwk: dict) -> bool:
    """Key sets (FIT-Connect's too) may hold signature keys: only RSA encryption keys belong in a ring."""
    return (jwk.get("kty") == "RSA" and jwk.get("use", "enc") == "enc"
            and jwk.get("alg", ENC_ALG) == ENC_ALG)


class OfficeKeyRing:
    """One office's keys, oldest first; immutable (rotate and prune return a new ring)."""

    def __init__(self, office: str, keys: tuple[OfficeKey, ...] | list[OfficeKey]):
        self.office = office
        self.keys = tuple(keys)
        kids = [k.kid for k in self.keys]
        if len(set(kids)) != len(kids):
            raise ValueError("an office ring holds each kid once")

    def __repr__(self) -> str:
        return f"OfficeKeyRing({self.office!r}, kids={[k.kid for k in self.keys]})"

    @property
    def is_private(self) -> bool:
        """True when every key carries its private part (the recipient office's own ring)."""
        return bool(self.keys) and all(k.is_private for k in self.keys)

    @classmethod
    def generate(cls, office: str, now: datetime, bits: int = NEW_KEY_BITS) -> OfficeKeyRing:
        """A new ring with one fresh key that seals from ``now``."""
        return cls(office, (OfficeKey.new(now, bits),))

    def rotate(self, now: datetime, overlap: timedelta, bits: int = NEW_KEY_BITS) -> OfficeKeyRing:
        """Add a new key that seals from ``now``; every older key retires after ``now + overlap``
        (one that was to retire earlier keeps its earlier moment)."""
        until = _instant(now + overlap)
        older = tuple(k if k.retire_after is not None and k.retire_after <= until
                      else replace(k, retire_after=until) for k in self.keys)
        return OfficeKeyRing(self.office, older + (OfficeKey.new(now, bits),))

    def prune(self, now: datetime) -> OfficeKeyRing:
        """Drop the keys past their retire-after: what they sealed no longer opens."""
        return OfficeKeyRing(self.office, tuple(k for k in self.keys if not k.retired(_instant(now))))

    def _newest_first(self) -> list[OfficeKey]:
        ranked = sorted(enumerate(self.keys), key=lambda ik: (ik[1].not_before, ik[0]), reverse=True)
        return [k for _, k in ranked]

    def sealing_key(self, now: datetime) -> OfficeKey:
        """The key to seal with at ``now``: the newest whose not-before has passed, not retired."""
        for key in self._newest_first():
            if key.seals(now):
                return key
        raise NoUsableKey(f"office {self.office} has no key that seals now")

    def opening_key(self, kid: str) -> OfficeKey | None:
        """The ring's key with this kid, or None."""
        return next((k for k in self.keys if k.kid == kid), None)

    def public_jwks(self, now: datetime) -> dict:
        """What the directory publishes: the keys not retired, newest first, without private members."""
        return {"keys": [k.as_jwk(private=False) for k in self._newest_first() if not k.retired(now)]}

    def to_json(self) -> str:
        """The private ring (every key, with its moments) for the office's key store."""
        return json.dumps({"office": self.office,
                           "keys": [k.as_jwk(private=True) for k in self._newest_first()]}, indent=1)

    @classmethod
    def from_json(cls, text: str) -> OfficeKeyRing:
        """Read what :meth:`to_json` wrote."""
        data = json.loads(text)
        return cls(data["office"], tuple(OfficeKey.from_jwk(j, private=True) for j in reversed(data["keys"])))

    @classmethod
    def from_public_jwks(cls, office: str, jwks: dict) -> OfficeKeyRing:
        """A sender's ring from the published key set: encryption keys only, private members dropped.
        A set without nbf lists its preferred key first."""
        keys = [OfficeKey.from_jwk(j, private=False) for j in jwks.get("keys", []) if _for_encryption(j)]
        return cls(office, tuple(reversed(keys)))
