"""C2SP ``signed-note``: a text signed by one or more Ed25519 keys, and cosigning.

The wire format is compatible with ``golang.org/x/mod/sumdb/note`` (c2sp.org/signed-note).
A note is::

    <text, one or more lines, each ending in "\\n">
    <blank line>
    — <key name> <base64(key hash[4] || Ed25519 signature[64])>
    ...

The keys are in :mod:`services.audit.note_keys`. This implementation is deliberately a little
stricter than the Go reference when *opening* notes: base64 must be canonical (padded, no non-zero
trailing bits), DEL (0x7f) counts as a control character, and every signature line by a known key
is verified (a repeated line by the same key is not silently skipped).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

from services.audit.note_keys import (
    SIG_PREFIX,
    NoteError,
    NoteSigner,
    NoteVerifier,
    b64decode_strict,
    check_key_name,
    check_no_controls,
    check_note_text,
    check_utf8,
)

__all__ = [
    "add_signature",
    "open_note",
    "sign_note",
]

MAX_SIGNATURES = 100
"""A note with more signature lines than this is rejected as malformed (as in the Go package)."""


@dataclass(frozen=True)
class _SigLine:
    name: str
    key_hash: bytes
    sig: bytes


def _note_as_str(note: str | bytes) -> str:
    """The note as text: bytes are decoded as UTF-8 (:class:`NoteError` if they are not UTF-8)."""
    if isinstance(note, (bytes, bytearray, memoryview)):
        try:
            note = bytes(note).decode("utf-8")
        except UnicodeDecodeError as e:
            raise NoteError(f"note is not valid UTF-8 (byte {e.start})") from None
    if not isinstance(note, str):
        raise TypeError(f"note must be str or bytes, not {type(note).__name__}")
    return note


def _split_note(note: str) -> tuple[str, list[str]]:
    """(text ending in its last newline, signature lines without their newlines)."""
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
    return text, lines


def _parse_signature_line(n: int, line: str) -> _SigLine:
    """Signature line number ``n``: ``— <key name> <base64(key hash || signature)>``."""
    if not line.startswith(SIG_PREFIX):
        raise NoteError(f"malformed note: signature line {n} does not start with '\u2014 ' (em dash, space)")
    name, sep, b64 = line[len(SIG_PREFIX) :].partition(" ")
    if not sep or not b64:
        raise NoteError(f"malformed note: signature line {n} has no signature after the key name")
    try:
        check_key_name(name)
    except ValueError as e:
        raise NoteError(f"malformed note: signature line {n}: {e}") from None
    try:
        raw = b64decode_strict(b64, f"signature line {n}")
    except ValueError as e:
        raise NoteError(f"malformed note: {e}") from None
    if len(raw) < 5:
        raise NoteError(f"malformed note: signature line {n} is too short ({len(raw)} bytes)")
    return _SigLine(name, raw[:4], raw[4:])


def _parse_note(note: str | bytes) -> tuple[str, list[_SigLine]]:
    """Structural parse, no verification: (text, signature lines in order)."""
    note = _note_as_str(note)
    check_utf8(note, "note")
    check_no_controls(note, "note", allow_newline=True)
    text, lines = _split_note(note)
    return text, [_parse_signature_line(n, line) for n, line in enumerate(lines, 1)]


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
    check_note_text(text)
    uniq = _signers_unique(signers)
    if not uniq:
        raise ValueError("sign_note needs at least one signer")
    if len(uniq) > MAX_SIGNATURES:
        raise NoteError(f"at most {MAX_SIGNATURES} signatures per note")
    return text + "\n" + "".join(s.sign(text) for s in uniq)


def add_signature(note: str | bytes, signer: NoteSigner) -> str:
    """Cosign ``note``: append ``signer``'s signature line, keeping the existing ones.

    This only checks that the note is well formed, not that its existing signatures are valid:
    open it with :func:`open_note` / :func:`~services.audit.checkpoint.open_checkpoint` first and
    cosign only what verified. Refuses if the note already carries a signature by the same key
    (same name and key hash).
    """
    note = _note_as_str(note)
    text, sigs = _parse_note(note)
    (signer,) = _signers_unique([signer])
    if any(s.name == signer.name and s.key_hash == signer.key_hash for s in sigs):
        raise NoteError(f"note is already signed by {signer.name}+{signer.key_hash.hex()}")
    if len(sigs) + 1 > MAX_SIGNATURES:
        raise NoteError(f"note already has {len(sigs)} signatures; at most {MAX_SIGNATURES} allowed")
    return note + signer.sign(text)


def _verifiers_by_key(verifiers: Iterable[NoteVerifier]) -> dict[tuple[str, bytes], NoteVerifier]:
    """The verifiers by (name, key hash); two different keys under one such pair are ambiguous."""
    known: dict[tuple[str, bytes], NoteVerifier] = {}
    for v in verifiers:
        if not isinstance(v, NoteVerifier):
            raise TypeError(f"verifier must be a NoteVerifier, not {type(v).__name__}")
        k = (v.name, v.key_hash)
        other = known.get(k)
        if other is not None and other != v:
            raise NoteError(f"ambiguous verifiers: two different keys share {v.name}+{v.key_hash.hex()}")
        known[k] = v
    return known


def open_note(
    note: str | bytes, verifiers: Iterable[NoteVerifier], require_all: bool = False
) -> tuple[str, list[str]]:
    """Verify ``note`` and return ``(text, names of the given verifiers whose signatures verified)``.

    Signatures by keys not among ``verifiers`` are ignored. Raises :class:`NoteError` if the note
    is malformed, if any signature by a known key is invalid, if no known key signed, or (with
    ``require_all``) if any of ``verifiers`` did not sign.
    """
    known = _verifiers_by_key(verifiers)
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
