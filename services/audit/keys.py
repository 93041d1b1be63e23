"""The audit log's secrets: the pseudonym key (HMAC) and the checkpoint signing key (Ed25519).

Production: both come from the environment (``KIMHUB_LOG_PSEUDONYM_KEY`` as hex,
``KIMHUB_LOG_SIGNING_KEY`` as a signed-note private key). The embedded set-up creates them once in
the data directory. A shared database without configured keys is refused: two processes with
different keys would write an inconsistent log.
"""
from __future__ import annotations

import os
import secrets
from pathlib import Path

from services.audit.note_keys import NoteSigner, NoteVerifier
from services.kernel.settings import Settings


class MissingKey(RuntimeError):
    pass


def _local(settings: Settings, name: str, make) -> str:
    if not settings.effective_database_url.startswith("sqlite"):
        raise MissingKey(f"KIMHUB_{name.upper()} must be set when the database is shared (not the embedded SQLite).")
    path = Path(settings.data_dir) / f"{name}.secret"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(make())
    return path.read_text().strip()


def pseudonym_key(settings: Settings) -> bytes:
    value = settings.log_pseudonym_key.get_secret_value() or _local(
        settings, "log_pseudonym_key", lambda: secrets.token_hex(32))
    try:
        key = bytes.fromhex(value)
    except ValueError:
        raise MissingKey("KIMHUB_LOG_PSEUDONYM_KEY must be hex (at least 32 hex characters)") from None
    if len(key) < 16:
        raise MissingKey("KIMHUB_LOG_PSEUDONYM_KEY must have at least 32 hex characters")
    return key


def signer(settings: Settings) -> NoteSigner:
    name = settings.log_origin.split("/")[0]
    value = settings.log_signing_key.get_secret_value() or _local(
        settings, "log_signing_key", lambda: NoteSigner.generate(name).skey)
    return NoteSigner.from_skey(value)


def cosigners(settings: Settings) -> list[NoteVerifier]:
    """Public keys allowed to cosign checkpoints (e.g. the DPO's)."""
    return [NoteVerifier.from_vkey(v.strip()) for v in settings.log_cosigner_keys.split(",") if v.strip()]
