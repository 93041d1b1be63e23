"""Statutory routes: the explicit allowlist of transfers that rest on law instead of consent."""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict

from contracts.agency import OfficeKind

ALLOWLIST = Path(__file__).resolve().parent / "data" / "statutory.yaml"


class Route(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    sender_kind: OfficeKind
    recipient_kind: OfficeKind
    message_type: str
    statute: str


@dataclass(frozen=True)
class StatutoryRoutes:
    routes: tuple[Route, ...]

    def legal_basis(self, sender_kind: str, recipient_kind: str, message_type: str) -> str | None:
        for r in self.routes:
            if (r.sender_kind.value, r.recipient_kind.value, r.message_type) == (sender_kind, recipient_kind,
                                                                                  message_type):
                return r.statute
        return None

    def requires_statute(self, message_type: str) -> bool:
        """Message types that exist only as statutory notices (never sent on consent)."""
        return any(r.message_type == message_type for r in self.routes)


@lru_cache(maxsize=4)
def load_routes(path: Path = ALLOWLIST) -> StatutoryRoutes:
    data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    return StatutoryRoutes(tuple(Route.model_validate(r) for r in data["routes"]))
