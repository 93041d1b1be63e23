"""Who is acting: a user of one office with roles. Produced by the gateway's authentication."""
from dataclasses import dataclass
from enum import StrEnum


class Role(StrEnum):
    CASE_MANAGER = "case_manager"
    CLERK = "clerk"
    DPO = "dpo"
    ADMIN = "admin"

    @property
    def label(self) -> str:
        """The role's German name, as users see it."""
        return _ROLE_LABELS[self]


_ROLE_LABELS = {
    Role.CASE_MANAGER: "Fallmanagement (KIM)",
    Role.CLERK: "Sachbearbeitung",
    Role.DPO: "Datenschutzbeauftragte*r",
    Role.ADMIN: "Administration",
}


@dataclass(frozen=True)
class Actor:
    user: str
    office: str
    roles: frozenset[Role]

    def has(self, role: Role) -> bool:
        return role in self.roles
