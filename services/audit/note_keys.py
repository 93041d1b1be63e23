"""Ed25519 keys for C2SP signed notes, and the format rules that notes and checkpoints share.

Keys are written as strings (compatible with ``golang.org/x/mod/sumdb/note``):

- verifier key ("vkey"): ``<name>+<hex8 key hash>+<base64(0x01 || public key)>``
- signer key ("skey"):   ``PRIVATE+KEY+<name>+<hex8 key hash>+<base64(0x01 || seed)>``

The key hash is the first 4 bytes of SHA-256(name || "\\n" || 0x01 || public key); it prefixes every
signature by the key. The skey is a secret: it never appears in ``repr()`` of a :class:`NoteSigner`.

Only the standard library and ``cryptography`` are used. Base64 must be canonical (padded, no
non-zero trailing bits), and DEL (0x7f) counts as a control character: a little stricter than the
Go reference.
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import re

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

__all__ = [
    "NoteError",
    "NoteSigner",
    "NoteVerifier",
]

ALG_ED25519 = 0x01
"""Signature-type byte for Ed25519 in key hashes and key strings."""

SIG_PREFIX = "\u2014 "  # EM DASH, SPACE
_HEX8_RE = re.compile(r"[0-9a-fA-F]{8}", re.ASCII)


class NoteError(ValueError):
    """A note is malformed, carries an invalid signature by a known key, or is not signed as required."""


# --------------------------------------------------------------------------------------------
# format checks shared by keys, notes and checkpoints


def _is_control(ch: str) -> bool:
    o = ord(ch)
    return o < 0x20 or o == 0x7F


def check_utf8(s: str, what: str) -> bytes:
    """The UTF-8 bytes of ``s``; :class:`NoteError` if it cannot be encoded (a lone surrogate)."""
    try:
        return s.encode("utf-8")
    except UnicodeEncodeError as e:
        raise NoteError(f"{what} is not valid UTF-8 (position {e.start})") from None


def check_no_controls(s: str, what: str, allow_newline: bool) -> None:
    """:class:`NoteError` at the first control character of ``s`` (``"\\n"`` allowed if asked)."""
    for i, ch in enumerate(s):
        if _is_control(ch) and not (allow_newline and ch == "\n"):
            raise NoteError(f"{what} contains control character U+{ord(ch):04X} at position {i}")


def check_note_text(text: str) -> bytes:
    """Validate note text and return its UTF-8 bytes (the signed message)."""
    if not isinstance(text, str):
        raise TypeError(f"note text must be str, not {type(text).__name__}")
    if not text:
        raise NoteError("note text is empty")
    data = check_utf8(text, "note text")
    check_no_controls(text, "note text", allow_newline=True)
    if not text.endswith("\n"):
        raise NoteError("note text must end with a newline")
    return data


def check_key_name(name: str) -> None:
    """Key names: non-empty, no Unicode whitespace, no '+', no control characters, valid UTF-8."""
    if not isinstance(name, str):
        raise TypeError(f"key name must be str, not {type(name).__name__}")
    if not name:
        raise ValueError("key name is empty")
    check_utf8(name, "key name")
    for ch in name:
        if ch.isspace():
            raise ValueError(f"key name {name!r} contains whitespace")
        if ch == "+":
            raise ValueError(f"key name {name!r} contains '+'")
        if _is_control(ch):
            raise ValueError(f"key name {name!r} contains control character U+{ord(ch):04X}")


def b64decode_strict(s: str, what: str) -> bytes:
    """Standard-alphabet, padded, canonical base64 (re-encoding must give back ``s``)."""
    try:
        raw = base64.b64decode(s.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError, ValueError):
        raise ValueError(f"{what} is not valid base64: {s!r}") from None
    if base64.b64encode(raw).decode("ascii") != s:
        raise ValueError(f"{what} is not canonical padded standard base64: {s!r}")
    return raw


# --------------------------------------------------------------------------------------------
# key strings


def _key_hash(name: str, public_key: bytes) -> bytes:
    """First 4 bytes of SHA-256(name || "\\n" || 0x01 || public key)."""
    h = hashlib.sha256()
    h.update(name.encode("utf-8"))
    h.update(b"\n")
    h.update(bytes([ALG_ED25519]))
    h.update(public_key)
    return h.digest()[:4]


def _parse_key_hash(hex8: str, what: str) -> bytes:
    if not _HEX8_RE.fullmatch(hex8):
        raise ValueError(f"{what}: key hash must be 8 hex digits, got {hex8!r}")
    return bytes.fromhex(hex8)


def _parse_key_material(b64: str, what: str) -> bytes:
    raw = b64decode_strict(b64, f"{what} key material")
    if len(raw) != 33:
        raise ValueError(f"{what}: key material must be 33 bytes (type byte + 32-byte key), got {len(raw)}")
    if raw[0] != ALG_ED25519:
        raise ValueError(f"{what}: unsupported key type 0x{raw[0]:02x} (only Ed25519, 0x01)")
    return raw[1:]


# --------------------------------------------------------------------------------------------
# keys


class NoteVerifier:
    """An Ed25519 verifier key for signed notes."""

    __slots__ = ("_name", "_key_hash", "_public_bytes", "_public_key")

    def __init__(self, name: str, public_key: bytes) -> None:
        check_key_name(name)
        public_key = bytes(public_key)
        if len(public_key) != 32:
            raise ValueError(f"Ed25519 public key must be 32 bytes, got {len(public_key)}")
        try:
            self._public_key = Ed25519PublicKey.from_public_bytes(public_key)
        except ValueError as e:
            raise ValueError(f"invalid Ed25519 public key: {e}") from None
        self._name = name
        self._public_bytes = public_key
        self._key_hash = _key_hash(name, public_key)

    @classmethod
    def from_vkey(cls, vkey: str) -> NoteVerifier:
        """Parse ``<name>+<hex8 key hash>+<base64(0x01 || public key)>``."""
        if not isinstance(vkey, str):
            raise TypeError(f"vkey must be str, not {type(vkey).__name__}")
        parts = vkey.split("+", 2)  # base64 may itself contain '+'
        if len(parts) != 3:
            raise ValueError("malformed verifier key: expected <name>+<hash>+<key>")
        name, hex8, b64 = parts
        check_key_name(name)
        want = _parse_key_hash(hex8, "verifier key")
        v = cls(name, _parse_key_material(b64, "verifier key"))
        if v.key_hash != want:
            raise ValueError(
                f"verifier key hash mismatch: key string says {hex8.lower()}, key computes to {v.key_hash.hex()}"
            )
        return v

    @property
    def name(self) -> str:
        return self._name

    @property
    def key_hash(self) -> bytes:
        """The 4-byte key ID that prefixes this key's signatures."""
        return self._key_hash

    @property
    def public_key(self) -> bytes:
        return self._public_bytes

    @property
    def vkey(self) -> str:
        material = base64.b64encode(bytes([ALG_ED25519]) + self._public_bytes).decode("ascii")
        return f"{self._name}+{self._key_hash.hex()}+{material}"

    def verify(self, text: str, sig: bytes) -> bool:
        """Whether ``sig`` (the 64-byte Ed25519 signature, without key hash) is valid for ``text``."""
        try:
            msg = text.encode("utf-8")
        except UnicodeEncodeError:
            return False
        if len(sig) != 64:
            return False
        try:
            self._public_key.verify(bytes(sig), msg)
        except InvalidSignature:
            return False
        return True

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, NoteVerifier):
            return NotImplemented
        return self._name == other._name and self._public_bytes == other._public_bytes

    def __hash__(self) -> int:
        return hash((self._name, self._public_bytes))

    def __repr__(self) -> str:
        return f"NoteVerifier({self.vkey!r})"


class NoteSigner:
    """An Ed25519 signer key for signed notes. Keep :attr:`skey` secret."""

    __slots__ = ("_name", "_private_key", "_seed", "_verifier")

    def __init__(self, name: str, private_key: Ed25519PrivateKey) -> None:
        check_key_name(name)
        if not isinstance(private_key, Ed25519PrivateKey):
            raise TypeError("private_key must be an Ed25519PrivateKey")
        self._name = name
        self._private_key = private_key
        self._seed = private_key.private_bytes_raw()
        self._verifier = NoteVerifier(name, private_key.public_key().public_bytes_raw())

    @classmethod
    def generate(cls, name: str) -> NoteSigner:
        """A fresh random key named ``name``."""
        check_key_name(name)
        return cls(name, Ed25519PrivateKey.generate())

    @classmethod
    def from_skey(cls, skey: str) -> NoteSigner:
        """Parse ``PRIVATE+KEY+<name>+<hex8 key hash>+<base64(0x01 || seed)>``."""
        if not isinstance(skey, str):
            raise TypeError(f"skey must be str, not {type(skey).__name__}")
        # Error messages never echo the key string: it is secret.
        parts = skey.split("+", 4)  # base64 may itself contain '+'
        if len(parts) != 5 or parts[0] != "PRIVATE" or parts[1] != "KEY":
            raise ValueError("malformed signer key: expected PRIVATE+KEY+<name>+<hash>+<key>")
        _, _, name, hex8, b64 = parts
        check_key_name(name)
        want = _parse_key_hash(hex8, "signer key")
        try:
            seed = _parse_key_material(b64, "signer key")
        except ValueError:
            raise ValueError("malformed signer key: bad key material") from None
        s = cls(name, Ed25519PrivateKey.from_private_bytes(seed))
        if s.key_hash != want:
            raise ValueError(
                f"signer key hash mismatch: key string says {hex8.lower()}, key computes to {s.key_hash.hex()}"
            )
        return s

    @property
    def name(self) -> str:
        return self._name

    @property
    def key_hash(self) -> bytes:
        return self._verifier.key_hash

    @property
    def vkey(self) -> str:
        return self._verifier.vkey

    @property
    def skey(self) -> str:
        material = base64.b64encode(bytes([ALG_ED25519]) + self._seed).decode("ascii")
        return f"PRIVATE+KEY+{self._name}+{self.key_hash.hex()}+{material}"

    def verifier(self) -> NoteVerifier:
        """The matching verifier key."""
        return self._verifier

    def sign(self, text: str) -> str:
        """Sign note ``text`` and return its signature line ``"— <name> <base64>\\n"``."""
        msg = check_note_text(text)
        sig = self._private_key.sign(msg)
        b64 = base64.b64encode(self.key_hash + sig).decode("ascii")
        return f"{SIG_PREFIX}{self._name} {b64}\n"

    def __repr__(self) -> str:
        return f"NoteSigner(name={self._name!r}, key_hash={self.key_hash.hex()!r})"
