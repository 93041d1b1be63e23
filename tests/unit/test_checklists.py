"""Checklist templates and the catalogue (services/checklists/model.py, catalogue.py).

Shipped example templates load and validate; invalid files are rejected with messages naming the
file and the item; the catalogue picks the current version by date and enforces the publish rules.
All dates are fixed; nothing reads the wall clock.
"""
from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest
import yaml

from contracts.agency import OfficeKind
from contracts.categories import DataCategory
from services.checklists.catalogue import (
    SHIPPED_DIR,
    Catalogue,
    CatalogueError,
    PublishError,
    TemplateExpired,
    TemplateNotFound,
    load_catalogue,
    load_shipped_catalogue,
)
from services.checklists.conditions import AllOf, AnyOf, FactCondition, Not, Operator
from services.checklists.facts import FamilyStatus
from services.checklists.model import (
    EXAMPLE_REVIEW_NOTE,
    Template,
    TemplateError,
    load_template,
    parse_template,
)
from services.directory.model import load_directory

ROOT = Path(__file__).resolve().parents[2]
SHIPPED_FILES = sorted(SHIPPED_DIR.glob("*.yaml"))

EXPECTED_PROCEDURES = {
    "einbuergerung-stag-10": OfficeKind.EBH,
    "aufenthg-25a": OfficeKind.ABH,
    "aufenthg-25b": OfficeKind.ABH,
    "aufenthg-104c": OfficeKind.ABH,
    "niederlassungserlaubnis-aufenthg-9": OfficeKind.ABH,
    "jobcenter-sgb2-anmeldung": OfficeKind.JOBCENTER,
    "jugendamt-sgb8-ueberleitung": OfficeKind.JUGENDAMT,
}


# --------------------------------------------------------------------------- builders


def item(id: str = "pass", **kw) -> dict:
    return {
        "id": id,
        "label": "Gültiger Pass",
        "documents": ["Nationalpass"],
        "legal_reference": "§ 1 Test",
        "category": "dokumente",
        **kw,
    }


def template(procedure: str = "test-verfahren", version: int = 1, valid_from: str | date = "2024-01-01",
             valid_until: str | date | None = None, items: list[dict] | None = None, **kw) -> dict:
    return {
        "procedure": procedure,
        "version": version,
        "title": "Testverfahren",
        "legal_basis": "§ 1 Test",
        "owner_office_kind": "ebh",
        "valid_from": valid_from,
        "valid_until": valid_until,
        "example": False,
        "items": items if items is not None else [item()],
        **kw,
    }


def T(**kw) -> Template:
    return parse_template(template(**kw), "<test>")


def write(tmp_path: Path, name: str, data: dict) -> Path:
    path = tmp_path / name
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def rejected(tmp_path: Path, data: dict, name: str = "vorlage.v1.yaml") -> str:
    path = write(tmp_path, name, data)
    with pytest.raises(TemplateError) as exc:
        load_template(path)
    message = str(exc.value)
    assert str(path) in message, message
    return message


# --------------------------------------------------------------------------- shipped templates


def test_every_expected_procedure_is_shipped() -> None:
    catalogue = load_shipped_catalogue()
    assert set(catalogue.procedures()) == set(EXPECTED_PROCEDURES)
    assert len(catalogue) == len(SHIPPED_FILES)


@pytest.mark.parametrize("path", SHIPPED_FILES, ids=lambda p: p.name)
def test_shipped_template_loads_and_is_a_marked_example(path: Path) -> None:
    t = load_template(path)
    assert path.name == f"{t.procedure}.v{t.version}.yaml"
    assert t.owner_office_kind is EXPECTED_PROCEDURES[t.procedure]
    assert t.example is True
    assert t.review_note is not None and t.review_note.startswith(EXAMPLE_REVIEW_NOTE)
    assert 6 <= len(t.items) <= 12
    assert all(i.legal_reference.strip() and i.documents for i in t.items)
    assert "zu prüfen" in path.read_text(encoding="utf-8")  # uncertain content is marked
    # a dump validates back to the same template (conditions round-trip through their YAML form)
    assert Template.model_validate(t.model_dump()) == t
    assert Template.model_validate_json(t.model_dump_json()) == t


def test_shipped_templates_use_plausible_categories() -> None:
    for t in load_shipped_catalogue():
        for i in t.items:
            # no health data on a default checklist
            assert i.category is not DataCategory.BESONDERE_KATEGORIEN, (t.procedure, i.id)


def test_chancen_aufenthaltsrecht_is_time_limited() -> None:
    t = load_shipped_catalogue().current("aufenthg-104c", date(2024, 1, 1))
    assert t.valid_until == date(2025, 12, 31)
    assert "Enddatum zu prüfen" in (t.review_note or "")


def test_einbuergerung_marriage_certificate_is_conditional() -> None:
    t = load_shipped_catalogue().current("einbuergerung-stag-10", date(2025, 1, 1))
    cond = t.item("heiratsurkunde").applies_if
    assert isinstance(cond, FactCondition)
    assert cond.fact == "family_status" and cond.op is Operator.IN
    assert FamilyStatus.VERHEIRATET in cond.value


# --------------------------------------------------------------------------- validation errors


def test_duplicate_item_ids_are_rejected_naming_file_and_item(tmp_path: Path) -> None:
    msg = rejected(tmp_path, template(items=[item("pass"), item("meldebescheinigung"), item("pass")]))
    assert "Punkt „pass“" in msg and "mehrfach" in msg and "Punkt 1 und Punkt 3" in msg


def test_unknown_category_is_rejected_naming_file_and_item(tmp_path: Path) -> None:
    msg = rejected(tmp_path, template(items=[item("pass"), item("heiratsurkunde", category="urkunden")]))
    assert "item 'heiratsurkunde' (items[1]) category" in msg
    assert "dokumente" in msg  # the allowed values are listed


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        ({"fact": "familienstand", "equals": "verheiratet"}, "Unbekannte Angabe zum Fall „familienstand“"),
        ({"fact": "family_status", "equals": "married"}, "erlaubt nur"),
        ({"fact": "family_status", "at_least": 3}, "braucht eine Angabe mit Zahl oder Datum"),
        ({"fact": "age", "at_least": "sechzehn"}, "ist eine ganze Zahl"),
        ({"fact": "age", "at_least": True}, "ist eine ganze Zahl"),
        ({"fact": "has_children", "equals": "ja"}, "erwartet true oder false"),
        ({"fact": "age", "at_least": 16, "less_than": 27}, "genau einen Operator"),
        ({"fact": "age"}, "genau einen Operator"),
        ({"fact": "age", "greater": 3}, "Unbekannter Operator"),
        ({"fact": "family_status", "in": []}, "nicht leere Liste"),
        ({"fact": "entry_date", "at_most": "31.10.2017"}, "ist ein Datum (JJJJ-MM-TT)"),
        ({"all_of": []}, "at least 1 item"),
        ({"any_of": [{"fact": "age", "at_least": 16}, {"fact": "alter", "equals": 3}]}, "Unbekannte Angabe zum Fall „alter“"),
        ({"not": {"fact": "has_passport", "equals": 1}}, "erwartet true oder false"),
        ("family_status == 'verheiratet'", "Eine Bedingung ist ein Objekt"),
        ({"fact": "age", "at_least": 16, "extra": 1}, "Unbekannter Operator"),
        ({"all_of": [{"fact": "age", "at_least": 16}], "hint": "x"}, "Extra inputs are not permitted"),
    ],
)
def test_bad_conditions_are_rejected_naming_file_and_item(tmp_path: Path, condition, expected: str) -> None:
    msg = rejected(tmp_path, template(items=[item("pass"), item("sprachnachweis", applies_if=condition)]))
    assert "item 'sprachnachweis' (items[1]) applies_if" in msg
    assert expected in msg, msg
    assert "cond:" not in msg  # internal discriminator tags are not shown


def test_nested_condition_error_points_into_the_list(tmp_path: Path) -> None:
    bad = {"all_of": [{"fact": "age", "at_least": 16}, {"fact": "age", "between": [1, 2]}]}
    msg = rejected(tmp_path, template(items=[item("x", applies_if=bad)]))
    assert "item 'x' (items[0]) applies_if.all_of[1]: Unbekannter Operator" in msg


def test_valid_until_before_valid_from_is_rejected(tmp_path: Path) -> None:
    msg = rejected(tmp_path, template(valid_from="2024-01-01", valid_until="2023-12-31"))
    assert "Das Ende der Gültigkeit (valid_until 2023-12-31) liegt vor ihrem Beginn (valid_from 2024-01-01)" in msg


def test_single_day_validity_is_allowed() -> None:
    t = T(valid_from="2024-01-01", valid_until="2024-01-01")
    assert t.covers(date(2024, 1, 1)) and not t.covers(date(2024, 1, 2))


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"example": True}, "braucht einen Prüfvermerk (review_note)"),
        ({"version": 0}, "greater than or equal to 1"),
        ({"procedure": "Einbürgerung"}, "procedure"),
        ({"owner_office_kind": "standesamt"}, "owner_office_kind"),
        ({"owner_office": "Not An Id"}, "owner_office"),
        ({"items": []}, "items"),
        ({"eligible": True}, "Extra inputs are not permitted"),
    ],
)
def test_template_level_errors(tmp_path: Path, change: dict, expected: str) -> None:
    msg = rejected(tmp_path, {**template(), **change})
    assert expected in msg


def test_item_level_errors_name_the_item_or_its_position(tmp_path: Path) -> None:
    msg = rejected(tmp_path, template(items=[item("pass", documents=[]), {"label": "ohne id"}]))
    assert "item 'pass' (items[0]) documents" in msg
    assert "item #2 (items[1]) id" in msg  # no id to name it by


def test_unreadable_and_non_mapping_files(tmp_path: Path) -> None:
    (tmp_path / "broken.yaml").write_text("procedure: [unclosed", encoding="utf-8")
    with pytest.raises(TemplateError, match="broken.yaml"):
        load_template(tmp_path / "broken.yaml")
    (tmp_path / "list.yaml").write_text("- 1\n- 2\n", encoding="utf-8")
    with pytest.raises(TemplateError, match=r"(?s)list\.yaml.*expected a mapping"):
        load_template(tmp_path / "list.yaml")


def test_conditions_parse_to_the_condition_models() -> None:
    t = T(items=[item("a", applies_if={"all_of": [
        {"fact": "age", "at_least": 18},
        {"any_of": [{"fact": "has_children", "equals": True}, {"not": {"fact": "employed", "equals": True}}]},
        {"fact": "entry_date", "at_most": "2017-10-31"},
    ]})])
    cond = t.items[0].applies_if
    assert isinstance(cond, AllOf)
    assert isinstance(cond.all_of[1], AnyOf)
    assert isinstance(cond.all_of[1].any_of[1], Not)
    assert cond.all_of[2].value == date(2017, 10, 31)


# --------------------------------------------------------------------------- catalogue: current


def catalogue_of(*templates: Template) -> Catalogue:
    c = Catalogue.empty()
    for t in templates:
        c = c.publish(t)
    return c


def test_current_picks_the_version_valid_on_the_date() -> None:
    v1 = T(version=1, valid_from="2020-01-01")
    v2 = T(version=2, valid_from="2024-06-27")
    c = catalogue_of(v1, v2)
    assert c.current("test-verfahren", date(2024, 6, 26)) == v1
    assert c.current("test-verfahren", date(2024, 6, 27)) == v2  # valid_from is inclusive
    assert c.current("test-verfahren", date(2030, 1, 1)) == v2


def test_valid_until_is_inclusive_and_then_the_template_expires() -> None:
    c = load_shipped_catalogue()
    assert c.current("aufenthg-104c", date(2025, 12, 31)).version == 1
    with pytest.raises(TemplateExpired) as exc:
        c.current("aufenthg-104c", date(2026, 1, 1))
    assert exc.value.last.valid_until == date(2025, 12, 31)
    assert "aufenthg-104c" in str(exc.value) and "2025-12-31" in str(exc.value)
    assert isinstance(exc.value, TemplateNotFound)  # callers may catch either


def test_before_the_first_version_is_not_found_not_expired() -> None:
    c = load_shipped_catalogue()
    with pytest.raises(TemplateNotFound) as exc:
        c.current("aufenthg-104c", date(2022, 12, 30))
    assert not isinstance(exc.value, TemplateExpired)
    assert "first starts on 2022-12-31" in str(exc.value)


def test_unknown_procedure_is_not_found() -> None:
    c = load_shipped_catalogue()
    with pytest.raises(TemplateNotFound, match="unknown procedure"):
        c.current("einbuergerung", date(2025, 1, 1))
    with pytest.raises(TemplateNotFound):
        c.get("einbuergerung", 1)


def test_a_newer_temporary_version_hands_back_to_the_older_one() -> None:
    v1 = T(version=1, valid_from="2020-01-01")
    v2 = T(version=2, valid_from="2025-01-01", valid_until="2025-06-30")
    c = catalogue_of(v1, v2)
    assert c.current("test-verfahren", date(2025, 3, 1)) == v2
    assert c.current("test-verfahren", date(2025, 7, 1)) == v1


def test_gap_between_versions_is_expired() -> None:
    v1 = T(version=1, valid_from="2020-01-01", valid_until="2024-12-31")
    v2 = T(version=2, valid_from="2025-03-01")
    c = catalogue_of(v1, v2)
    with pytest.raises(TemplateExpired):
        c.current("test-verfahren", date(2025, 1, 15))
    assert c.current("test-verfahren", date(2025, 3, 1)) == v2


def test_get_by_version() -> None:
    v1, v2 = T(version=1, valid_from="2020-01-01"), T(version=2, valid_from="2021-01-01")
    c = catalogue_of(v1, v2)
    assert c.get("test-verfahren", 1) == v1 and c.get("test-verfahren", 2) == v2
    with pytest.raises(TemplateNotFound, match="no version 3"):
        c.get("test-verfahren", 3)
    assert c.versions("test-verfahren") == (v1, v2)


# --------------------------------------------------------------------------- catalogue: publish


def test_publish_returns_a_new_catalogue_and_leaves_the_old_one() -> None:
    v1 = T(version=1, valid_from="2020-01-01")
    c1 = catalogue_of(v1)
    c2 = c1.publish(T(version=2, valid_from="2024-01-01"))
    assert [t.version for t in c1.versions("test-verfahren")] == [1]
    assert [t.version for t in c2.versions("test-verfahren")] == [1, 2]


def test_publish_first_version_may_have_any_number() -> None:
    c = Catalogue.empty().publish(T(version=3))
    assert c.get("test-verfahren", 3).version == 3


@pytest.mark.parametrize(
    ("new", "expected"),
    [
        ({"version": 3, "valid_from": "2025-01-01"}, "version 3 is already published"),
        ({"version": 2, "valid_from": "2025-01-01"}, "greater than the latest published version (3)"),
        ({"version": 4, "valid_from": "2024-01-01"}, "must start later"),  # same start as v3
        ({"version": 4, "valid_from": "2023-01-01"}, "must start later"),  # overlaps, starts earlier
        ({"version": 4, "valid_from": "2019-01-01", "valid_until": "2019-12-31"}, "must start later"),
        ({"version": 4, "valid_from": "2025-01-01", "owner_office_kind": "abh"}, "owner_office_kind abh differs"),
    ],
)
def test_publish_rules(new: dict, expected: str) -> None:
    # versions need not be consecutive; v2 was never published
    c = catalogue_of(T(version=1, valid_from="2020-01-01"), T(version=3, valid_from="2024-01-01"))
    with pytest.raises(PublishError, match=re.escape(expected)):
        c.publish(T(**new))


def test_publish_may_overlap_when_the_new_version_starts_later() -> None:
    c = catalogue_of(T(version=1, valid_from="2020-01-01", valid_until="2030-12-31"))
    c = c.publish(T(version=2, valid_from="2025-01-01"))
    assert c.current("test-verfahren", date(2026, 1, 1)).version == 2


def test_publish_keeps_procedures_apart() -> None:
    c = catalogue_of(T(procedure="a-verfahren", valid_from="2024-01-01"),
                     T(procedure="b-verfahren", valid_from="2020-01-01"))
    assert c.procedures() == ("a-verfahren", "b-verfahren")


# --------------------------------------------------------------------------- loading a directory


def test_load_catalogue_orders_versions_by_number_not_file_name(tmp_path: Path) -> None:
    write(tmp_path, "a.yaml", template(version=2, valid_from="2024-06-27"))
    write(tmp_path, "b.yml", template(version=1, valid_from="2020-01-01"))
    c = load_catalogue(tmp_path)
    assert [t.version for t in c.versions("test-verfahren")] == [1, 2]


def test_load_catalogue_rejects_the_same_version_in_two_files(tmp_path: Path) -> None:
    write(tmp_path, "a.yaml", template())
    write(tmp_path, "b.yaml", template())
    with pytest.raises(CatalogueError, match=r"b\.yaml.*test-verfahren v1 is also defined in .*a\.yaml"):
        load_catalogue(tmp_path)


def test_load_catalogue_applies_the_publish_rules_naming_the_file(tmp_path: Path) -> None:
    write(tmp_path, "v1.yaml", template(version=1, valid_from="2024-01-01"))
    write(tmp_path, "v2.yaml", template(version=2, valid_from="2023-01-01"))
    with pytest.raises(CatalogueError, match=r"v2\.yaml: test-verfahren v2: valid_from"):
        load_catalogue(tmp_path)


def test_load_catalogue_reports_the_invalid_file(tmp_path: Path) -> None:
    write(tmp_path, "ok.yaml", template())
    write(tmp_path, "bad.yaml", template(procedure="other", items=[item("x", category="nope")]))
    with pytest.raises(TemplateError, match=r"(?s)bad\.yaml.*item 'x'"):
        load_catalogue(tmp_path)


def test_load_catalogue_missing_directory(tmp_path: Path) -> None:
    with pytest.raises(CatalogueError, match="does not exist"):
        load_catalogue(tmp_path / "nope")


def test_empty_directory_gives_an_empty_catalogue(tmp_path: Path) -> None:
    assert len(load_catalogue(tmp_path)) == 0


def test_owner_offices_are_checked_against_the_directory() -> None:
    directory = load_directory(ROOT / "services/directory/data/directory.demo.yaml")
    ok = catalogue_of(T(procedure="einbuergerung-troisdorf", owner_office="troisdorf-ebh"))
    ok.check_owner_offices(directory)
    load_shipped_catalogue().check_owner_offices(directory)  # no owner_office set: nothing to check
    wrong_kind = catalogue_of(T(procedure="einbuergerung-troisdorf", owner_office="troisdorf-abh"))
    with pytest.raises(CatalogueError, match="troisdorf-abh is a abh, not a ebh"):
        wrong_kind.check_owner_offices(directory)
    unknown = catalogue_of(T(procedure="einbuergerung-x", owner_office="nirgendwo-ebh"))
    with pytest.raises(CatalogueError, match="unknown owner_office nirgendwo-ebh"):
        unknown.check_owner_offices(directory)
