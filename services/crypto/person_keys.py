"""Person keys for crypto-shredding: a 256-bit data key per person, stored only wrapped by a master key.

Each person's content is sealed under their current key (``seal.seal_for_person``); the key id travels in
the token's protected header. The repository holds the wrapped keys; the master key (local here, a
KMS/PKCS#11 behind the same protocol in production) wraps and unwraps them. Destroying a person's keys
deletes the wrapped keys: no copy of what they sealed opens again, wherever it is stored. Nothing is
cached here, so a destruction takes effect on the next opening. Backups of the key table would bring
destroyed keys back: keep that table out of long-lived backups, or rotate the master key (``rewrap``) and
then destroy the old master, so that old copies of the table no longer unwrap.

Opening can be gated: ``for_opening(kid, release)`` asks a release check (the cryptographic consent
gate) before it unwraps anything.

Wrapping is AES key wrap (RFC 3394), which authenticates the wrapped key. A wrapped key moved to another
row (another kid) yields a key that fails every token, because the token's kid is authenticated by
its A256GCM tag.
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import os
import secrets
import stat
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Awaitable, Callable, Iterable, Protocol

from cryptography.hazmat.primitives.keywrap import InvalidUnwrap, aes_key_unwrap, aes_key_wrap

from services.crypto.errors import KeyDestroyed, KeyFileExposed, MasterKeyMissing

KEY_BYTES = 32


@dataclass(frozen=True)
class PersonKey:
    """A person's unwrapped data key; ``repr`` never shows the secret."""

    kid: str
    person: str
    secret: bytes = field(repr=False)

    def __post_init__(self):
        if len(self.secret) != KEY_BYTES:
            raise ValueError(f"person keys are {KEY_BYTES} bytes")


@dataclass(frozen=True)
class WrappedKey:
    """A person key as stored: wrapped by the master key ``master_kid``; ``created_at`` orders a person's keys."""

    kid: str
    person: str
    master_kid: str
    wrapped: bytes = field(repr=False)
    created_at: datetime


KeyRelease = Callable[[WrappedKey], Awaitable[None]]
"""A check run by the key service before it unwraps a key for opening: it sees the stored key (kid, person)
and raises (:class:`~services.crypto.errors.KeyReleaseRefused`) to refuse. The cryptographic consent gate
is such a check: it closes over the item's metadata (consent reference, recipient, categories)."""


class MasterKey(Protocol):
    """Wraps person keys; a KMS or PKCS#11 implementation replaces :class:`LocalMasterKey`."""

    kid: str

    def wrap(self, key: bytes) -> bytes: ...

    def unwrap(self, wrapped: bytes) -> bytes: ...


class PersonKeyRepository(Protocol):
    """Where the wrapped keys live (the integrator's SQL repository; a dict in the unit tests)."""

    async def current(self, person: str) -> WrappedKey | None: ...

    async def by_kid(self, kid: str) -> WrappedKey | None: ...

    async def add(self, wrapped: WrappedKey) -> None: ...

    async def destroy(self, person: str) -> int: ...

    async def all_wrapped_by(self, master_kid: str) -> list[WrappedKey]: ...

    async def replace(self, wrapped: WrappedKey) -> None: ...


def _decode_secret(text: str) -> bytes:
    """32 bytes from 64 hex characters or base64 (standard or URL-safe, padding optional)."""
    text = text.strip()
    try:
        return bytes.fromhex(text) if len(text) == 2 * KEY_BYTES else base64.urlsafe_b64decode(
            text.replace("+", "-").replace("/", "_") + "=" * (-len(text) % 4))
    except (ValueError, binascii.Error):
        raise ValueError("the master key is 32 bytes as hex or base64") from None


class LocalMasterKey:
    """A master key held by this process: AES-256 key wrap (RFC 3394) under a 32-byte secret.

    Its kid is a fingerprint of the secret (HMAC-like, not reversible), so rows say which master wrapped them.
    """

    def __init__(self, secret: bytes):
        if len(secret) != KEY_BYTES:
            raise ValueError(f"the master key is {KEY_BYTES} bytes")
        self._secret = bytes(secret)
        self.kid = "local-" + hashlib.sha256(b"kimhub master key id\n" + self._secret).hexdigest()[:16]

    def __repr__(self) -> str:
        return f"LocalMasterKey(kid={self.kid!r})"

    @classmethod
    def from_text(cls, text: str) -> LocalMasterKey:
        """From a setting: 64 hex characters or base64 of 32 bytes."""
        secret = _decode_secret(text)
        if len(secret) != KEY_BYTES:
            raise ValueError("the master key is 32 bytes as hex or base64")
        return cls(secret)

    @classmethod
    def from_file(cls, path: Path) -> LocalMasterKey:
        """From a file of mode 0600 holding the key as text (hex or base64)."""
        if os.name == "posix" and stat.S_IMODE(Path(path).stat().st_mode) & 0o077:
            raise KeyFileExposed(f"{Path(path).name} must have mode 0600")
        return cls.from_text(Path(path).read_text())

    @classmethod
    def ensure_file(cls, path: Path) -> LocalMasterKey:
        """Dev: create the file (0600, a fresh random key as hex) when missing, then read it."""
        path = Path(path)
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            try:
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            except FileExistsError:  # another process was first
                return cls.from_file(path)
            with os.fdopen(fd, "w") as f:
                f.write(secrets.token_hex(KEY_BYTES) + "\n")
        return cls.from_file(path)

    def wrap(self, key: bytes) -> bytes:
        return aes_key_wrap(self._secret, key)

    def unwrap(self, wrapped: bytes) -> bytes:
        return aes_key_unwrap(self._secret, wrapped)


class PersonKeys:
    """The key service's core: creates, unwraps, rotates, destroys and rewraps person keys.

    ``previous`` master keys still unwrap (e.g. while another process finishes a master rotation).
    """

    def __init__(self, repo: PersonKeyRepository, master: MasterKey, previous: Iterable[MasterKey] = ()):
        self.repo = repo
        self.master = master
        self._masters = {m.kid: m for m in previous}

    async def for_sealing(self, person: str, now: datetime) -> PersonKey:
        """The person's current key; their first one is created (and stored wrapped) on first use."""
        wrapped = await self.repo.current(person)
        return self._unwrap(wrapped) if wrapped is not None else await self._create(person, now)

    async def for_sealing_many(self, persons: Iterable[str], now: datetime) -> dict[str, PersonKey]:
        """``for_sealing`` for a group (one read when the repository has ``current_many``)."""
        persons = sorted(set(persons))
        current_many = getattr(self.repo, "current_many", None)
        found = await current_many(persons) if current_many else {p: await self.repo.current(p) for p in persons}
        return {p: self._unwrap(found[p]) if found.get(p) is not None else await self._create(p, now)
                for p in persons}

    async def for_opening(self, kid: str, release: KeyRelease | None = None) -> PersonKey:
        """The key with this kid; KeyDestroyed when it is gone (destroyed or never issued). ``release``,
        when given, is asked first and may refuse; nothing is unwrapped before it agreed."""
        wrapped = await self.repo.by_kid(kid)
        if wrapped is None:
            raise KeyDestroyed(f"person key {kid} is not available")
        if release is not None:
            await release(wrapped)
        return self._unwrap(wrapped)

    async def rotate(self, person: str, now: datetime) -> PersonKey:
        """A new current key for the person; their older keys still open what they sealed."""
        return await self._create(person, now)

    async def destroy(self, person: str) -> int:
        """Delete every wrapped key of the person; returns how many. Nothing they sealed opens again."""
        return await self.repo.destroy(person)

    async def rewrap(self, new_master: MasterKey) -> int:
        """Master key rotation: every key wrapped by the current master is rewrapped by ``new_master``,
        which then becomes the current master (the old one stays for unwrapping). Returns how many."""
        rewrapped = 0
        for wrapped in await self.repo.all_wrapped_by(self.master.kid):
            secret = self._unwrap(wrapped).secret
            await self.repo.replace(WrappedKey(wrapped.kid, wrapped.person, new_master.kid,
                                               new_master.wrap(secret), wrapped.created_at))
            rewrapped += 1
        self._masters[self.master.kid] = self.master
        self.master = new_master
        return rewrapped

    async def _create(self, person: str, now: datetime) -> PersonKey:
        key = PersonKey(kid=new_person_kid(), person=person, secret=secrets.token_bytes(KEY_BYTES))
        await self.repo.add(WrappedKey(key.kid, person, self.master.kid, self.master.wrap(key.secret), now))
        return key

    def _unwrap(self, wrapped: WrappedKey) -> PersonKey:
        master = self.master if wrapped.master_kid == self.master.kid else self._masters.get(wrapped.master_kid)
        if master is None:
            raise MasterKeyMissing(f"master key {wrapped.master_kid} is not held here")
        try:
            secret = master.unwrap(wrapped.wrapped)
        except InvalidUnwrap:
            raise MasterKeyMissing(f"person key {wrapped.kid} does not unwrap under {master.kid}") from None
        return PersonKey(wrapped.kid, wrapped.person, secret)


def new_person_kid() -> str:
    """A random key id (128 bits): it travels in token headers, so it says nothing about the person."""
    return "pk-" + secrets.token_urlsafe(16)
