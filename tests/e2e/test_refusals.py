"""Refusals at request time, one per reason: 403 problem+json with the reason in German, the transfer
recorded as refused, and exactly one "refused" record in the DPO's transfer log."""
from __future__ import annotations

import time
import uuid
from datetime import datetime, timedelta, timezone

import httpx
import pytest

from tests.e2e.conftest import consent_body, referral, wait_for

PROBLEM = "application/problem+json"
TROISDORF, SIEGBURG = "05382068", "05382060"

# A phrase of the German message each reason code must carry.
GERMAN = {
    "no_consent": "keine Einwilligung vor",
    "consent_revoked": "Einwilligung wurde widerrufen",
    "consent_expired": "Einwilligung ist abgelaufen",
    "consent_not_yet_valid": "Einwilligung ist noch nicht gültig",
    "recipient_not_covered": "umfasst diese empfangende Stelle nicht",
    "other_jurisdiction": "Stellen einer anderen Gemeinde",
    "purpose_not_covered": "umfasst diesen Zweck nicht",
    "category_not_covered": "umfasst folgende Datenkategorien nicht: Falldaten",
}


# --- helpers ------------------------------------------------------------------------------------------------

def new_pseudonym() -> str:
    return f"p-{uuid.uuid4().hex}"


def provision(recipient: dict | None = None, purposes=("aufenthaltsperspektive",),
              categories=("stammdaten", "falldaten")) -> dict:
    return {"recipient": recipient or {"kind": "abh"}, "purposes": list(purposes), "categories": list(categories)}


def record(client: httpx.Client, **overrides) -> dict:
    response = client.post("/consents", json=consent_body(**overrides))
    assert response.status_code == 201, response.text
    return response.json()


def send(cm: httpx.Client, body: dict) -> httpx.Response:
    return cm.post("/transfers", json=body)


def status_of(cm: httpx.Client, transfer_id: str) -> dict:
    response = cm.get(f"/transfers/{transfer_id}")
    assert response.status_code == 200, response.text
    return response.json()


def assert_accepted(cm: httpx.Client, response: httpx.Response) -> dict:
    assert response.status_code == 202, response.text
    accepted = response.json()
    wait_for(lambda: status_of(cm, accepted["transfer_id"])["status"] == "delivered")
    return accepted


def assert_german(message: str, code: str) -> None:
    assert GERMAN[code] in message, message
    assert "consent" not in message.lower()


def assert_refused(cm: httpx.Client, dpo: httpx.Client, person: str, response: httpx.Response,
                   codes: list[str]) -> dict:
    """403 problem+json with exactly ``codes``, status "refused", one "refused" log record; returns the problem."""
    assert response.status_code == 403, response.text
    assert response.headers["content-type"] == PROBLEM
    problem = response.json()
    assert problem["type"] == "urn:kimhub:problem:consent-not-covering"
    assert problem["detail"] == "Die Übermittlung ist von der Einwilligung nicht gedeckt."
    assert [r["code"] for r in problem["reasons"]] == codes
    for reason in problem["reasons"]:
        assert_german(reason["message"], reason["code"])

    transfer_id = problem["transfer_id"]
    assert response.headers["location"] == problem["status_url"] == f"/transfers/{transfer_id}"
    assert problem["recipient_office"] == status_of(cm, transfer_id)["recipient_office"]  # the office it resolved to
    status = status_of(cm, transfer_id)
    assert status["status"] == "refused"
    assert status["person"] == person
    assert [r["code"] for r in status["reasons"]] == codes
    assert status["categories"] == []

    log = dpo.get("/audit/transfers", params={"person": person})
    assert log.status_code == 200, log.text
    refused = [r for r in log.json()["records"] if r["decision"] == "refused"]
    assert len(refused) == 1, log.json()
    assert refused[0]["transfer_id"] == transfer_id
    assert refused[0]["reasons"] == codes
    assert refused[0]["stage"] == "request"
    assert refused[0]["categories_sent"] == []
    # the DPO's record names the consent version that was checked, as the 403 does (none: no consent)
    named = next(((r["consent_id"], r["consent_version"]) for r in problem["reasons"] if r.get("consent_id")),
                 (None, None))
    assert (refused[0]["consent_id"], refused[0]["consent_version"]) == named
    return problem


@pytest.fixture(scope="module")
def cm_me(hub):
    with hub.client("cm.me") as client:
        yield client


# --- one test per reason ------------------------------------------------------------------------------------

def test_no_consent(cm, dpo):
    p = new_pseudonym()
    problem = assert_refused(cm, dpo, p, send(cm, referral(p)), ["no_consent"])
    assert "consent_id" not in problem["reasons"][0]
    assert dpo.get("/audit/transfers", params={"person": p}).json()["total"] == 1


def test_consent_revoked(cm, dpo):
    consent = record(cm)
    revoked = cm.post(f"/consents/{consent['consent_id']}/revocation", json={"method": "schriftlich"})
    assert revoked.status_code == 200, revoked.text
    p = consent["person"]
    problem = assert_refused(cm, dpo, p, send(cm, referral(p)), ["consent_revoked"])
    assert problem["reasons"][0]["consent_id"] == consent["consent_id"]
    assert dpo.get("/audit/transfers", params={"person": p}).json()["total"] == 1


def test_consent_expired(cm, dpo):
    # An already expired consent is not recorded at all (test_bad_input); this one runs out after recording.
    until = datetime.now(timezone.utc) + timedelta(seconds=2)
    p = record(cm, valid_from="2020-01-01T00:00:00Z", valid_until=until.isoformat())["person"]
    time.sleep(max(0.0, (until - datetime.now(timezone.utc)).total_seconds()) + 0.2)
    assert_refused(cm, dpo, p, send(cm, referral(p)), ["consent_expired"])
    assert dpo.get("/audit/transfers", params={"person": p}).json()["total"] == 1


def test_consent_not_yet_valid(cm, dpo):
    p = record(cm, valid_from="2098-01-01T00:00:00Z", valid_until="2099-01-01T00:00:00Z")["person"]
    assert_refused(cm, dpo, p, send(cm, referral(p)), ["consent_not_yet_valid"])
    assert dpo.get("/audit/transfers", params={"person": p}).json()["total"] == 1


def test_recipient_not_covered(cm, dpo):
    p = record(cm)["person"]  # abh only
    response = send(cm, referral(p, kind="jobcenter", purpose="aufenthaltsperspektive"))
    assert_refused(cm, dpo, p, response, ["recipient_not_covered"])
    assert dpo.get("/audit/transfers", params={"person": p}).json()["total"] == 1


def test_other_jurisdiction(cm, dpo):
    p = record(cm, municipality=TROISDORF)["person"]  # any ABH competent for Troisdorf
    response = send(cm, referral(p, municipality=SIEGBURG))  # -> rsk-abh, not competent for Troisdorf
    problem = assert_refused(cm, dpo, p, response, ["other_jurisdiction"])
    assert status_of(cm, problem["transfer_id"])["recipient_office"] == "rsk-abh"
    assert dpo.get("/audit/transfers", params={"person": p}).json()["records"][0]["recipient_office"] == "rsk-abh"


def test_purpose_not_covered(cm, dpo):
    p = record(cm)["person"]  # aufenthaltsperspektive only
    assert_refused(cm, dpo, p, send(cm, referral(p, purpose="einbuergerung")), ["purpose_not_covered"])
    assert dpo.get("/audit/transfers", params={"person": p}).json()["total"] == 1


def _refused_for_missing_falldaten(cm, dpo) -> dict:
    p = record(cm, provisions=[provision(categories=["stammdaten"])])["person"]
    response = send(cm, referral(p, urgency="hoch", person={"given_name": "Amina"}))
    return assert_refused(cm, dpo, p, response, ["category_not_covered"])


def test_category_not_covered(cm, dpo):
    reason = _refused_for_missing_falldaten(cm, dpo)["reasons"][0]
    assert reason["categories"] == ["falldaten"]
    assert {"reason", "requested_action"} <= set(reason["fields"])
    assert "person" not in reason["fields"]  # stammdaten is covered


def test_category_not_covered_names_every_present_field(cm, dpo):
    reason = _refused_for_missing_falldaten(cm, dpo)["reasons"][0]
    assert reason["fields"] == ["reason", "requested_action", "urgency"]


def test_consent_recorded_by_another_office_does_not_count(cm, cm_me, dpo):
    p = record(cm_me)["person"]  # me-kim's consent, would otherwise cover the transfer
    assert_refused(cm, dpo, p, send(cm, referral(p)), ["no_consent"])
    assert dpo.get("/audit/transfers", params={"person": p}).json()["total"] == 1


# --- consents that allow, and what they stop allowing -------------------------------------------------------

def test_consent_naming_one_office_allows_exactly_that_office(cm, dpo):
    p = record(cm, provisions=[provision({"office": "troisdorf-abh"})])["person"]

    accepted = assert_accepted(cm, send(cm, referral(p)))  # abh for Troisdorf resolves to troisdorf-abh
    assert accepted["recipient_office"] == "troisdorf-abh"
    direct = assert_accepted(cm, send(cm, {**referral(p), "recipient": {"office": "troisdorf-abh"}}))
    assert direct["recipient_office"] == "troisdorf-abh"

    other = send(cm, {**referral(p), "recipient": {"office": "rsk-abh"}})
    assert_refused(cm, dpo, p, other, ["recipient_not_covered"])


def test_amended_consent_refuses_what_version_1_allowed(cm, dpo):
    consent = record(cm)  # v1: abh, stammdaten + falldaten
    cid, p = consent["consent_id"], consent["person"]
    allowed = assert_accepted(cm, send(cm, referral(p)))
    assert (allowed["consent_id"], allowed["consent_version"]) == (cid, 1)

    amended = cm.post(f"/consents/{cid}/versions", json=consent_body(provisions=[provision(categories=["stammdaten"])]))
    assert amended.status_code == 201, amended.text
    assert [v["version"] for v in amended.json()["versions"]] == [1, 2]

    problem = assert_refused(cm, dpo, p, send(cm, referral(p)), ["category_not_covered"])
    reason = problem["reasons"][0]
    assert (reason["consent_id"], reason["consent_version"]) == (cid, 2)
    assert reason["categories"] == ["falldaten"]
