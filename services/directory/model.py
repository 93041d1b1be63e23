"""Recipient resolution: office kind + the person's municipality -> the competent office; and each
office's controller (Art. 4 No. 7 GDPR): the Kreis or kreisfreie Stadt of the municipalities it serves,
the first five digits of their AGS (``docs/controllers.md``)."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import yaml

from contracts.agency import DirectoryFile, Office, OfficeKind


class DirectoryError(ValueError):
    """The directory file is inconsistent; the hub refuses to start with it."""


class UnknownOffice(LookupError):
    pass


class NoCompetentOffice(LookupError):
    pass


@dataclass(frozen=True)
class Directory:
    offices: dict[str, Office]
    competent: dict[tuple[str, OfficeKind], str]  # (municipality, kind) -> office id
    municipality_names: dict[str, str]
    demo: bool = False
    note: str = ""
    controllers: dict[str, str] = field(default_factory=dict)  # office id -> controller (Kreis key, 5 digits)
    controller_names: dict[str, str] = field(default_factory=dict)  # Kreis key -> name of its region
    _served: dict[str, frozenset[str]] = field(default_factory=dict, init=False, repr=False, compare=False)

    def office(self, office_id: str) -> Office:
        try:
            return self.offices[office_id]
        except KeyError:
            raise UnknownOffice(office_id) from None

    def resolve(self, kind: OfficeKind, municipality: str) -> Office:
        if municipality not in self.municipality_names:
            raise NoCompetentOffice(f"unknown municipality {municipality}")
        try:
            return self.offices[self.competent[(municipality, kind)]]
        except KeyError:
            raise NoCompetentOffice(f"no {kind.value} for municipality {municipality}") from None

    def competent_for(self, office_id: str) -> frozenset[str]:
        """Municipalities the office serves (for its own kind); worked out once per office."""
        served = self._served.get(office_id)
        if served is None:
            served = self._served[office_id] = frozenset(m for (m, _), o in self.competent.items() if o == office_id)
        return served

    def controller_of(self, office_id: str) -> str | None:
        """The Kreis or kreisfreie Stadt responsible for the office (None: it serves no municipality)."""
        return self.controllers.get(office_id)

    def same_controller(self, office_id: str) -> frozenset[str]:
        """The offices under the same controller as ``office_id`` (only itself if it has none)."""
        controller = self.controllers.get(office_id)
        if controller is None:
            return frozenset({office_id})
        return frozenset(o for o, c in self.controllers.items() if c == controller)

    @classmethod
    def from_file(cls, data: DirectoryFile) -> Directory:
        offices: dict[str, Office] = {}
        for o in data.offices:
            if o.id in offices:
                raise DirectoryError(f"office {o.id} listed twice")
            offices[o.id] = o
        competent: dict[tuple[str, OfficeKind], str] = {}
        names: dict[str, str] = {}
        for region in data.regions:
            for m in region.municipalities:
                if m.key in names:
                    raise DirectoryError(f"municipality {m.key} listed twice")
                names[m.key] = m.name
                for kind in OfficeKind:
                    office_id = m.offices.get(kind) or region.default_offices.get(kind)
                    if office_id is None:
                        continue
                    office = offices.get(office_id)
                    if office is None:
                        raise DirectoryError(f"{m.name}: unknown office {office_id}")
                    if office.kind != kind:
                        raise DirectoryError(f"{m.name}: {office_id} is a {office.kind.value}, not a {kind.value}")
                    competent[(m.key, kind)] = office_id
        return cls(offices, competent, names, data.demo, data.note, _controllers(competent),
                   {m.key[:5]: region.name for region in data.regions for m in region.municipalities})


def _controllers(competent: dict[tuple[str, OfficeKind], str]) -> dict[str, str]:
    """Each office's controller: the one Kreis (AGS[:5]) of the municipalities it is competent for."""
    kreise: dict[str, set[str]] = {}
    for (municipality, _kind), office_id in competent.items():
        kreise.setdefault(office_id, set()).add(municipality[:5])
    for office_id, keys in kreise.items():
        if len(keys) > 1:
            raise DirectoryError(f"office {office_id} serves several Kreise ({', '.join(sorted(keys))}): "
                                 f"one controller per office")
    return {office_id: next(iter(keys)) for office_id, keys in kreise.items()}


def load_directory(path: Path) -> Directory:
    try:
        raw = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise DirectoryError(f"cannot read directory {path}: {exc}") from exc
    try:
        return Directory.from_file(DirectoryFile.model_validate(raw))
    except ValueError as exc:
        raise DirectoryError(f"invalid directory {path}: {exc}") from exc
