"""Signed checkpoints of the transfer log: C2SP ``tlog-checkpoint`` in a C2SP ``signed-note``.

The hub signs a checkpoint (origin, tree size, root hash, extension lines) of its transfer log
with an Ed25519 key; the data-protection officer verifies it offline with the hub's verifier key
and may cosign it with their own key. The wire format is compatible with c2sp.org/tlog-checkpoint;
the note and its signatures are in :mod:`services.audit.signed_note`, the keys in
:mod:`services.audit.note_keys`.

A checkpoint is a note text of the form::

    <origin>
    <tree size, decimal>
    <base64 of the 32-byte root hash>
    [<extension line>...]
"""
from __future__ import annotations

import base64
import re
from dataclasses import dataclass
from typing import Iterable

from services.audit.note_keys import (NoteError, NoteSigner, NoteVerifier, b64decode_strict, check_no_controls,
                                     check_utf8)
from services.audit.signed_note import open_note, sign_note

__all__ = [
    "Checkpoint",
    "open_checkpoint",
    "sign_checkpoint",
]

_MAX_TREE_SIZE = 2**64 - 1
_SIZE_RE = re.compile(r"(?:0|[1-9][0-9]*)", re.ASCII)


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
            check_utf8(line, what)
            check_no_controls(line, what, allow_newline=False)
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
        root = b64decode_strict(root_s, "checkpoint root hash")
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
