"""Who is acting: a user of one office with roles. Produced by the gateway's authentication."""
from dataclasses import dataclass
from enum import StrEnum


class Role(StrEnum):
    CASE_MANAGER = "case_manager"
    CLERK = "clerk"
    DPO = "dpo"
    ADMIN = "admin"


@dataclass(frozen=True)
class Actor:
    user: str
    office: str
    roles: frozenset[Role]

    def has(self, role: Role) -> bool:
        return role in self.roles
