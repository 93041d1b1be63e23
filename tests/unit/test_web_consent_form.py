"""The consent form's fields as consent terms (gateway/web/forms.py): one fieldset per provision, its
fields named p<N>-<field>, parsed by ``typed_provisions`` (gaps in N, a removed fieldset, an added one),
a kind or a named office, German messages that name the provision."""
from pydantic import ValidationError
from starlette.datastructures import FormData, UploadFile

from contracts.consent import ConsentTerms
from gateway.web.forms import (MAX_PROVISIONS, consent_fields, consent_terms, edits_provisions, messages,
                               provision_fields, typed_provisions)
from services.kernel.errors import InvalidInput

FIELDS = [("municipality", "05382068"), ("valid_from", "2026-01-01"), ("valid_until", ""),
          ("form_version", "KIM-EW-2025-1"), ("language", "de")]
ABH = [("p0-recipient_kind", "abh"), ("p0-purposes", "einbuergerung"), ("p0-categories", "stammdaten"),
       ("p0-categories", "dokumente"), ("p0-direction", "both")]
JOBCENTER = [("p1-recipient_kind", "jobcenter"), ("p1-purposes", "arbeitsmarktintegration"),
             ("p1-categories", "sozialdaten"), ("p1-direction", "outbound")]
NAMED = [("p2-recipient_kind", "office:troisdorf-jugendamt"), ("p2-purposes", "jugendhilfe"),
         ("p2-categories", "falldaten"), ("p2-direction", "inbound")]


def renumbered(fields: list[tuple[str, str]], index: int) -> list[tuple[str, str]]:
    return [(f"p{index}-{name.split('-', 1)[1]}", value) for name, value in fields]


def test_every_provision_of_the_form_becomes_one_of_the_terms():
    terms = ConsentTerms.model_validate(consent_terms(FormData([*FIELDS, *ABH, *JOBCENTER, *NAMED]), "a" * 64))
    assert [p.model_dump(mode="json", exclude_none=True) for p in terms.provisions] == [
        {"recipient": {"kind": "abh"}, "purposes": ["einbuergerung"], "categories": ["stammdaten", "dokumente"],
         "direction": "both"},
        {"recipient": {"kind": "jobcenter"}, "purposes": ["arbeitsmarktintegration"], "categories": ["sozialdaten"],
         "direction": "outbound"},
        {"recipient": {"office": "troisdorf-jugendamt"}, "purposes": ["jugendhilfe"], "categories": ["falldaten"],
         "direction": "inbound"}]
    assert terms.valid_until is None and terms.evidence.form_sha256 == "a" * 64


def test_gaps_in_the_indices_keep_the_order_of_the_indices():
    form = FormData([*FIELDS, *renumbered(NAMED, 17), *renumbered(ABH, 3), *renumbered(JOBCENTER, 9)])
    assert [p["recipient_kind"] for p in typed_provisions(form)] == ["abh", "jobcenter", "office:troisdorf-jugendamt"]
    assert typed_provisions(form)[1] == {"recipient_kind": "jobcenter", "purposes": ["arbeitsmarktintegration"],
                                         "categories": ["sozialdaten"], "direction": "outbound"}


def test_removing_the_middle_provision_keeps_the_others_as_typed():
    form = FormData([*FIELDS, *ABH, *JOBCENTER, *NAMED, ("bestimmung_entfernen", "1")])
    assert edits_provisions(form)
    typed = typed_provisions(form)
    assert [p["recipient_kind"] for p in typed] == ["abh", "office:troisdorf-jugendamt"]
    assert typed[0]["categories"] == ["stammdaten", "dokumente"] and typed[1]["direction"] == "inbound"


def test_adding_appends_an_empty_provision_and_one_always_stays():
    added = typed_provisions(FormData([*FIELDS, *ABH, ("bestimmung_hinzufuegen", "1")]))
    assert len(added) == 2 and added[0]["purposes"] == ["einbuergerung"]
    assert added[1] == {"recipient_kind": "abh", "purposes": [], "categories": [], "direction": "both"}
    assert typed_provisions(FormData([*ABH, ("bestimmung_entfernen", "0")])) == [added[1]]
    assert typed_provisions(FormData()) == [added[1]]  # the new form: one empty fieldset
    assert not edits_provisions(FormData([*FIELDS, *ABH]))
    many = FormData([field for i in range(MAX_PROVISIONS) for field in renumbered(ABH, i)]
                    + [("bestimmung_hinzufuegen", "1")])
    assert len(typed_provisions(many)) == MAX_PROVISIONS


def test_odd_input_is_named_by_validation_not_a_crash():
    upload = UploadFile(file=None, filename="x.pdf")  # a file where text belongs
    form = FormData([("municipality", upload), ("valid_from", upload), ("p0-recipient_kind", upload),
                     ("p0-purposes", upload), ("p0-direction", "both"), ("p5x-purposes", "jugendhilfe"),
                     ("bestimmung_entfernen", upload)])
    typed = typed_provisions(form)
    assert typed == [{"recipient_kind": "", "purposes": [], "categories": [], "direction": "both"}]
    try:
        ConsentTerms.model_validate(consent_terms(form, "a" * 64))
    except ValidationError as exc:
        assert "Bestimmung 1: Stelle: ist kein zulässiger Wert." in messages(exc)
    else:
        raise AssertionError("an empty recipient was accepted")


def test_messages_name_the_provision_and_the_field():
    form = FormData([*FIELDS, *ABH, ("p1-recipient_kind", "jobcenter"), ("p1-direction", "both")])
    try:
        ConsentTerms.model_validate(consent_terms(form, "a" * 64))
    except ValidationError as exc:
        assert messages(exc) == ["Bestimmung 2: Zwecke: Bitte mindestens eins wählen.",
                                 "Bestimmung 2: Datenkategorien: Bitte mindestens eins wählen."]
    else:
        raise AssertionError("a provision without purposes was accepted")
    unknown = InvalidInput("Unbekannte Stelle.", field="provisions.2.recipient.office")
    assert messages(unknown) == ["Bestimmung 3: Unbekannte Stelle."]
    assert messages(InvalidInput("Unbekannte Gemeinde (AGS).", field="municipality")) == ["Unbekannte Gemeinde (AGS)."]


def test_the_amend_forms_prefill_gives_back_every_provision():
    terms = ConsentTerms.model_validate(consent_terms(FormData([*FIELDS, *ABH, *JOBCENTER, *NAMED]), "a" * 64))
    again = ConsentTerms.model_validate(consent_terms(FormData([*FIELDS, *provision_fields(terms.provisions)]),
                                                      "a" * 64))
    assert again == terms
    shown = consent_fields(FormData(provision_fields(terms.provisions)), ["rsk-abh", "troisdorf-jugendamt"])
    assert shown["named_offices"] == ["rsk-abh", "troisdorf-jugendamt"] and len(shown["provisions"]) == 3
    assert not shown["added"]
