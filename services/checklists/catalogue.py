"""The catalogue of checklist templates: every version of every procedure, and which one is current.

Rules (kept deliberately simple):

* Versions of a procedure are numbered 1, 2, ... in publication order. A new version must have a
  higher number than every published one, and must start later (``valid_from`` strictly after the
  ``valid_from`` of every published version). So version order is chronological order, and
  validity periods may overlap only with a newer version that starts later.
* ``current(procedure, on)`` is the highest version whose validity covers ``on`` (both ends
  inclusive). A newer version therefore takes over from its ``valid_from``; if a newer version ends
  while an older open-ended one is still valid, the older one applies again (a temporary rule).
* If no version covers ``on``: ``TemplateExpired`` when versions had started by then but all have
  ended (e.g. § 104c AufenthG, time-limited by law), ``TemplateNotFound`` otherwise.
* All versions of a procedure belong to the same office kind.

Procedure ids are global in a catalogue: an office with its own checklist for a procedure uses its
own procedure id (e.g. ``einbuergerung-stag-10-troisdorf``) with ``owner_office`` set.
"""
from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from types import MappingProxyType

from services.checklists.model import Template, TemplateError, load_template

SHIPPED_DIR = Path(__file__).resolve().parent / "data"


class CatalogueError(ValueError):
    """The template files are inconsistent; refuse to start with them."""


class PublishError(CatalogueError):
    """A template cannot be published into the catalogue (version or validity rules); ``german`` says
    why to the admin who publishes (the English message is for the template files' maintainers)."""

    def __init__(self, message: str, german: str):
        super().__init__(message)
        self.german = german


class TemplateNotFound(LookupError):
    def __init__(self, procedure: str, message: str):
        self.procedure = procedure
        super().__init__(message)


class TemplateExpired(TemplateNotFound):
    """Every version that had started by the date has ended."""

    def __init__(self, procedure: str, on: date, last: Template):
        self.on = on
        self.last = last
        super().__init__(
            procedure,
            f"{procedure}: no template valid on {on.isoformat()}; the last version ({last.version}) "
            f"was valid until {last.valid_until.isoformat() if last.valid_until else '-'}",
        )


@dataclass(frozen=True)
class Catalogue:
    # procedure -> versions in ascending order; treat as immutable (publish returns a new catalogue)
    _versions: Mapping[str, tuple[Template, ...]] = field(default_factory=lambda: MappingProxyType({}))

    @classmethod
    def empty(cls) -> Catalogue:
        return cls()

    # ------------------------------------------------------------------ lookup

    def procedures(self) -> tuple[str, ...]:
        return tuple(sorted(self._versions))

    def versions(self, procedure: str) -> tuple[Template, ...]:
        try:
            return self._versions[procedure]
        except KeyError:
            raise TemplateNotFound(procedure, f"unknown procedure {procedure!r}") from None

    def get(self, procedure: str, version: int) -> Template:
        for t in self.versions(procedure):
            if t.version == version:
                return t
        raise TemplateNotFound(procedure, f"{procedure}: no version {version}")

    def current(self, procedure: str, on: date) -> Template:
        versions = self.versions(procedure)
        covering = [t for t in versions if t.covers(on)]
        if covering:
            return max(covering, key=lambda t: t.version)
        started = [t for t in versions if t.valid_from <= on]
        if started:
            raise TemplateExpired(procedure, on, max(started, key=lambda t: t.version))
        first = min(t.valid_from for t in versions)
        raise TemplateNotFound(
            procedure, f"{procedure}: no template valid on {on.isoformat()}; the first starts on {first.isoformat()}")

    def __iter__(self) -> Iterator[Template]:
        for procedure in self.procedures():
            yield from self._versions[procedure]

    def __len__(self) -> int:
        return sum(len(v) for v in self._versions.values())

    # ------------------------------------------------------------------ change

    def publish(self, template: Template) -> Catalogue:
        """A new catalogue with ``template`` added; this one is unchanged. Raises PublishError."""
        existing = self._versions.get(template.procedure, ())
        name = f"{template.procedure} v{template.version}"
        if existing:
            latest = existing[-1]
            if any(t.version == template.version for t in existing):
                raise PublishError(f"{name}: version {template.version} is already published",
                                   f"Version: {template.version} ist bereits veröffentlicht; bitte eine höhere "
                                   f"Versionsnummer als {latest.version} wählen.")
            if template.version <= latest.version:
                raise PublishError(
                    f"{name}: version must be greater than the latest published version ({latest.version})",
                    f"Version: muss größer sein als die zuletzt veröffentlichte Version {latest.version}.")
            last_start = max(t.valid_from for t in existing)
            if template.valid_from <= last_start:
                raise PublishError(
                    f"{name}: valid_from {template.valid_from} must be after {last_start} "
                    f"(the start of version {latest.version}); a new version must start later",
                    f"Beginn der Gültigkeit (valid_from): {template.valid_from:%d.%m.%Y} muss nach dem "
                    f"{last_start:%d.%m.%Y} liegen, dem Beginn von Version {latest.version}.")
            if template.owner_office_kind != latest.owner_office_kind:
                raise PublishError(
                    f"{name}: owner_office_kind {template.owner_office_kind.value} differs from "
                    f"{latest.owner_office_kind.value} of version {latest.version}",
                    f"Zuständige Art von Stelle (owner_office_kind): „{template.owner_office_kind.value}“ "
                    f"weicht von „{latest.owner_office_kind.value}“ der Version {latest.version} ab.")
        versions = dict(self._versions)
        versions[template.procedure] = (*existing, template)
        return Catalogue(MappingProxyType(versions))

    # ------------------------------------------------------------------ consistency with the directory

    def check_owner_offices(self, directory) -> None:  # services.directory.model.Directory
        """Every ``owner_office`` exists in the agency directory and is of the owner kind."""
        problems = []
        for t in self:
            if t.owner_office is None:
                continue
            office = directory.offices.get(t.owner_office)
            if office is None:
                problems.append(f"{t.procedure} v{t.version}: unknown owner_office {t.owner_office}")
            elif office.kind != t.owner_office_kind:
                problems.append(
                    f"{t.procedure} v{t.version}: owner_office {t.owner_office} is a {office.kind.value}, "
                    f"not a {t.owner_office_kind.value}")
        if problems:
            raise CatalogueError("; ".join(problems))


def load_catalogue(path_dir: Path | str) -> Catalogue:
    """Load every ``*.yaml`` / ``*.yml`` file in ``path_dir`` (one template per file).

    Versions of a procedure are published in version order, so the publish rules hold for the
    files too. Raises TemplateError (invalid file) or CatalogueError (inconsistent files), both
    naming the file.
    """
    path_dir = Path(path_dir)
    if not path_dir.is_dir():
        raise CatalogueError(f"checklist template directory {path_dir} does not exist")
    files = sorted([*path_dir.glob("*.yaml"), *path_dir.glob("*.yml")])
    loaded: dict[tuple[str, int], tuple[Template, Path]] = {}
    for path in files:
        template = load_template(path)
        if template.key in loaded:
            other = loaded[template.key][1]
            raise CatalogueError(
                f"{path}: {template.procedure} v{template.version} is also defined in {other}")
        loaded[template.key] = (template, path)
    catalogue = Catalogue.empty()
    for key in sorted(loaded):
        template, path = loaded[key]
        try:
            catalogue = catalogue.publish(template)
        except PublishError as exc:
            raise CatalogueError(f"{path}: {exc}") from None
    return catalogue


def load_shipped_catalogue() -> Catalogue:
    """The example templates shipped with kimhub (``services/checklists/data``)."""
    return load_catalogue(SHIPPED_DIR)


__all__ = [
    "SHIPPED_DIR",
    "Catalogue",
    "CatalogueError",
    "PublishError",
    "TemplateError",
    "TemplateExpired",
    "TemplateNotFound",
    "load_catalogue",
    "load_shipped_catalogue",
]
