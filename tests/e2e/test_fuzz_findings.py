"""500s found with the OpenAPI fuzz run (test_openapi_fuzz.py) and while chasing what it found, each
pinned down by a plain test.

* A reply's transfer id long enough only before whitespace is stripped (the reply contract strips
  it): the reply model failed inside the route, 500 (found by the fuzz run). Now 422 naming the path
  parameter.
* U+0000 (NUL) in a path or query parameter or a JSON string reached PostgreSQL, which cannot store
  it: 500; in a referral's payload it was accepted (202) and failed only at delivery (found by hand
  on the same routes; schemathesis never puts NUL into a path). Now 422 naming where it is.
* A checklist template version beyond PostgreSQL's INTEGER: 500 (found by hand). Now 422.
"""
from __future__ import annotations

import json

import pytest

from tests.e2e.conftest import assert_problem, consent_body, referral

PERSON = "p-" + "0" * 32
FACTS = {"date_of_birth": "1990-04-02", "entry_date": "2017-03-15", "family_status": "ledig",
         "has_children": False, "has_passport": True, "receives_benefits": False, "german_school_certificate": False}
PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\ntrailer\n<<>>\n%%EOF\n"


def raw_json(text: str) -> dict:
    """Request arguments for a JSON body written out by hand (so that escapes stay as written)."""
    return {"content": text.encode(), "headers": {"content-type": "application/json"}}


def precheck(items: str) -> dict:
    """A pre-check whose item statuses are written out as JSON (``items`` as the raw text)."""
    return raw_json('{"person": "%s", "procedure": "einbuergerung-stag-10", "facts": %s, "items": %s}'
                    % (PERSON, json.dumps(FACTS), items))


@pytest.fixture(scope="module")
def person(cm) -> str:
    response = cm.post("/consents", json=consent_body())
    assert response.status_code == 201, response.text
    return response.json()["person"]


@pytest.mark.parametrize("user, method, path, request_args, field", [
    pytest.param("cm.rsk", "GET", "/transfers/t-a%00b", {}, "path.transfer_id", id="path-transfer"),
    pytest.param("cm.rsk", "POST", "/consents/c-a%00b/revocation", {"json": {"method": "schriftlich"}},
                 "path.consent_id", id="path-consent"),
    pytest.param("clerk.troisdorf-abh", "POST", "/inbox/t-a%00b/replies/nicht-zustaendig", {"json": {}},
                 "path.transfer_id", id="path-reply"),
    pytest.param("cm.rsk", "POST", f"/documents?person={PERSON}&title=Pass%00", {
        "content": PDF, "headers": {"content-type": "application/pdf"}}, "query.title", id="query-title"),
    pytest.param("cm.rsk", "POST", "/prechecks",
                 precheck('{"pass": {"status": "verified", "documents": ["d-\\u0000"]}}'),
                 "items.pass.documents.0", id="body-list-item"),
    pytest.param("cm.rsk", "POST", "/prechecks",
                 precheck('{"pass": {"status": "missing", "reason": "folgt\\u0000"}}'),
                 "items.pass.reason", id="body-dict-value"),
    pytest.param("cm.rsk", "POST", "/prechecks", precheck('{"pass\\u0000": {"status": "present"}}'), "items.pass\x00",
                 id="body-dict-key"),
    pytest.param("cm.rsk", "POST", "/consents", raw_json(json.dumps(consent_body(
        evidence={"form_sha256": "a" * 64, "form_version": "KIM\x00", "language": "ar"}))),
        "evidence.form_version", id="body-consent-field"),
])
def test_unstorable_character_is_422(hub, user, method, path, request_args, field):
    with hub.client(user) as client:
        response = client.request(method, path, **request_args)
    body = assert_problem(response, 422, "urn:kimhub:problem:invalid-input")
    assert [(e["field"], e["code"]) for e in body["errors"]] == [(field, "string_unstorable")], body
    assert "U+0000" in body["errors"][0]["message"]


def test_nul_in_a_referral_payload_is_422_and_nothing_is_logged(hub, cm, dpo, person):
    response = cm.post("/transfers", **raw_json(json.dumps(referral(person, requested_action="Termin\x00"))))
    body = assert_problem(response, 422, "urn:kimhub:problem:invalid-input")
    assert [e["field"] for e in body["errors"]] == ["payload.requested_action"]
    assert dpo.get("/audit/transfers", params={"person": person}).json()["total"] == 0


def test_escapes_that_are_storable_pass(hub, cm, dpo, person):
    """Control: a backslash followed by 'u0000' is ordinary text, and so is an escaped surrogate pair (an emoji)."""
    text = json.dumps(referral(person, requested_action="Pfad C:\\u0000 \U0001F600"), ensure_ascii=True)
    assert "\\\\u0000" in text and "\\ud83d\\ude00" in text
    response = cm.post("/transfers", **raw_json(text))
    assert response.status_code == 202, response.text


@pytest.mark.parametrize("transfer_id", ["%C2%85ab", "%20ab%20", "%E2%80%83ab"], ids=["nel", "spaces", "em-space"])
def test_reply_to_an_id_short_after_stripping_is_422(hub, transfer_id):
    with hub.client("clerk.troisdorf-abh") as clerk:
        response = clerk.post(f"/inbox/{transfer_id}/replies/termin",
                              json={"location": "Raum 1", "starts_at": "2030-01-01T09:00:00Z"})
    body = assert_problem(response, 422, "urn:kimhub:problem:invalid-input")
    assert [(e["field"], e["code"]) for e in body["errors"]] == [("path.transfer_id", "string_too_short")], body


def test_template_version_beyond_integer_column_is_422(hub):
    """The fuzz run cannot reach this (the fuzzing admin's office owns no template)."""
    with hub.client("admin.troisdorf-ebh") as admin:
        template = admin.get("/checklists/einbuergerung-stag-10").json()
        template.update(procedure="zz-version-probe", version=2**31, valid_from="2099-01-01")
        response = admin.post("/checklists/zz-version-probe/versions", json=template)
        body = assert_problem(response, 422, "urn:kimhub:problem:invalid-input")
        assert "Version: Darf höchstens 2147483647 sein." in body["detail"], body
        assert [e["field"] for e in body["errors"]] == ["version"], body
        assert admin.get("/checklists/zz-version-probe").status_code == 404
