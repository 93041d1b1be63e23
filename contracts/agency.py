"""Agency directory types: office kinds, offices and who is competent where."""
from enum import StrEnum

from pydantic import Field

from contracts.base import Contract

OFFICE_ID_PATTERN = r"^[a-z0-9][a-z0-9-]{1,62}$"
MUNICIPALITY_PATTERN = r"^[0-9]{8}$"  # Amtlicher Gemeindeschlüssel (AGS)

OfficeId = str
MunicipalityKey = str


class OfficeKind(StrEnum):
    ABH = "abh"  # Ausländerbehörde
    EBH = "ebh"  # Einbürgerungsbehörde
    JOBCENTER = "jobcenter"
    JUGENDAMT = "jugendamt"
    KIM = "kim"  # Kommunales Integrationsmanagement, Case Management

    @property
    def label(self) -> str:
        return {
            OfficeKind.ABH: "Ausländerbehörde",
            OfficeKind.EBH: "Einbürgerungsbehörde",
            OfficeKind.JOBCENTER: "Jobcenter",
            OfficeKind.JUGENDAMT: "Jugendamt",
            OfficeKind.KIM: "KIM Case Management",
        }[self]


class Office(Contract):
    id: OfficeId = Field(pattern=OFFICE_ID_PATTERN)
    kind: OfficeKind
    name: str = Field(min_length=1, max_length=200)
    accepts_open_items: bool = Field(True, description="Accepts pre-checked referrals with open checklist items")


class Region(Contract):
    """A Kreis or kreisfreie Stadt: default offices per kind, overridden per municipality."""

    name: str
    default_offices: dict[OfficeKind, OfficeId] = {}
    municipalities: list["RegionMunicipality"]


class RegionMunicipality(Contract):
    key: MunicipalityKey = Field(pattern=MUNICIPALITY_PATTERN)
    name: str
    offices: dict[OfficeKind, OfficeId] = {}


class DirectoryFile(Contract):
    """The on-disk agency directory (YAML), validated at start-up."""

    demo: bool = False
    note: str = ""
    offices: list[Office]
    regions: list[Region]
