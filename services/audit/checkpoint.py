"""Signed checkpoints of the transfer log: C2SP ``tlog-checkpoint`` in a C2SP ``signed-note``.

The hub signs a checkpoint (origin, tree size, root hash, extension lines) of its transfer log
with an Ed25519 key; the data-protection officer verifies it offline with the hub's verifier key
and may cosign it with their own key. The wire format is compatible with
``golang.org/x/mod/sumdb/note`` (c2sp.org/signed-note) and c2sp.org/tlog-checkpoint.

A note is::

    <text, one or more lines, each ending in "\\n">
    <blank line>
    — <key name> <base64(key hash[4] || Ed25519 signature[64])>
    ...

A checkpoint is a note text of the form::

    <origin>
    <tree size, decimal>
    <base64 of the 32-byte root hash>
    [<extension line>...]

Only the standard library and ``cryptography`` are used. Keys are written as strings:

- verifier key ("vkey"): ``<name>+<hex8 key hash>+<base64(0x01 || public key)>``
- signer key ("skey"):   ``PRIVATE+KEY+<name>+<hex8 key hash>+<base64(0x01 || seed)>``

The skey is a secret: it never appears in ``repr()`` of a :class:`NoteSigner`.

This implementation is deliberately a little stricter than the Go reference when *opening*
notes: base64 must be canonical (padded, no non-zero trailing bits), DEL (0x7f) counts as a
control character, and every signature line by a known key is verified (a repeated line by the
same key is not silently skipped).
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import re
from dataclasses import dataclass
from typing import Iterable

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

__all__ = [
    "Checkpoint",
    "NoteError",
    "NoteSigner",
    "NoteVerifier",
    "add_signature",
    "open_checkpoint",
    "open_note",
    "sign_checkpoint",
    "sign_note",
]

ALG_ED25519 = 0x01
"""Signature-type byte for Ed25519 in key hashes and key strings."""

MAX_SIGNATURES = 100
"""A note with more signature lines than this is rejected as malformed (as in the Go package)."""

SIG_PREFIX = "\u2014 "  # EM DASH, SPACE
_MAX_TREE_SIZE = 2**64 - 1
_SIZE_RE = re.compile(r"(?:0|[1-9][0-9]*)", re.ASCII)
_HEX8_RE = re.compile(r"[0-9a-fA-F]{8}", re.ASCII)


class NoteError(ValueError):
    """A note is malformed, carries an invalid signature by a known key, or is not signed as required."""


# --------------------------------------------------------------------------------------------
# helpers


def _is_control(ch: str) -> bool:
    o = ord(ch)
    return o < 0x20 or o == 0x7F


def _check_utf8(s: str, what: str) -> bytes:
    try:
        return s.encode("utf-8")
    except UnicodeEncodeError as e:
        raise NoteError(f"{what} is not valid UTF-8 (position {e.start})") from None


def _check_no_controls(s: str, what: str, allow_newline: bool) -> None:
    for i, ch in enumerate(s):
        if _is_control(ch) and not (allow_newline and ch == "\n"):
            raise NoteError(f"{what} contains control character U+{ord(ch):04X} at position {i}")


def _check_text(text: str) -> bytes:
    """Validate note text and return its UTF-8 bytes (the signed message)."""
    if not isinstance(text, str):
        raise TypeError(f"note text must be str, not {type(text).__name__}")
    if not text:
        raise NoteError("note text is empty")
    data = _check_utf8(text, "note text")
    _check_no_controls(text, "note text", allow_newline=True)
    if not text.endswith("\n"):
        raise NoteError("note text must end with a newline")
    return data


def _check_name(name: str) -> None:
    """Key names: non-empty, no Unicode whitespace, no '+', no control characters, valid UTF-8."""
    if not isinstance(name, str):
        raise TypeError(f"key name must be str, not {type(name).__name__}")
    if not name:
        raise ValueError("key name is empty")
    _check_utf8(name, "key name")
    for ch in name:
        if ch.isspace():
            raise ValueError(f"key name {name!r} contains whitespace")
        if ch == "+":
            raise ValueError(f"key name {name!r} contains '+'")
        if _is_control(ch):
            raise ValueError(f"key name {name!r} contains control character U+{ord(ch):04X}")


def _b64decode_strict(s: str, what: str) -> bytes:
    """Standard-alphabet, padded, canonical base64 (re-encoding must give back ``s``)."""
    try:
        raw = base64.b64decode(s.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError, ValueError):
        raise ValueError(f"{what} is not valid base64: {s!r}") from None
    if base64.b64encode(raw).decode("ascii") != s:
        raise ValueError(f"{what} is not canonical padded standard base64: {s!r}")
    return raw


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
    raw = _b64decode_strict(b64, f"{what} key material")
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
        _check_name(name)
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
        _check_name(name)
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
        _check_name(name)
        if not isinstance(private_key, Ed25519PrivateKey):
            raise TypeError("private_key must be an Ed25519PrivateKey")
        self._name = name
        self._private_key = private_key
        self._seed = private_key.private_bytes_raw()
        self._verifier = NoteVerifier(name, private_key.public_key().public_bytes_raw())

    @classmethod
    def generate(cls, name: str) -> NoteSigner:
        """A fresh random key named ``name``."""
        _check_name(name)
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
        _check_name(name)
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
        msg = _check_text(text)
        sig = self._private_key.sign(msg)
        b64 = base64.b64encode(self.key_hash + sig).decode("ascii")
        return f"{SIG_PREFIX}{self._name} {b64}\n"

    def __repr__(self) -> str:
        return f"NoteSigner(name={self._name!r}, key_hash={self.key_hash.hex()!r})"


# --------------------------------------------------------------------------------------------
# notes


@dataclass(frozen=True)
class _SigLine:
    name: str
    key_hash: bytes
    sig: bytes


def _parse_note(note: str | bytes) -> tuple[str, list[_SigLine]]:
    """Structural parse, no verification: (text, signature lines in order)."""
    if isinstance(note, (bytes, bytearray, memoryview)):
        try:
            note = bytes(note).decode("utf-8")
        except UnicodeDecodeError as e:
            raise NoteError(f"note is not valid UTF-8 (byte {e.start})") from None
    if not isinstance(note, str):
        raise TypeError(f"note must be str or bytes, not {type(note).__name__}")
    _check_utf8(note, "note")
    _check_no_controls(note, "note", allow_newline=True)
    split = note.rfind("\n\n")
    if split < 0:
        raise NoteError("malformed note: no blank line before the signatures")
    text, sigs = note[: split + 1], note[split + 2 :]
    if not sigs:
        raise NoteError("malformed note: no signature lines after the blank line")
    if not sigs.endswith("\n"):
        raise NoteError("malformed note: the last signature line does not end with a newline")
    lines = sigs[:-1].split("\n")
    if len(lines) > MAX_SIGNATURES:
        raise NoteError(f"malformed note: more than {MAX_SIGNATURES} signatures ({len(lines)})")
    parsed: list[_SigLine] = []
    for n, line in enumerate(lines, 1):
        if not line.startswith(SIG_PREFIX):
            raise NoteError(f"malformed note: signature line {n} does not start with '\u2014 ' (em dash, space)")
        name, sep, b64 = line[len(SIG_PREFIX) :].partition(" ")
        if not sep or not b64:
            raise NoteError(f"malformed note: signature line {n} has no signature after the key name")
        try:
            _check_name(name)
        except ValueError as e:
            raise NoteError(f"malformed note: signature line {n}: {e}") from None
        try:
            raw = _b64decode_strict(b64, f"signature line {n}")
        except ValueError as e:
            raise NoteError(f"malformed note: {e}") from None
        if len(raw) < 5:
            raise NoteError(f"malformed note: signature line {n} is too short ({len(raw)} bytes)")
        parsed.append(_SigLine(name, raw[:4], raw[4:]))
    return text, parsed


def _signers_unique(signers: Iterable[NoteSigner]) -> list[NoteSigner]:
    out: list[NoteSigner] = []
    seen: set[tuple[str, bytes]] = set()
    for s in signers:
        if not isinstance(s, NoteSigner):
            raise TypeError(f"signer must be a NoteSigner, not {type(s).__name__}")
        key = (s.name, s.key_hash)
        if key in seen:
            raise NoteError(f"duplicate signer {s.name}+{s.key_hash.hex()}")
        seen.add(key)
        out.append(s)
    return out


def sign_note(text: str, *signers: NoteSigner) -> str:
    """The signed note: ``text``, a blank line, one signature line per signer (in order)."""
    _check_text(text)
    uniq = _signers_unique(signers)
    if not uniq:
        raise ValueError("sign_note needs at least one signer")
    if len(uniq) > MAX_SIGNATURES:
        raise NoteError(f"at most {MAX_SIGNATURES} signatures per note")
    return text + "\n" + "".join(s.sign(text) for s in uniq)


def add_signature(note: str | bytes, signer: NoteSigner) -> str:
    """Cosign ``note``: append ``signer``'s signature line, keeping the existing ones.

    This only checks that the note is well formed, not that its existing signatures are valid:
    open it with :func:`open_note` / :func:`open_checkpoint` first and cosign only what verified.
    Refuses if the note already carries a signature by the same key (same name and key hash).
    """
    if isinstance(note, (bytes, bytearray, memoryview)):
        try:
            note = bytes(note).decode("utf-8")
        except UnicodeDecodeError as e:
            raise NoteError(f"note is not valid UTF-8 (byte {e.start})") from None
    text, sigs = _parse_note(note)
    (signer,) = _signers_unique([signer])
    if any(s.name == signer.name and s.key_hash == signer.key_hash for s in sigs):
        raise NoteError(f"note is already signed by {signer.name}+{signer.key_hash.hex()}")
    if len(sigs) + 1 > MAX_SIGNATURES:
        raise NoteError(f"note already has {len(sigs)} signatures; at most {MAX_SIGNATURES} allowed")
    return note + signer.sign(text)


def open_note(
    note: str | bytes, verifiers: Iterable[NoteVerifier], require_all: bool = False
) -> tuple[str, list[str]]:
    """Verify ``note`` and return ``(text, names of the given verifiers whose signatures verified)``.

    Signatures by keys not among ``verifiers`` are ignored. Raises :class:`NoteError` if the note
    is malformed, if any signature by a known key is invalid, if no known key signed, or (with
    ``require_all``) if any of ``verifiers`` did not sign.
    """
    known: dict[tuple[str, bytes], NoteVerifier] = {}
    for v in verifiers:
        if not isinstance(v, NoteVerifier):
            raise TypeError(f"verifier must be a NoteVerifier, not {type(v).__name__}")
        k = (v.name, v.key_hash)
        other = known.get(k)
        if other is not None and other != v:
            raise NoteError(f"ambiguous verifiers: two different keys share {v.name}+{v.key_hash.hex()}")
        known[k] = v

    text, sigs = _parse_note(note)
    verified: list[str] = []
    verified_keys: set[tuple[str, bytes]] = set()
    for n, s in enumerate(sigs, 1):
        v = known.get((s.name, s.key_hash))
        if v is None:
            continue  # unknown key: ignored
        if not v.verify(text, s.sig):
            raise NoteError(f"invalid signature by {s.name}+{s.key_hash.hex()} (signature line {n})")
        if (s.name, s.key_hash) not in verified_keys:
            verified_keys.add((s.name, s.key_hash))
            if s.name not in verified:
                verified.append(s.name)

    if not verified_keys:
        raise NoteError("note has no signature by any known key")
    if require_all:
        missing = [f"{v.name}+{v.key_hash.hex()}" for k, v in known.items() if k not in verified_keys]
        if missing:
            raise NoteError(f"note is not signed by required key(s): {', '.join(missing)}")
    return text, verified


# --------------------------------------------------------------------------------------------
# checkpoints


@dataclass(frozen=True)
class Checkpoint:
    """A tlog-checkpoint: the log's origin, tree size, root hash and optional extension lines."""

    origin: str
    size: int
    root: bytes
    extensions: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not isinstance(self.origin, str):
            raise TypeError("origin must be str")
        if not self.origin:
            raise ValueError("checkpoint origin is empty")
        self._check_line(self.origin, "checkpoint origin")
        if isinstance(self.size, bool) or not isinstance(self.size, int):
            raise TypeError("tree size must be int")
        if not 0 <= self.size <= _MAX_TREE_SIZE:
            raise ValueError(f"tree size {self.size} is out of range [0, 2^64-1]")
        if not isinstance(self.root, (bytes, bytearray, memoryview)):
            raise TypeError("root hash must be bytes")
        object.__setattr__(self, "root", bytes(self.root))
        if len(self.root) != 32:
            raise ValueError(f"root hash must be 32 bytes, got {len(self.root)}")
        if isinstance(self.extensions, str):
            raise TypeError("extensions must be a sequence of lines, not a str")
        ext = tuple(self.extensions)
        for i, line in enumerate(ext, 1):
            if not isinstance(line, str):
                raise TypeError("extension lines must be str")
            if not line:
                raise ValueError(f"checkpoint extension line {i} is empty")
            self._check_line(line, f"checkpoint extension line {i}")
        object.__setattr__(self, "extensions", ext)

    @staticmethod
    def _check_line(line: str, what: str) -> None:
        # Newline is a control character here: each field is exactly one line.
        try:
            _check_utf8(line, what)
            _check_no_controls(line, what, allow_newline=False)
        except NoteError as e:
            raise ValueError(str(e)) from None

    def to_text(self) -> str:
        lines = [self.origin, str(self.size), base64.b64encode(self.root).decode("ascii"), *self.extensions]
        return "".join(line + "\n" for line in lines)

    @classmethod
    def from_text(cls, text: str) -> Checkpoint:
        """Parse checkpoint text strictly; raises ValueError saying what is wrong."""
        if not isinstance(text, str):
            raise TypeError(f"checkpoint text must be str, not {type(text).__name__}")
        if not text.endswith("\n"):
            raise ValueError("checkpoint text must end with a newline")
        lines = text[:-1].split("\n")  # not splitlines(): only "\n" ends a line
        if len(lines) < 3:
            raise ValueError(f"checkpoint needs at least 3 lines (origin, size, root hash), got {len(lines)}")
        origin, size_s, root_s, *ext = lines
        if not origin:
            raise ValueError("checkpoint origin is empty")
        if not _SIZE_RE.fullmatch(size_s):
            raise ValueError(f"checkpoint tree size must be decimal without leading zeros, got {size_s!r}")
        size = int(size_s)
        if size > _MAX_TREE_SIZE:
            raise ValueError(f"checkpoint tree size {size_s} exceeds 2^64-1")
        root = _b64decode_strict(root_s, "checkpoint root hash")
        if len(root) != 32:
            raise ValueError(f"checkpoint root hash must be 32 bytes, got {len(root)}")
        return cls(origin, size, root, tuple(ext))


def sign_checkpoint(cp: Checkpoint, signer: NoteSigner) -> str:
    """The checkpoint as a signed note."""
    if not isinstance(cp, Checkpoint):
        raise TypeError("cp must be a Checkpoint")
    return sign_note(cp.to_text(), signer)


def open_checkpoint(
    note: str | bytes,
    verifiers: Iterable[NoteVerifier],
    origin: str | None = None,
    require_all: bool = False,
) -> Checkpoint:
    """Verify a signed checkpoint (see :func:`open_note`) and parse it.

    With ``origin``, the checkpoint must be for that log. All failures raise :class:`NoteError`.
    """
    text, _ = open_note(note, verifiers, require_all=require_all)
    try:
        cp = Checkpoint.from_text(text)
    except ValueError as e:
        raise NoteError(f"malformed checkpoint: {e}") from None
    if origin is not None and cp.origin != origin:
        raise NoteError(f"checkpoint origin {cp.origin!r} does not match expected {origin!r}")
    return cp
