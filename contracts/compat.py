"""Breaking changes between two JSON Schemas of one contract (as exported by contracts.export).

Policy: a new version must accept every message the old one accepted, and keep every field
old consumers know, with the same data category. So these are breaking:

- a property removed (required or not),
- a property's type narrowed: a "type", "$ref" target or anyOf member of the old schema that
  the new one no longer offers (renaming a referenced model counts as a change of type),
- a property newly required (in the new "required" but not the old, new properties included),
- an enum/const value removed, or a free value newly restricted to an enum,
- additional properties no longer allowed,
- the ``x-data-category`` of a field changed, added or dropped.

Adding optional properties, enum values or anyOf members is not breaking. Constraints
(lengths, patterns, formats) and titles/descriptions/defaults are not compared.
"""
from typing import Any

from contracts.base import CATEGORY_KEY

Schema = dict[str, Any]


def breaking_changes(old_schema: Schema, new_schema: Schema) -> list[str]:
    """Human-readable breaking changes from ``old_schema`` to ``new_schema`` (empty: compatible)."""
    diff = _Diff(old_schema, new_schema)
    diff.node(old_schema, new_schema, old_schema.get("title", "$"))
    return list(dict.fromkeys(diff.problems))  # de-duplicate, keep order


class _Diff:
    def __init__(self, old_root: Schema, new_root: Schema) -> None:
        self.old_defs = old_root.get("$defs", {})
        self.new_defs = new_root.get("$defs", {})
        self.seen_defs: set[str] = set()
        self.problems: list[str] = []

    def report(self, path: str, message: str) -> None:
        self.problems.append(f"{path}: {message}")

    def node(self, old: Schema, new: Schema, path: str) -> None:
        """Compare the schemas of one value (a property, an item, a model)."""
        if old.get(CATEGORY_KEY) != new.get(CATEGORY_KEY):
            self.report(path, f"data category changed from {old.get(CATEGORY_KEY)} to {new.get(CATEGORY_KEY)}")
        old_alts, new_alts = _alternatives(old), _alternatives(new)
        if "any" in new_alts:
            return
        lost = [key for key in old_alts if key not in new_alts and not (key == "integer" and "number" in new_alts)]
        if lost:
            self.report(path, f"type changed from {_show(old_alts)} to {_show(new_alts)}")
        for key, old_alt in old_alts.items():
            new_alt = new_alts.get(key) or (new_alts.get("number") if key == "integer" else None)
            if new_alt is not None:
                self.member(old_alt, new_alt, path)

    def member(self, old: Schema, new: Schema, path: str) -> None:
        """Compare two alternatives of the same kind (same $ref target or same JSON type)."""
        if "$ref" in old:
            name = _ref_name(old["$ref"])
            if name not in self.seen_defs:  # each shared definition once; also stops recursion
                self.seen_defs.add(name)
                self.node(_resolve(self.old_defs, old["$ref"]), _resolve(self.new_defs, new["$ref"]), name)
            return
        old_values, new_values = _enum_values(old), _enum_values(new)
        if old_values is not None and new_values is not None:
            removed = [v for v in old_values if v not in new_values]
            if removed:
                self.report(path, f"enum value(s) removed: {', '.join(map(repr, removed))}")
        elif new_values is not None:
            self.report(path, f"now restricted to the values {', '.join(map(repr, new_values))}")
        if isinstance(old.get("items"), dict) and isinstance(new.get("items"), dict):
            self.node(old["items"], new["items"], f"{path}[]")
        if "properties" in old or "properties" in new or old.get("type") == "object":
            self.object(old, new, path)

    def object(self, old: Schema, new: Schema, path: str) -> None:
        old_props, new_props = old.get("properties", {}), new.get("properties", {})
        for name, old_prop in old_props.items():
            if name not in new_props:
                self.report(f"{path}.{name}", "property removed")
            else:
                self.node(old_prop, new_props[name], f"{path}.{name}")
        old_required = set(old.get("required", []))
        for name in new.get("required", []):
            if name not in old_required:
                self.report(f"{path}.{name}", "property newly required")
        old_extra, new_extra = old.get("additionalProperties", True), new.get("additionalProperties", True)
        if new_extra is False and old_extra is not False:
            self.report(path, "additional properties no longer allowed")
        elif isinstance(old_extra, dict) and isinstance(new_extra, dict):
            self.node(old_extra, new_extra, f"{path}{{}}")


def _alternatives(schema: Schema) -> dict[str, Schema]:
    """The kinds of value a schema accepts: "$ref:Name", a JSON type, "enum" or "any"."""
    for combiner in ("anyOf", "oneOf"):
        if combiner in schema:
            alts: dict[str, Schema] = {}
            for member in schema[combiner]:
                for key, alt in _alternatives(member).items():
                    alts.setdefault(key, alt)
            return alts
    if "allOf" in schema and len(schema["allOf"]) == 1:
        return _alternatives(schema["allOf"][0])
    if "$ref" in schema:
        return {f"$ref:{_ref_name(schema['$ref'])}": schema}
    kind = schema.get("type")
    if isinstance(kind, list):
        return {t: {**schema, "type": t} for t in kind}
    if isinstance(kind, str):
        return {kind: schema}
    if "enum" in schema or "const" in schema:
        return {"enum": schema}
    return {"any": schema}


def _enum_values(schema: Schema) -> list | None:
    if "enum" in schema:
        return list(schema["enum"])
    if "const" in schema:
        return [schema["const"]]
    return None


def _ref_name(ref: str) -> str:
    if not ref.startswith("#/$defs/"):
        raise ValueError(f"only local $defs references are supported, got {ref!r}")
    return ref.removeprefix("#/$defs/")


def _resolve(defs: Schema, ref: str) -> Schema:
    name = _ref_name(ref)
    if name not in defs:
        raise ValueError(f"dangling reference {ref!r}")
    return defs[name]


def _show(alternatives: dict[str, Schema]) -> str:
    return " | ".join(key.removeprefix("$ref:") for key in alternatives)
