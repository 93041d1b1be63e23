"""What a consent covers and what an amendment changes, in plain German (services/consent/explain.py)."""
from contracts.consent import ConsentTerms
from services.consent.explain import changes, covered, permissions

BASE = {"municipality": "05382068",
        "provisions": [{"recipient": {"kind": "abh"}, "purposes": ["aufenthaltsperspektive"],
                        "categories": ["stammdaten", "falldaten"], "direction": "both"}],
        "valid_from": "2025-01-01T00:00:00Z",
        "evidence": {"form_sha256": "a" * 64, "form_version": "KIM-EW-2025-1", "language": "de"}}
NAMES = {"abh-troisdorf": "Ausländerbehörde Stadt Troisdorf"}.get


def terms(**changes_) -> ConsentTerms:
    return ConsentTerms.model_validate(BASE | changes_)


def test_a_consent_is_told_per_counterpart_way_and_purpose():
    lines = covered(terms(), NAMES, "Troisdorf")
    assert lines == [
        "Ihre Stelle darf Falldaten, Stammdaten an die für Troisdorf zuständige Ausländerbehörde übermitteln, "
        "nur für „Prüfung einer Aufenthaltsperspektive (§§ 25a, 25b, 104c AufenthG)“.",
        "Die für Troisdorf zuständige Ausländerbehörde darf Ihrer Stelle dazu antworten (Falldaten, Stammdaten), "
        "nur für „Prüfung einer Aufenthaltsperspektive (§§ 25a, 25b, 104c AufenthG)“."]


def test_a_named_office_is_named():
    named = terms(provisions=[{"recipient": {"office": "abh-troisdorf"}, "purposes": ["einbuergerung"],
                               "categories": ["dokumente"]}])
    [line] = covered(named, NAMES, "Troisdorf")
    assert "die Stelle „Ausländerbehörde Stadt Troisdorf“" in line and "Dokumente" in line


def test_no_change_changes_nothing():
    assert changes(terms(), terms(), NAMES, "Troisdorf", "Troisdorf") == {"added": [], "removed": [], "other": []}


def test_an_amendment_names_what_is_added_removed_and_otherwise_changed():
    after = terms(provisions=[{"recipient": {"kind": "abh"}, "purposes": ["aufenthaltsperspektive"],
                               "categories": ["stammdaten", "dokumente"], "direction": "outbound"}],
                  valid_until="2027-01-01T00:00:00Z", evidence=BASE["evidence"] | {"form_sha256": "b" * 64})
    found = changes(terms(), after, NAMES, "Troisdorf", "Troisdorf")
    assert len(found["added"]) == 1 and "Dokumente an die" in found["added"][0]
    assert "Falldaten an die" in found["removed"][0] and "antworten (Falldaten, Stammdaten)" in found["removed"][1]
    assert found["other"] == ["Gültigkeit: bisher ab 01.01.2025, ohne Enddatum, künftig ab 01.01.2025 bis 01.01.2027.",
                              "Nachweis: Das neu unterschriebene Formular wird als Nachweis gespeichert (SHA-256)."]


def test_a_move_changes_the_competent_offices():
    found = changes(terms(), terms(municipality="05382056"), NAMES, "Troisdorf", "Siegburg")
    assert all("für Troisdorf zuständige" in s for s in found["removed"]) and len(found["removed"]) == 2
    assert all("für Siegburg zuständige" in s for s in found["added"]) and len(found["added"]) == 2
    assert found["other"] == ["Wohnort: bisher Troisdorf, künftig Siegburg."]


def test_categories_combine_within_a_provision_only_as_single_permissions():
    two = terms(provisions=[BASE["provisions"][0], {"recipient": {"kind": "jobcenter"}, "purposes": ["fallmanagement"],
                                                    "categories": ["sozialdaten"]}])
    assert len(permissions(two)) == 2 * 2 + 1


def test_a_time_of_day_the_form_cannot_show_is_no_change():
    assert changes(terms(valid_from="2025-01-01T09:30:00Z"), terms(), NAMES, "Troisdorf", "Troisdorf")["other"] == []
