"""Issue 19, tried as a new user would: the API's answers in German and its documentation on a closed network.

The issue's examples, each against the hub as a real process: a municipality key that is not one
("String should match pattern '^[0-9]{8}$'"), an unknown field ("Extra inputs are not permitted"), an
expired token ("Ungültiges Token (ExpiredTokenError)"), a missing role ("erfordert die Rolle clerk"),
and ``/docs`` loading its scripts from a CDN.
"""
from __future__ import annotations

import re
import time
import uuid
from html.parser import HTMLParser

import httpx
import pytest
from joserfc import jwt

from gateway.auth import dev_key
from tests.e2e.conftest import assert_problem, consent_body, referral

PYDANTIC_ENGLISH = re.compile(r"should|Field required|not permitted|Input|Value error")


def assert_german_invalid(response: httpx.Response) -> list[dict]:
    body = assert_problem(response, 422, "urn:kimhub:problem:invalid-input")
    assert body["title"] == "Ungültige Eingabe"
    assert not PYDANTIC_ENGLISH.search(response.text), body
    return body["errors"]


def test_municipality_that_is_no_ags_is_explained_in_german(cm):
    errors = assert_german_invalid(cm.post("/consents", json=consent_body(municipality="Troisdorf")))
    assert [(e["field"], e["code"], e["label"]) for e in errors] == [
        ("municipality", "string_pattern_mismatch", "Gemeindeschlüssel (AGS)")]
    assert "8 Ziffern" in errors[0]["message"]


def test_unknown_fields_are_named_in_german(cm):
    body = referral(f"p-{uuid.uuid4().hex}", lieblingsfarbe="blau")
    body["categories"] = ["stammdaten"]
    errors = assert_german_invalid(cm.post("/transfers", json=body))
    assert {(e["field"], e["code"]) for e in errors} == {("payload.lieblingsfarbe", "extra_forbidden"),
                                                          ("categories", "extra_forbidden")}
    by_field = {e["field"]: e for e in errors}
    assert by_field["payload.lieblingsfarbe"]["label"] == "Feld „lieblingsfarbe“ in „Inhalt der Nachricht“"
    assert "gibt es hier nicht" in by_field["categories"]["message"]


def test_a_name_that_is_no_text_names_the_field_in_words(cm):
    errors = assert_german_invalid(cm.post("/transfers", json=referral(f"p-{uuid.uuid4().hex}",
                                                                       person={"given_name": ["A"]})))
    assert [(e["field"], e["label"]) for e in errors] == [("payload.person.given_name", "Vorname der Person")]
    assert errors[0]["message"] == "Vorname der Person: Erwartet wird ein Text (in Anführungszeichen)."


def test_case_facts_of_a_precheck_are_checked_in_german(cm):
    """A pre-check's facts are validated inside its handler, not by the request model: same German answer."""
    response = cm.post("/prechecks", json={"person": f"p-{uuid.uuid4().hex}", "procedure": "einbuergerung-stag-10",
                                           "facts": {"date_of_birth": "gestern", "lieblingsfarbe": "blau"}})
    errors = assert_german_invalid(response)
    assert {(e["field"], e["code"]) for e in errors} == {("facts.date_of_birth", "date_from_datetime_parsing"),
                                                          ("facts.lieblingsfarbe", "extra_forbidden")}
    assert "Geburtsdatum: Erwartet wird ein Datum im Format JJJJ-MM-TT" in response.json()["detail"]


def test_expired_token_says_so_in_german(hub):
    key = dev_key(hub.settings)
    claims = dict(jwt.decode(hub.token("cm.rsk"), key).claims)
    now = int(time.time())
    token = jwt.encode({"alg": "ES256", "kid": key.kid}, {**claims, "iat": now - 7200, "exp": now - 60}, key,
                       algorithms=["ES256"])
    response = httpx.get(f"{hub.base_url}/vocabulary", headers={"Authorization": f"Bearer {token}"}, timeout=10)
    body = assert_problem(response, 401, "urn:kimhub:problem:unauthorized")
    assert body["code"] == "token_expired"
    assert body["detail"].startswith("Die Anmeldung ist abgelaufen.")
    assert "Error" not in response.text


@pytest.mark.parametrize("headers, code", [
    ({}, "token_missing"), ({"Authorization": "Bearer a.b.c"}, "token_malformed")])
def test_missing_or_broken_token_says_so_in_german(hub, headers, code):
    response = httpx.get(f"{hub.base_url}/vocabulary", headers=headers, timeout=10)
    body = assert_problem(response, 401, "urn:kimhub:problem:unauthorized")
    assert (body["code"], body["title"]) == (code, "Anmeldung erforderlich")
    assert "Zugangs-Token" in body["detail"]


def test_missing_role_is_named_in_german(cm):
    body = assert_problem(cm.get("/inbox"), 403, "urn:kimhub:problem:forbidden")
    assert body["detail"] == "Diese Aktion ist der Rolle Sachbearbeitung vorbehalten."
    assert body["required_roles"] == ["clerk"]


def test_unknown_address_is_404_in_german(hub):
    body = assert_problem(httpx.get(f"{hub.base_url}/gibt-es-nicht", timeout=10), 404)
    assert (body["title"], body["detail"]) == ("Nicht gefunden", "Diese Adresse gibt es nicht.")


# --- the documentation on a closed network --------------------------------------------------------------------

class _References(HTMLParser):
    """Every URL a page loads or links to: src/href attributes and the spec URL of its scripts."""

    def __init__(self):
        super().__init__()
        self.urls: list[str] = []
        self.scripts = ""

    def handle_starttag(self, tag, attrs):
        self.urls += [value for name, value in attrs if name in ("src", "href", "spec-url") and value]

    def handle_data(self, data):
        self.scripts += data


def references(html: str) -> list[str]:
    parser = _References()
    parser.feed(html)
    in_scripts = re.findall(r"""(?:url|spec-url)\s*[:=]\s*['"]([^'"]+)['"]""", parser.scripts)
    return parser.urls + in_scripts


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
def test_api_docs_load_nothing_from_elsewhere(hub, page):
    response = httpx.get(f"{hub.base_url}{page}", timeout=10)
    assert response.status_code == 200, response.text
    assert "text/html" in response.headers["content-type"]
    urls = references(response.text)
    assert any(u.endswith(".js") for u in urls), urls
    assert "/openapi.json" in urls, urls
    assert not re.search(r"https?://|//[a-z0-9.-]+\.[a-z]{2,}/", response.text, re.I), response.text
    for url in urls:
        asset = httpx.get(f"{hub.base_url}{url}", timeout=10)
        assert asset.status_code == 200, url
        assert len(asset.content) > 100, url
