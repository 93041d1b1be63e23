"""Bad input over HTTP: every 4xx answer is problem+json that names what is wrong, and nothing is stored or sent.

How "nothing happened" is checked:

* consents are posted for a person who already has exactly one consent; that person's consent list
  (GET /persons/{p}/consents) must be the same afterwards;
* transfers are sent for a fresh pseudonym without any consent; a request that got past validation
  would be refused and written to the transfer log in the same transaction, so an unchanged DPO log
  total for that person proves the request never reached the gate.
"""
from __future__ import annotations

import json
import uuid

import httpx
import pytest

from tests.e2e.conftest import assert_problem, consent_body, form_hash, referral

PROBLEM = "application/problem+json"
MAX_BODY_BYTES = 65536  # KIMHUB_MAX_BODY_BYTES of the session hub


# --- helpers ------------------------------------------------------------------------------------------------

def new_pseudonym() -> str:
    return f"p-{uuid.uuid4().hex}"


def provision(recipient: dict | None = None, purposes=("aufenthaltsperspektive",),
              categories=("stammdaten", "falldaten")) -> dict:
    return {"recipient": recipient or {"kind": "abh"}, "purposes": list(purposes), "categories": list(categories)}


def assert_invalid(response: httpx.Response, field: str, code: str | None = None) -> dict:
    """422 whose ``errors`` name exactly ``field`` (and, if given, with that error code)."""
    body = assert_problem(response, 422, "urn:kimhub:problem:invalid-input")
    errors = {e["field"]: e for e in body["errors"]}
    assert list(errors) == [field], body
    assert errors[field]["message"]
    if code is not None:
        assert errors[field]["code"] == code, body
    return body


def assert_alive(hub) -> None:
    assert httpx.get(f"{hub.base_url}/health/live", timeout=5).status_code == 200


def consents_of(cm, person: str) -> list[dict]:
    response = cm.get(f"/persons/{person}/consents")
    assert response.status_code == 200, response.text
    return response.json()


def log_total(dpo, person: str) -> int:
    response = dpo.get("/audit/transfers", params={"person": person})
    assert response.status_code == 200, response.text
    return response.json()["total"]


def refused_total(dpo) -> int:
    """All refusals in the log: written only at request time, so no earlier test's delivery can change it."""
    response = dpo.get("/audit/transfers", params={"decision": "refused", "limit": 1})
    assert response.status_code == 200, response.text
    return response.json()["total"]


def post_consent(hub, cm, person: str, body: dict | None = None, *, content: bytes | None = None,
                 path: str = "/consents") -> httpx.Response:
    """POST a consent (or amendment) for ``person``; asserts it left no trace and the hub still answers."""
    before = consents_of(cm, person)
    if content is not None:
        response = cm.post(path, content=content, headers={"content-type": "application/json"})
    else:
        response = cm.post(path, json=body)
    assert consents_of(cm, person) == before
    assert_alive(hub)
    return response


def post_transfer(hub, cm, dpo, person: str, body: dict | None = None, logged: int = 0, **request) -> httpx.Response:
    """POST /transfers about ``person`` (who has no consent); asserts that nothing was logged (or ``logged``
    records: a request refused before the gate, issue 17) and that the hub still answers."""
    assert log_total(dpo, person) == 0
    response = cm.post("/transfers", json=body, **request) if body is not None else cm.post("/transfers", **request)
    assert log_total(dpo, person) == logged
    assert_alive(hub)
    return response


def padded(body: dict, size: int) -> bytes:
    """A valid JSON body of at least ``size`` bytes (trailing whitespace is insignificant in JSON)."""
    raw = json.dumps(body).encode()
    return raw + b" " * max(0, size - len(raw))


@pytest.fixture(scope="module")
def person(cm) -> str:
    """A person with exactly one consent of rsk-kim; bad consent requests name this person."""
    response = cm.post("/consents", json=consent_body())
    assert response.status_code == 201, response.text
    person = response.json()["person"]
    assert len(consents_of(cm, person)) == 1
    return person


@pytest.fixture(scope="module")
def consent_id(person, cm) -> str:
    return consents_of(cm, person)[0]["consent_id"]


# --- malformed JSON -----------------------------------------------------------------------------------------

def test_malformed_json_consent_is_400(hub, cm, person):
    broken = f'{{"person": "{person}", "municipality": "05382068", "provisions": ['.encode()
    body = assert_problem(post_consent(hub, cm, person, content=broken), 400, "urn:kimhub:problem:malformed-json")
    assert "JSON" in body["detail"]


def test_malformed_json_transfer_is_400(hub, cm, dpo):
    p = new_pseudonym()
    broken = f'{{"person": "{p}", "municipality": "05382068", "recipient": {{"kind": "abh"}},'.encode()
    response = post_transfer(hub, cm, dpo, p, content=broken, headers={"content-type": "application/json"})
    body = assert_problem(response, 400, "urn:kimhub:problem:malformed-json")
    assert "JSON" in body["detail"]


# --- consents: schema and directory checks ------------------------------------------------------------------

def _purposes_as_string(body):
    body["provisions"][0]["purposes"] = "aufenthaltsperspektive"


def _unknown_category(body):
    body["provisions"][0]["categories"] = ["lieblingsfarbe"]


def _unknown_office(body):
    body["provisions"] = [provision({"office": "nirgendwo-abh"})]


def _evidence_hash(value):
    def change(body):
        body["evidence"]["form_sha256"] = value
    return change


def _set(**fields):
    def change(body):
        body.update(fields)
    return change


@pytest.mark.parametrize("change, field, code", [
    pytest.param(_purposes_as_string, "provisions.0.purposes", "list_type", id="purposes-as-string"),
    pytest.param(_set(valid_from="gestern"), "valid_from", None, id="valid-from-not-a-date"),
    pytest.param(_set(provisions={"recipient": {"kind": "abh"}}), "provisions", "list_type", id="provisions-as-object"),
    pytest.param(_unknown_office, "provisions.0.recipient.office", "invalid_input", id="unknown-office"),
    pytest.param(_unknown_category, "provisions.0.categories.0", "enum", id="unknown-category"),
    pytest.param(_set(municipality="05382999"), "municipality", "invalid_input", id="unknown-municipality"),
    pytest.param(_set(municipality="Troisdorf"), "municipality", "string_pattern_mismatch", id="municipality-not-ags"),
    pytest.param(_evidence_hash(form_hash()[:63]), "evidence.form_sha256", "string_pattern_mismatch",
                 id="hash-63-chars"),
    pytest.param(_evidence_hash("z" * 64), "evidence.form_sha256", "string_pattern_mismatch", id="hash-not-hex"),
    pytest.param(_evidence_hash(form_hash().upper()), "evidence.form_sha256", "string_pattern_mismatch",
                 id="hash-upper-case"),
    pytest.param(_set(notes="mündlich erklärt"), "notes", "extra_forbidden", id="unknown-field"),
])
def test_invalid_consent_is_422(hub, cm, person, change, field, code):
    body = consent_body(person=person)
    change(body)
    assert_invalid(post_consent(hub, cm, person, body), field, code)


@pytest.mark.parametrize("valid_until", ["2024-12-31T00:00:00Z", "2025-01-01T00:00:00Z"], ids=["before", "equal"])
def test_consent_period_ending_before_it_starts_is_422(hub, cm, person, valid_until):
    body = consent_body(person=person, valid_from="2025-01-01T00:00:00Z", valid_until=valid_until)
    problem = assert_invalid(post_consent(hub, cm, person, body), "valid_until", "consent_period")
    assert problem["errors"][0]["message"] == "Ende der Gültigkeit: Muss nach dem Beginn der Gültigkeit liegen."


def test_invalid_person_pseudonym_in_consent_is_422(hub, cm, person):
    response = post_consent(hub, cm, person, consent_body(person="p-123"))
    assert_invalid(response, "person", "string_pattern_mismatch")


def test_invalid_amendment_is_422_and_adds_no_version(hub, cm, person, consent_id):
    body = consent_body(provisions=[provision({"office": "nirgendwo-abh"})])
    response = post_consent(hub, cm, person, body, path=f"/consents/{consent_id}/versions")
    assert_invalid(response, "provisions.0.recipient.office", "invalid_input")


# --- transfers ------------------------------------------------------------------------------------------------

def _recipient_office(office):
    def change(body):
        body["recipient"] = {"office": office}
    return change


def _payload(**fields):
    def change(body):
        body["payload"].update(fields)
    return change


@pytest.mark.parametrize("change, field, code", [
    pytest.param(_recipient_office("nirgendwo-abh"), "recipient.office", "invalid_input", id="unknown-office"),
    pytest.param(_set(purpose="spionage"), "purpose", "enum", id="unknown-purpose"),
    pytest.param(_set(municipality="05382999"), "municipality", "invalid_input", id="unknown-municipality"),
    pytest.param(_set(categories=["stammdaten"]), "categories", "extra_forbidden", id="sender-categories"),
    pytest.param(_payload(lieblingsfarbe="blau"), "payload.lieblingsfarbe", "extra_forbidden",
                 id="unknown-payload-field"),
    pytest.param(_set(payload="Bitte Termin anbieten"), "payload", "model_attributes_type", id="payload-as-string"),
    pytest.param(_payload(urgency="sofort"), "payload.urgency", "enum", id="unknown-urgency"),
    pytest.param(_payload(person={"given_name": ["A"]}), "payload.person.given_name", "string_type",
                 id="name-as-list"),
])
def test_invalid_transfer_is_422(hub, cm, dpo, change, field, code):
    p = new_pseudonym()
    body = referral(p)
    change(body)
    refused_before_the_gate = code == "invalid_input"  # no recipient office: logged as refused (issue 17)
    assert_invalid(post_transfer(hub, cm, dpo, p, body, logged=int(refused_before_the_gate)), field, code)


@pytest.mark.parametrize("pseudonym", ["p-123", "P-" + "0" * 32, "p-" + "A" * 32, "Amina K."])
def test_invalid_person_pseudonym_in_transfer_is_422(hub, cm, dpo, pseudonym):
    # The log cannot be asked about an invalid pseudonym; a transfer that got through would be refused (no consent).
    before = refused_total(dpo)
    response = cm.post("/transfers", json=referral(pseudonym))
    assert_invalid(response, "person", "string_pattern_mismatch")
    assert refused_total(dpo) == before
    assert_alive(hub)


def test_invalid_person_pseudonym_in_log_query_is_422(hub, dpo):
    assert_invalid(dpo.get("/audit/transfers", params={"person": "Amina K."}), "query.person", "string_pattern_mismatch")
    assert_alive(hub)


# --- body size ------------------------------------------------------------------------------------------------

def test_body_just_under_the_limit_is_processed(hub, cm, dpo):
    """Control for the 413 tests: the same kind of padded body, under the limit, reaches the gate."""
    p = new_pseudonym()
    response = cm.post("/transfers", content=padded(referral(p), MAX_BODY_BYTES - 1024),
                       headers={"content-type": "application/json"})
    assert response.status_code == 403, response.text  # no consent: refused (and logged)
    assert log_total(dpo, p) == 1


def test_body_over_the_limit_is_413(hub, cm, dpo):
    p = new_pseudonym()
    content = padded(referral(p), 100_000)
    response = post_transfer(hub, cm, dpo, p, content=content, headers={"content-type": "application/json"})
    assert response.request.headers["content-length"] == str(len(content))
    body = assert_problem(response, 413, "urn:kimhub:problem:payload-too-large")
    assert str(MAX_BODY_BYTES) in body["detail"]
    assert body["title"] == "Anfrage zu groß"


def test_streamed_body_over_the_limit_is_413(hub, cm, dpo):
    p = new_pseudonym()
    content = padded(referral(p), 100_000)

    def chunks():
        for start in range(0, len(content), 4096):
            yield content[start:start + 4096]

    response = post_transfer(hub, cm, dpo, p, content=chunks(), headers={"content-type": "application/json"})
    assert "content-length" not in response.request.headers
    assert response.request.headers["transfer-encoding"] == "chunked"
    assert_problem(response, 413, "urn:kimhub:problem:payload-too-large")


# --- consent life cycle: 404 / 409 ----------------------------------------------------------------------------

def _unknown_consent_id() -> str:
    return f"c-{uuid.uuid4().hex}"


def test_amending_an_unknown_consent_is_404(hub, cm):
    cid = _unknown_consent_id()
    response = cm.post(f"/consents/{cid}/versions", json=consent_body())
    body = assert_problem(response, 404, "urn:kimhub:problem:not-found")
    assert [e["field"] for e in body["errors"]] == ["consent_id"]
    assert cm.get(f"/consents/{cid}").status_code == 404
    assert_alive(hub)


def test_revoking_an_unknown_consent_is_404(hub, cm):
    cid = _unknown_consent_id()
    response = cm.post(f"/consents/{cid}/revocation", json={"method": "schriftlich"})
    body = assert_problem(response, 404, "urn:kimhub:problem:not-found")
    assert [e["field"] for e in body["errors"]] == ["consent_id"]
    assert cm.get(f"/consents/{cid}").status_code == 404
    assert_alive(hub)


def test_revocation_with_unknown_method_is_422(hub, cm):
    consent = cm.post("/consents", json=consent_body()).json()
    response = cm.post(f"/consents/{consent['consent_id']}/revocation", json={"method": "per Brieftaube"})
    assert_invalid(response, "method", "enum")
    assert cm.get(f"/consents/{consent['consent_id']}").json()["revoked_at"] is None
    assert_alive(hub)


def test_revoking_twice_is_409(hub, cm):
    cid = cm.post("/consents", json=consent_body()).json()["consent_id"]
    first = cm.post(f"/consents/{cid}/revocation", json={"method": "schriftlich"})
    assert first.status_code == 200, first.text
    revoked = cm.get(f"/consents/{cid}").json()

    again = cm.post(f"/consents/{cid}/revocation", json={"method": "muendlich"})
    body = assert_problem(again, 409, "urn:kimhub:problem:conflict")
    assert [e["field"] for e in body["errors"]] == ["consent_id"]
    assert cm.get(f"/consents/{cid}").json() == revoked  # first revocation (time, method) kept
    assert revoked["revocation_method"] == "schriftlich"
    assert_alive(hub)


def test_amending_a_revoked_consent_is_409(hub, cm):
    cid = cm.post("/consents", json=consent_body()).json()["consent_id"]
    assert cm.post(f"/consents/{cid}/revocation", json={"method": "elektronisch"}).status_code == 200
    before = cm.get(f"/consents/{cid}").json()

    response = cm.post(f"/consents/{cid}/versions", json=consent_body())
    assert_problem(response, 409, "urn:kimhub:problem:conflict")
    assert cm.get(f"/consents/{cid}").json() == before
    assert len(before["versions"]) == 1
    assert_alive(hub)


# --- integers outside PostgreSQL's BIGINT ------------------------------------------------------------------------

TOO_BIG, TOO_SMALL = str(2**63), str(-2**63 - 1)  # one past either end of a signed 64-bit integer


@pytest.mark.parametrize("user, method, path, params, field, code", [
    pytest.param("dpo", "GET", "/audit/export", {"start": TOO_BIG}, "query.start", "less_than_equal",
                 id="export-start"),
    pytest.param("dpo", "GET", "/audit/export", {"end": TOO_BIG}, "query.end", "less_than_equal", id="export-end"),
    pytest.param("dpo", "GET", "/audit/transfers", {"after_seq": TOO_BIG}, "query.after_seq", "less_than_equal",
                 id="log-after-seq"),
    pytest.param("dpo", "GET", f"/audit/checkpoints/{TOO_BIG}", {}, "path.size", "less_than_equal",
                 id="checkpoint-size"),
    pytest.param("dpo", "GET", f"/audit/checkpoints/{TOO_SMALL}", {}, "path.size", "greater_than_equal",
                 id="checkpoint-size-negative"),
    pytest.param("dpo", "GET", "/audit/proofs/inclusion", {"index": TOO_BIG}, "query.index", "less_than_equal",
                 id="inclusion-index"),
    pytest.param("dpo", "GET", "/audit/proofs/inclusion", {"index": "0", "size": TOO_BIG}, "query.size",
                 "less_than_equal", id="inclusion-size"),
    pytest.param("dpo", "GET", "/audit/proofs/consistency", {"old": TOO_BIG}, "query.old", "less_than_equal",
                 id="consistency-old"),
    pytest.param("dpo", "GET", "/audit/proofs/consistency", {"old": "1", "new": TOO_BIG}, "query.new",
                 "less_than_equal", id="consistency-new"),
    pytest.param("dpo", "POST", f"/audit/checkpoints/{TOO_BIG}/cosignatures", {}, "path.size", "less_than_equal",
                 id="cosignature-size"),
    pytest.param("admin", "POST", f"/admin/dead-letters/{TOO_BIG}/replay", {}, "path.dead_letter_id",
                 "less_than_equal", id="replay-id"),
    pytest.param("admin", "POST", f"/admin/dead-letters/{TOO_SMALL}/replay", {}, "path.dead_letter_id",
                 "greater_than_equal", id="replay-id-negative"),
])
def test_integer_outside_bigint_is_422(hub, user, method, path, params, field, code):
    """Such numbers used to reach PostgreSQL and fail there (500, or a broken stream for the export)."""
    body = {"note": "kimhub\n1\nAAAA\n"} if method == "POST" else None
    with hub.client(user) as client:
        response = client.request(method, path, params=params, json=body)
    problem = assert_invalid(response, field, code)
    assert problem["errors"][0]["label"] in problem["detail"]
    assert f"„{field.split('.')[-1]}“" in problem["detail"]  # the parameter's name, for API clients
    assert_alive(hub)


def test_consent_already_expired_when_recorded_is_422_with_the_reason(hub, cm, dpo, person):
    body = consent_body(person=person, valid_from="2024-01-01T00:00:00Z", valid_until="2025-01-01T00:00:00Z")
    problem = assert_invalid(post_consent(hub, cm, person, body), "valid_until")
    message = problem["errors"][0]["message"]
    assert "bereits abgelaufen" in message and "01.01.2025" in message, problem
    assert log_total(dpo, person) == 0
    consent_id = consents_of(cm, person)[0]["consent_id"]
    expired = consent_body(valid_from="2024-01-01T00:00:00Z", valid_until="2025-01-01T00:00:00Z")
    amended = post_consent(hub, cm, person, expired, path=f"/consents/{consent_id}/versions")
    assert "bereits abgelaufen" in assert_invalid(amended, "valid_until")["errors"][0]["message"]
