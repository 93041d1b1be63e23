"""The office key store: a directory the office controls, one private ring per office in
``<root>/<office>.jwks.json``, mode 0600 (a file readable by others is refused).

A KMS/PKCS#11 store would keep the same three methods; the file store is the embedded default and the
simple production choice for an office that runs its own delivery side.
"""
from __future__ import annotations

import os
import re
import stat
import tempfile
from datetime import datetime
from pathlib import Path

from services.crypto.errors import KeyFileExposed, NoKeys
from services.crypto.office_keys import NEW_KEY_BITS, OfficeKeyRing

_OFFICE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,99}")


class OfficeKeyStore:
    """Private office rings as files under ``root`` (created 0700)."""

    def __init__(self, root: Path):
        self.root = Path(root)

    def path(self, office: str) -> Path:
        """The ring's file; an office id that could leave the directory is refused."""
        if not _OFFICE.fullmatch(office) or ".." in office:
            raise ValueError("office ids are letters, digits, '.', '_' and '-'")
        return self.root / f"{office}.jwks.json"

    def ring(self, office: str) -> OfficeKeyRing:
        """The office's private ring; NoKeys when there is none, KeyFileExposed when others may read it."""
        path = self.path(office)
        try:
            mode = path.stat().st_mode
        except FileNotFoundError:
            raise NoKeys(f"no keys for office {office}") from None
        if os.name == "posix" and stat.S_IMODE(mode) & 0o077:
            raise KeyFileExposed(f"{path.name} must have mode 0600")
        ring = OfficeKeyRing.from_json(path.read_text())
        if ring.office != office:
            raise ValueError(f"{path.name} holds the keys of another office")
        return ring

    def ensure(self, office: str, now: datetime, bits: int = NEW_KEY_BITS) -> OfficeKeyRing:
        """The office's ring, generated when missing (dev). Two processes racing keep the first ring."""
        try:
            return self.ring(office)
        except NoKeys:
            pass
        self._write(OfficeKeyRing.generate(office, now, bits), replace=False)
        return self.ring(office)

    def save(self, ring: OfficeKeyRing) -> None:
        """Write a private ring (after rotate or prune), replacing the file atomically."""
        if not ring.is_private:
            raise ValueError("the key store keeps private rings only")
        self._write(ring, replace=True)

    def _write(self, ring: OfficeKeyRing, replace: bool) -> None:
        """Write to a 0600 temporary file, then rename it over (or link it to, keeping a winner) the ring."""
        target = self.path(ring.office)
        self.root.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.root, prefix=".", suffix=".tmp")  # mkstemp: mode 0600
        try:
            with os.fdopen(fd, "w") as f:
                f.write(ring.to_json())
                f.flush()
                os.fsync(f.fileno())
            if replace:
                os.replace(tmp, target)
            else:
                try:
                    os.link(tmp, target)
                except FileExistsError:
                    pass
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
