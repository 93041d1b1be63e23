"""The pre-check and its hints (services/checklists/precheck.py, hints.py, conditions.py, facts.py).

Conditions decide which items apply; completeness is about what the case manager recorded; hints
are derived facts in German. Nothing here is an eligibility decision, and a test keeps the result
types free of such fields. All dates are fixed.
"""
from __future__ import annotations

import inspect
import re
from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, ValidationError

from services.checklists import conditions, facts, hints as hints_module, model, precheck as precheck_module
from services.checklists.catalogue import load_shipped_catalogue
from services.checklists.conditions import describe, evaluate, referenced_facts
from services.checklists.facts import CaseFacts, FamilyStatus, fact_values, full_months, full_years
from services.checklists.hints import HINT_LABEL, Hint, HintCode, format_duration, hints
from services.checklists.model import Template
from services.checklists.precheck import (
    Applicability,
    IssueCode,
    ItemStatus,
    PrecheckResult,
    precheck,
)

TODAY = date(2026, 11, 21)
CATALOGUE = load_shipped_catalogue()
EINB = CATALOGUE.current("einbuergerung-stag-10", date(2025, 1, 1))
JUGENDAMT = CATALOGUE.current("jugendamt-sgb8-ueberleitung", date(2025, 1, 1))
C104 = CATALOGUE.current("aufenthg-104c", date(2024, 1, 1))

# an adult, unmarried, with passport, no children, no benefits, no German school certificate
ADULT = {
    "date_of_birth": date(1990, 3, 1),
    "entry_date": date(2019, 5, 1),
    "family_status": "ledig",
    "has_children": False,
    "has_passport": True,
    "receives_benefits": False,
    "german_school_certificate": False,
}


def cond(raw: dict):
    return model.Item.model_validate(
        {"id": "x", "label": "x", "documents": ["x"], "legal_reference": "x", "category": "dokumente",
         "applies_if": raw}).applies_if


def applicable(result: PrecheckResult) -> set[str]:
    return {i.item_id for i in result.items}


def not_applicable(result: PrecheckResult) -> set[str]:
    return {i.item_id for i in result.not_applicable}


def all_present(template: Template, result_ids: set[str] | None = None) -> dict:
    return {i: {"status": "present"} for i in (result_ids if result_ids is not None else template.item_ids)}


# --------------------------------------------------------------------------- conditions


def test_married_needs_the_marriage_certificate() -> None:
    r = precheck(EINB, {**ADULT, "family_status": "verheiratet"}, {}, TODAY)
    assert "heiratsurkunde" in applicable(r)
    assert next(i for i in r.items if i.item_id == "heiratsurkunde").applicability is Applicability.APPLIES


@pytest.mark.parametrize("status", ["ledig", "geschieden", "verwitwet"])
def test_unmarried_does_not_need_the_marriage_certificate(status: str) -> None:
    r = precheck(EINB, {**ADULT, "family_status": status}, {}, TODAY)
    assert "heiratsurkunde" in not_applicable(r)
    reason = next(i.reason for i in r.not_applicable if i.item_id == "heiratsurkunde")
    assert "Familienstand: verheiratet oder eingetragene Lebenspartnerschaft" in reason
    assert f"erfasst: Familienstand: {FamilyStatus(status).label}" in reason


def test_unknown_family_status_lists_the_item_as_undetermined() -> None:
    facts_ = {k: v for k, v in ADULT.items() if k != "family_status"}
    r = precheck(EINB, facts_, {}, TODAY)
    check = next(i for i in r.items if i.item_id == "heiratsurkunde")
    assert check.applicability is Applicability.UNDETERMINED
    assert "Familienstand" in (check.applicability_note or "")
    assert check.open


def test_age_conditions_use_the_reference_date() -> None:
    sixteenth_birthday = date(2026, 11, 21)
    child = {**ADULT, "date_of_birth": date(2010, 11, 21)}
    on_the_day_before = precheck(EINB, child, {}, date(2026, 11, 20))
    on_the_birthday = precheck(EINB, child, {}, sixteenth_birthday)
    assert {"sprachnachweis", "einbuergerungstest"} <= not_applicable(on_the_day_before)
    assert {"sprachnachweis", "einbuergerungstest"} <= applicable(on_the_birthday)


def test_passport_and_passlosigkeit_items_exclude_each_other() -> None:
    with_pass = precheck(EINB, ADULT, {}, TODAY)
    without = precheck(EINB, {**ADULT, "has_passport": False}, {}, TODAY)
    assert "pass" in applicable(with_pass) and "identitaet-ohne-pass" in not_applicable(with_pass)
    assert "identitaet-ohne-pass" in applicable(without) and "pass" in not_applicable(without)


def test_all_of_and_any_of_in_a_shipped_template() -> None:
    young_adult = {"date_of_birth": date(2006, 1, 1), "has_children": False, "in_education": True}
    r = precheck(JUGENDAMT, young_adult, {}, TODAY)  # 20 years old
    assert {"junge-volljaehrige", "schule-kita"} <= applicable(r)
    assert {"vormundschaft", "antrag-sorgeberechtigte"} <= not_applicable(r)
    older = precheck(JUGENDAMT, {**young_adult, "date_of_birth": date(2000, 1, 1)}, {}, TODAY)
    assert "junge-volljaehrige" in not_applicable(older)
    reason = next(i.reason for i in older.not_applicable if i.item_id == "junge-volljaehrige")
    assert "Alter (Jahre): mindestens 18 und Alter (Jahre): unter 21" in reason


def test_three_valued_logic() -> None:
    values = {"age": 20, "has_children": None}
    assert evaluate(cond({"fact": "has_children", "equals": True}), values) is None
    assert evaluate(cond({"all_of": [{"fact": "age", "less_than": 18}, {"fact": "has_children", "equals": True}]}),
                    values) is False
    assert evaluate(cond({"all_of": [{"fact": "age", "at_least": 18}, {"fact": "has_children", "equals": True}]}),
                    values) is None
    assert evaluate(cond({"any_of": [{"fact": "age", "at_least": 18}, {"fact": "has_children", "equals": True}]}),
                    values) is True
    assert evaluate(cond({"any_of": [{"fact": "age", "less_than": 18}, {"fact": "has_children", "equals": True}]}),
                    values) is None
    assert evaluate(cond({"not": {"fact": "has_children", "equals": True}}), values) is None
    assert evaluate(cond({"not": {"fact": "age", "at_most": 20}}), values) is False


def test_date_conditions() -> None:
    c = cond({"fact": "entry_date", "at_most": "2017-10-31"})
    assert evaluate(c, {"entry_date": date(2017, 10, 31)}) is True
    assert evaluate(c, {"entry_date": date(2017, 11, 1)}) is False
    assert describe(c) == "Einreisedatum: spätestens 31.10.2017"


def test_describe_and_referenced_facts() -> None:
    c = cond({"any_of": [
        {"fact": "family_status", "in": ["verheiratet", "lebenspartnerschaft"]},
        {"all_of": [{"fact": "has_children", "equals": True}, {"fact": "age", "less_than": 27}]},
        {"not": {"fact": "has_passport", "equals": False}},
    ]})
    assert describe(c) == (
        "Familienstand: verheiratet oder eingetragene Lebenspartnerschaft oder "
        "(Kinder vorhanden: ja und Alter (Jahre): unter 27) oder nicht (Gültiger Pass vorhanden: nein)")
    assert referenced_facts(c) == ["family_status", "has_children", "age", "has_passport"]


def test_derived_facts() -> None:
    v = fact_values({"date_of_birth": date(2007, 11, 22), "entry_date": date(2030, 1, 1)}, TODAY)
    assert v["age"] == 18  # 19th birthday is tomorrow
    assert v["years_since_entry"] is None  # entry in the future: unknown, not negative
    assert full_months(date(2020, 1, 31), date(2020, 2, 29)) == 0
    assert full_months(date(2020, 1, 31), date(2020, 3, 31)) == 2
    assert full_years(date(2008, 2, 29), date(2024, 2, 28)) == 15
    assert full_years(date(2008, 2, 29), date(2024, 2, 29)) == 16


def test_unknown_facts_and_statuses_are_rejected() -> None:
    with pytest.raises(ValidationError):
        precheck(EINB, {"familienstand": "ledig"}, {}, TODAY)
    with pytest.raises(ValidationError):
        precheck(EINB, {"family_status": "married"}, {}, TODAY)
    with pytest.raises(ValidationError):
        precheck(EINB, ADULT, {"pass": {"status": "ok"}}, TODAY)
    with pytest.raises(ValidationError):
        precheck(EINB, ADULT, {"pass": {"status": "present", "documents": [""]}}, TODAY)


# --------------------------------------------------------------------------- completeness


def test_nothing_recorded_is_incomplete_with_every_applicable_item_open() -> None:
    r = precheck(EINB, ADULT, {}, TODAY)
    assert not r.complete
    assert set(r.open_items) == applicable(r)
    assert applicable(r) | not_applicable(r) == set(EINB.item_ids)
    assert not applicable(r) & not_applicable(r)


def test_all_applicable_present_is_complete() -> None:
    ids = applicable(precheck(EINB, ADULT, {}, TODAY))
    r = precheck(EINB, ADULT, {i: {"status": "present"} for i in ids}, TODAY)
    assert r.complete and r.open_items == [] and r.errors == [] and r.warnings == []


def test_verified_counts_like_present() -> None:
    ids = applicable(precheck(EINB, ADULT, {}, TODAY))
    r = precheck(EINB, ADULT, {i: {"status": "verified", "documents": ["doc-1"]} for i in ids}, TODAY)
    assert r.complete
    assert all(i.documents == ["doc-1"] for i in r.items)


def test_missing_with_a_reason_is_accounted_for() -> None:
    statuses = all_present(EINB, applicable(precheck(EINB, ADULT, {}, TODAY)))
    statuses["pass"] = {"status": "missing", "reason": "Pass bei der Botschaft beantragt, Termin im März"}
    r = precheck(EINB, ADULT, statuses, TODAY)
    assert r.complete
    assert next(i for i in r.items if i.item_id == "pass").status is ItemStatus.MISSING


@pytest.mark.parametrize("reason", [None, ""])
def test_missing_without_a_reason_is_open(reason) -> None:
    statuses = all_present(EINB, applicable(precheck(EINB, ADULT, {}, TODAY)))
    statuses["pass"] = {"status": "missing", "reason": reason}
    r = precheck(EINB, ADULT, statuses, TODAY)
    assert not r.complete and r.open_items == ["pass"]
    assert r.errors == []  # open, but not an error
    assert "keine Begründung" in (r.items[0].open_note or "")


def test_not_required_on_an_applicable_item_needs_a_reason() -> None:
    statuses = all_present(EINB, applicable(precheck(EINB, ADULT, {}, TODAY)))
    statuses["lebensunterhalt"] = {"status": "not_required"}
    r = precheck(EINB, ADULT, statuses, TODAY)
    assert not r.complete and r.open_items == ["lebensunterhalt"]
    assert [(e.code, e.item_id) for e in r.errors] == [(IssueCode.REASON_REQUIRED, "lebensunterhalt")]
    assert "trifft laut Angaben zu" in r.errors[0].message

    statuses["lebensunterhalt"] = {"status": "not_required", "reason": "Miteinbürgerung als Kind (§ 10 Abs. 2 StAG)"}
    assert precheck(EINB, ADULT, statuses, TODAY).complete


def test_not_required_on_an_undetermined_item_needs_a_reason_too() -> None:
    facts_ = {k: v for k, v in ADULT.items() if k != "has_children"}
    statuses = all_present(EINB, applicable(precheck(EINB, facts_, {}, TODAY)))
    statuses["geburtsurkunden-kinder"] = {"status": "not_required"}
    r = precheck(EINB, facts_, statuses, TODAY)
    assert r.open_items == ["geburtsurkunden-kinder"]
    assert "mangels Angaben" in r.errors[0].message
    statuses["geburtsurkunden-kinder"] = {"status": "not_required", "reason": "keine Kinder"}
    assert precheck(EINB, facts_, statuses, TODAY).complete


def test_status_for_an_unknown_item_is_an_error() -> None:
    statuses = all_present(EINB, applicable(precheck(EINB, ADULT, {}, TODAY)))
    statuses["reisepass"] = {"status": "present"}
    r = precheck(EINB, ADULT, statuses, TODAY)
    assert r.open_items == [] and not r.complete
    assert [(e.code, e.item_id, e.severity) for e in r.errors] == [(IssueCode.UNKNOWN_ITEM, "reisepass", "error")]
    assert "einbuergerung-stag-10 (Version 1)" in r.errors[0].message


def test_status_for_a_not_applicable_item_is_a_warning_and_ignored() -> None:
    statuses = all_present(EINB, applicable(precheck(EINB, ADULT, {}, TODAY)))
    statuses["heiratsurkunde"] = {"status": "present"}
    statuses["identitaet-ohne-pass"] = {"status": "not_required"}  # agrees with the facts: no warning
    r = precheck(EINB, ADULT, statuses, TODAY)
    assert r.complete
    assert [(w.code, w.item_id) for w in r.warnings] == [(IssueCode.STATUS_FOR_NOT_APPLICABLE_ITEM, "heiratsurkunde")]


def test_documents_on_a_missing_item_are_a_warning() -> None:
    statuses = all_present(EINB, applicable(precheck(EINB, ADULT, {}, TODAY)))
    statuses["pass"] = {"status": "missing", "reason": "abgelaufen", "documents": ["doc-7"]}
    r = precheck(EINB, ADULT, statuses, TODAY)
    assert r.complete
    assert [w.code for w in r.warnings] == [IssueCode.DOCUMENTS_WITHOUT_PRESENT_STATUS]


def test_result_complete_flag_cannot_contradict_open_items() -> None:
    r = precheck(EINB, ADULT, {}, TODAY)
    with pytest.raises(ValidationError, match="complete must be true exactly when"):
        PrecheckResult.model_validate({**r.model_dump(), "complete": True})


def test_result_carries_a_disclaimer_and_the_template_version() -> None:
    r = precheck(EINB, ADULT, {}, TODAY)
    assert (r.procedure, r.version, r.checked_on) == ("einbuergerung-stag-10", 1, TODAY)
    assert "keine Entscheidung" in r.disclaimer


# --------------------------------------------------------------------------- hints


def hint(hs: list[Hint], code: HintCode) -> Hint:
    (h,) = [h for h in hs if h.code is code]
    return h


def test_hint_years_of_residence() -> None:
    hs = hints(EINB, {"entry_date": date(2021, 8, 15)}, TODAY)
    h = hint(hs, HintCode.RESIDENCE_DURATION)
    assert h.text == "Aufenthaltsdauer laut Einreisedatum: 5 Jahre 3 Monate"
    assert "prüft die Behörde" in (h.note or "")
    day_before = hints(EINB, {"entry_date": date(2021, 8, 22)}, TODAY)
    assert hint(day_before, HintCode.RESIDENCE_DURATION).text.endswith("5 Jahre 2 Monate")


def test_hint_age() -> None:
    assert hint(hints(EINB, {"date_of_birth": date(2007, 11, 21)}, TODAY), HintCode.AGE).text == "Alter: 19 Jahre"
    assert hint(hints(EINB, {"date_of_birth": date(2007, 11, 22)}, TODAY), HintCode.AGE).text == "Alter: 18 Jahre"
    assert hint(hints(EINB, {"date_of_birth": date(2025, 10, 1)}, TODAY), HintCode.AGE).text == "Alter: 1 Jahr"


@pytest.mark.parametrize(
    ("months", "text"),
    [(0, "0 Monate"), (1, "1 Monat"), (7, "7 Monate"), (12, "1 Jahr"), (13, "1 Jahr 1 Monat"), (24, "2 Jahre"),
     (63, "5 Jahre 3 Monate")],
)
def test_format_duration(months: int, text: str) -> None:
    assert format_duration(months) == text


def test_hints_for_dates_in_the_future_and_no_passport() -> None:
    hs = hints(EINB, {"date_of_birth": date(2030, 1, 1), "entry_date": date(2027, 1, 1), "has_passport": False}, TODAY)
    assert [h.code for h in hs if h.code is HintCode.DATE_IN_FUTURE] == [HintCode.DATE_IN_FUTURE] * 2
    assert not [h for h in hs if h.code in (HintCode.AGE, HintCode.RESIDENCE_DURATION)]
    assert "Passlosigkeit" in hint(hs, HintCode.NO_PASSPORT).text


def test_hints_name_missing_facts_and_the_example_status() -> None:
    hs = hints(EINB, {}, TODAY)
    assert hint(hs, HintCode.EXAMPLE_TEMPLATE).text.startswith("Beispielvorlage")
    assert "Familienstand" in hint(hs, HintCode.MISSING_FACTS).text
    full = {**ADULT, "employed": True, "in_education": False}
    assert not [h for h in hints(EINB, full, TODAY) if h.code is HintCode.MISSING_FACTS]


def test_hints_on_a_time_limited_template() -> None:
    before = hints(C104, {}, date(2025, 6, 1))
    assert hint(before, HintCode.TEMPLATE_VALIDITY).text == "Vorlage gilt nur bis 31.12.2025 (befristete Regelung)."
    after = hints(C104, {}, date(2026, 1, 1))
    assert hint(after, HintCode.TEMPLATE_VALIDITY).text == "Vorlage galt nur bis 31.12.2025."
    not_yet = hints(C104, {}, date(2022, 1, 1))
    assert hint(not_yet, HintCode.TEMPLATE_VALIDITY).text == "Vorlage gilt erst ab 31.12.2022."


def test_every_hint_is_labelled_as_a_hint() -> None:
    hs = hints(C104, {**ADULT, "has_passport": False}, date(2025, 6, 1))
    assert hs
    for h in hs:
        assert h.label == HINT_LABEL == "Hinweis, keine Entscheidung"
        assert str(h).startswith("Hinweis, keine Entscheidung: ")
    with pytest.raises(ValidationError):
        Hint(code=HintCode.AGE, text="x", label="Entscheidung")


# --------------------------------------------------------------------------- never a decision

DECISION_WORDS = re.compile(
    r"eligib|qualif|entitle|decision|decide|verdict|approv|grant|reject|admissib|"
    r"berechtig|anspruch|entscheid|erfuellt|zulaessig|bewilligt|genehmigt|score|prognos",
    re.IGNORECASE,
)


def _models_in(*modules) -> list[type[BaseModel]]:
    found = []
    for module in modules:
        for _, obj in inspect.getmembers(module, inspect.isclass):
            if issubclass(obj, BaseModel) and obj.__module__ == module.__name__:
                found.append(obj)
    return found


def test_result_types_have_no_decision_field() -> None:
    models = _models_in(precheck_module, hints_module, model, conditions, facts)
    assert {PrecheckResult, Hint, precheck_module.ItemCheck, precheck_module.Issue} <= set(models)
    for m in models:
        names = set(m.model_fields) | set(m.model_computed_fields)
        for name in names:
            assert not DECISION_WORDS.search(name), f"{m.__name__}.{name} looks like a decision"
    for name in dir(PrecheckResult):
        if not name.startswith("_"):
            assert not DECISION_WORDS.search(name), name


def test_hint_texts_do_not_state_a_decision() -> None:
    for t in CATALOGUE:
        for f in ({}, ADULT, {**ADULT, "has_passport": False, "entry_date": date(2010, 1, 1)}):
            for h in hints(t, f, TODAY):
                assert not re.search(r"erfüllt|berechtigt|Anspruch|qualifiziert|zulässig", h.text), h.text


# --------------------------------------------------------------------------- property: complete <=> nothing open

FACTS_STRATEGY = st.fixed_dictionaries(
    {},
    optional={
        "date_of_birth": st.dates(date(1940, 1, 1), date(2030, 1, 1)),
        "entry_date": st.dates(date(1970, 1, 1), date(2030, 1, 1)),
        "family_status": st.sampled_from(list(FamilyStatus)),
        "has_children": st.booleans(),
        "has_passport": st.booleans(),
        "employed": st.booleans(),
        "receives_benefits": st.booleans(),
        "in_education": st.booleans(),
        "german_school_certificate": st.booleans(),
    },
)
ENTRY_STRATEGY = st.fixed_dictionaries(
    {"status": st.sampled_from(list(ItemStatus))},
    optional={
        "reason": st.sampled_from(["", "Begründung liegt vor", "Pass beantragt"]),
        "documents": st.lists(st.sampled_from(["doc-1", "doc-2"]), max_size=2),
    },
)
TEMPLATES = list(CATALOGUE)


@settings(max_examples=300, deadline=None)
@given(data=st.data(), template=st.sampled_from(TEMPLATES), facts_=FACTS_STRATEGY,
       on=st.dates(date(2020, 1, 1), date(2030, 12, 31)))
def test_complete_iff_no_open_items(data, template: Template, facts_: dict, on: date) -> None:
    statuses = data.draw(st.dictionaries(st.sampled_from(template.item_ids), ENTRY_STRATEGY))
    r = precheck(template, facts_, statuses, on)

    assert r.complete == (not r.open_items)  # statuses only for known items
    assert applicable(r) | not_applicable(r) == set(template.item_ids)
    assert not applicable(r) & not_applicable(r)
    for check in r.items:
        entry = statuses.get(check.item_id)
        accounted = entry is not None and (
            entry["status"] in ("present", "verified") or bool(entry.get("reason")))
        assert check.open == (not accounted), (check, entry)
        assert (check.item_id in r.open_items) == check.open
    assert all(e.item_id in r.open_items for e in r.errors)


@settings(max_examples=100, deadline=None)
@given(data=st.data(), template=st.sampled_from(TEMPLATES), facts_=FACTS_STRATEGY)
def test_complete_iff_nothing_open_and_no_errors_with_unknown_ids(data, template: Template, facts_: dict) -> None:
    ids = st.sampled_from([*template.item_ids, "unbekannt", "pass-alt"])
    statuses = data.draw(st.dictionaries(ids, ENTRY_STRATEGY))
    r = precheck(template, facts_, statuses, TODAY)
    assert r.complete == (not r.open_items and not r.errors)
    unknown = set(statuses) - set(template.item_ids)
    assert {e.item_id for e in r.errors if e.code is IssueCode.UNKNOWN_ITEM} == unknown


def test_case_facts_model_accepts_the_documented_facts() -> None:
    f = CaseFacts.model_validate({**ADULT, "residence_status": "duldung", "employed": True, "in_education": False})
    assert f.residence_status is not None and f.residence_status.label == "Duldung"
