"""The keys this process holds, loaded once at start-up: the offices' rings (the key store the
offices control: a directory of files, generated on the embedded default), the master key that
wraps the person keys, and the hub's delivery signing key.

Production: ``KIMHUB_KEYS_DIR`` holds the offices' rings (mounted secrets), ``KIMHUB_MASTER_KEY`` the
master key (or ``master.key`` there), ``KIMHUB_DELIVERY_SIGNING_KEY`` the hub's delivery signing key
(or ``delivery-signing-key.pem`` there); nothing is
generated unless ``KIMHUB_KEYS_GENERATE=true``. A KMS or PKCS#11 master key replaces
``LocalMasterKey`` behind the ``MasterKey`` protocol.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from datetime import datetime, timezone
from pathlib import Path

from services.crypto.errors import NoKeys
from services.crypto.key_store import OfficeKeyStore
from services.crypto.office_keys import OfficeKeyRing
from services.crypto.person_keys import LocalMasterKey, MasterKey, PersonKeys
from services.crypto.signature import DeliverySigner, DeliveryVerifier
from services.kernel.settings import Settings

DEV_KEY_BITS = 3072  # generated dev keys; an office brings its own in production
SIGNING_KEY_FILE = "delivery-signing-key.pem"
MASTER_KEY_FILE = "master.key"


class KeysMissing(RuntimeError):
    """A key the configuration must provide (the message names the setting)."""


@dataclass
class Keys:
    offices: OfficeKeyStore
    master: MasterKey
    signer: DeliverySigner
    generate: bool
    _rings: dict = field(default_factory=dict, repr=False)  # office → (file mtime, ring)

    @cached_property
    def verifier(self) -> DeliveryVerifier:
        return DeliveryVerifier(self.signer.public_jwk)

    def ring(self, office: str, now: datetime) -> OfficeKeyRing:
        """The office's ring (private: only where the office's keys are kept); dev keys made when missing.

        Read once and kept while its file is unchanged: importing an RSA private key costs milliseconds,
        too much for every transfer; a rotation (a new file) is picked up at the next call."""
        try:
            stamp = self.offices.path(office).stat().st_mtime_ns
        except FileNotFoundError:
            stamp = None
        cached = self._rings.get(office)
        if cached is not None and stamp is not None and cached[0] == stamp:
            return cached[1]
        try:
            ring = self.offices.ring(office)
        except NoKeys:
            if not self.generate:
                raise
            ring = self.offices.ensure(office, now, DEV_KEY_BITS)
        self._rings[office] = (self.offices.path(office).stat().st_mtime_ns, ring)
        return ring

    def ensure_offices(self, offices: list[str]) -> None:
        """Dev keys for every office that has none yet (the embedded default; once per key directory)."""
        now = datetime.now(timezone.utc)
        for office in offices:
            self.ring(office, now)

    def public_jwks(self, office: str, now: datetime) -> dict:
        """What the agency directory publishes for ``office``: its public encryption keys."""
        return self.ring(office, now).public_jwks(now)

    def person_keys(self, uow) -> PersonKeys:
        """The key service's person keys on a unit of work's connection."""
        return PersonKeys(uow.person_keys, self.master)

    @classmethod
    def from_settings(cls, settings: Settings) -> Keys:
        root = settings.effective_keys_dir
        generate = settings.generate_keys
        master = _master(settings, root, generate)
        signing_key = settings.delivery_signing_key.get_secret_value()
        signer = DeliverySigner.from_pem(signing_key) if signing_key else _signer(root, generate)
        return cls(OfficeKeyStore(root), master, signer, generate)


def _master(settings: Settings, root: Path, generate: bool) -> MasterKey:
    if settings.master_key.get_secret_value():
        return LocalMasterKey.from_text(settings.master_key.get_secret_value())
    path = root / MASTER_KEY_FILE
    if path.exists():
        return LocalMasterKey.from_file(path)
    if not generate:
        raise KeysMissing(f"KIMHUB_MASTER_KEY (or {path}) must be set: it wraps the person keys")
    return LocalMasterKey.ensure_file(path)


def _signer(root: Path, generate: bool) -> DeliverySigner:
    path = root / SIGNING_KEY_FILE
    if not path.exists():
        if not generate:
            raise KeysMissing(f"{path} (the hub's delivery signing key, Ed25519 PEM) is missing")
        root.mkdir(mode=0o700, parents=True, exist_ok=True)
        try:
            with open(path, "xb") as f:
                path.chmod(0o600)
                f.write(DeliverySigner.generate().to_pem())
        except FileExistsError:
            pass
    return DeliverySigner.from_pem(path.read_bytes())
