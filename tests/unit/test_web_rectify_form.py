"""The Berichtigung form (Art. 16 DSGVO, gateway/web/rectify_form.py): which transfers it corrects, the
fields it asks for (only the categories the original carried), the rectification from the form, and
German messages naming each field as the form labels it."""
import pytest
from pydantic import ValidationError
from starlette.datastructures import FormData

from contracts.rectification import RectificationV1
from gateway.web.rectify_form import EXPLANATION, FIELDS, field_messages, offered, rectifiable, rectification_payload

ORIGINAL = "t-" + "a" * 32
SENT = ("falldaten", "stammdaten")


def _validated(*fields: tuple[str, str], categories=SENT) -> RectificationV1:
    return RectificationV1.model_validate(rectification_payload(FormData(fields), ORIGINAL, categories))


def _errors(*fields: tuple[str, str]) -> list[str]:
    with pytest.raises(ValidationError) as caught:
        _validated(*fields)
    return field_messages(caught.value)


def test_only_a_delivered_referral_the_office_sent_is_offered_for_rectifying():
    sent = {"direction": "sent", "status": "delivered", "message_type": "referral.v1"}
    assert rectifiable(sent) and rectifiable({**sent, "status": "received"})
    assert rectifiable({**sent, "message_type": "prechecked-referral.v1"})
    assert rectifiable({k: v for k, v in sent.items() if k != "direction"})  # a transfer's status
    for other in ({"status": "requested"}, {"status": "refused"}, {"status": "withheld"},
                  {"message_type": "rectification.v1"}, {"message_type": "feedback.termin.v1"},
                  {"direction": "received"}):
        assert not rectifiable({**sent, **other}), other


def test_the_form_asks_only_for_the_categories_the_original_carried():
    groups = dict(offered(SENT))
    assert [str(c) for c in groups] == ["falldaten", "stammdaten"]
    assert [f.name for f in groups["falldaten"]] == ["reason", "requested_action", "case_notes"]
    assert [f.name for f in groups["stammdaten"]][:3] == ["person.given_name", "person.family_name",
                                                          "person.date_of_birth"]
    every = [f.name for _, fields in offered(("falldaten", "stammdaten", "sozialdaten", "besondere_kategorien"))
             for f in fields]
    assert "social_situation.housing" in every and "health_notes" in every and len(every) == len(FIELDS)


def test_each_field_is_labelled_in_german_with_its_input():
    by_name = {f.name: f for f in FIELDS}
    assert by_name["person.family_name"].label == "Familienname der Person"
    assert by_name["social_situation.housing"].label == "Wohnsituation"
    assert (by_name["person.date_of_birth"].kind, by_name["reason"].kind) == ("date", "textarea")
    assert (by_name["person.given_name"].kind, by_name["person.given_name"].max_length) == ("text", 200)
    assert EXPLANATION.label == "Erläuterung der Berichtigung" and EXPLANATION.kind == "textarea"
    assert not [f.label for f in FIELDS if f.label.startswith("Feld „")]  # every field has a name in words


def test_the_form_becomes_the_rectification_of_the_fields_filled_in():
    payload = _validated(("explanation", "Familienname falsch geschrieben"), ("person.family_name", " Kaya "),
                         ("person.given_name", ""), ("reason", "  "), ("requested_action", "Termin anbieten"),
                         ("health_notes", "nicht angeboten"), ("social_situation.housing", "nicht angeboten"))
    assert payload.model_dump(exclude_none=True) == {
        "corrects": ORIGINAL, "explanation": "Familienname falsch geschrieben",
        "person": {"family_name": "Kaya"}, "requested_action": "Termin anbieten"}
    with_social = _validated(("explanation", "Wohnsituation"), ("social_situation.housing", "eigene Wohnung"),
                             categories=(*SENT, "sozialdaten"))
    assert with_social.social_situation.housing == "eigene Wohnung" and with_social.person is None


def test_invalid_input_is_named_in_german_by_the_field():
    assert _errors(("explanation", "nichts geändert")) == ["Mindestens ein berichtigtes Feld angeben."]
    assert _errors(("explanation", " "), ("reason", "neu")) == ["Erläuterung der Berichtigung: Darf nicht leer sein."]
    [birth] = _errors(("explanation", "Geburtsdatum"), ("person.date_of_birth", "31.02.1990"))
    assert birth.startswith("Geburtsdatum der Person: ") and "JJJJ-MM-TT" in birth
    [long] = _errors(("explanation", "Vorname"), ("person.given_name", "A" * 201))
    assert long == "Vorname der Person: Zu lang: höchstens 200 Zeichen erlaubt."
