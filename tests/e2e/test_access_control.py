"""Who may call what: bearer tokens (401), roles and offices (403), other offices' data (404)."""
from __future__ import annotations

import time

import httpx
import pytest
from joserfc import jwt
from joserfc.jwk import ECKey

from gateway.auth import dev_key
from tests.e2e.conftest import assert_problem, consent_body, referral, wait_for

PROBLEM = "application/problem+json"


# --- helpers ------------------------------------------------------------------------------------------------

def claims_of(hub, user: str) -> dict:
    """The claims of a genuine dev token for ``user`` (as gateway.auth.issue_dev_token sets them)."""
    return dict(jwt.decode(hub.token(user), dev_key(hub.settings)).claims)


def sign(claims: dict, key: ECKey, kid: str | None) -> str:
    header = {"alg": "ES256", **({"kid": kid} if kid else {})}
    return jwt.encode(header, claims, key, algorithms=["ES256"])


def hub_signed(hub, user: str = "cm.rsk", **changes) -> str:
    """A token signed with the hub's own dev key, with some claims changed."""
    key = dev_key(hub.settings)
    return sign({**claims_of(hub, user), **changes}, key, key.kid)


def get_as(hub, path: str, token: str | None = None, scheme: str = "Bearer") -> httpx.Response:
    headers = {"Authorization": f"{scheme} {token}".strip()} if token is not None else {}
    return httpx.get(f"{hub.base_url}{path}", headers=headers, timeout=10)


def assert_401(response: httpx.Response) -> None:
    assert_problem(response, 401, "urn:kimhub:problem:unauthorized")
    assert response.headers["www-authenticate"] == "Bearer"


def assert_403(response: httpx.Response) -> dict:
    return assert_problem(response, 403, "urn:kimhub:problem:forbidden")


PROTECTED = "/persons/p-00000000000000000000000000000000/consents"  # case managers; 200 [] when let in


@pytest.fixture(scope="module")
def consent(cm) -> dict:
    response = cm.post("/consents", json=consent_body())
    assert response.status_code == 201, response.text
    return response.json()


@pytest.fixture(scope="module")
def transfer_id(cm, consent) -> str:
    response = cm.post("/transfers", json=referral(consent["person"]))
    assert response.status_code == 202, response.text
    return response.json()["transfer_id"]


# --- authentication: 401 ------------------------------------------------------------------------------------

def test_a_hub_signed_token_is_accepted(hub):
    """Control: the token helpers make tokens the hub accepts, so the 401s below are about the change."""
    assert get_as(hub, PROTECTED, hub_signed(hub)).status_code == 200


@pytest.mark.parametrize("method, path", [
    ("GET", PROTECTED), ("POST", "/consents"), ("POST", "/transfers"), ("GET", "/transfers/t-1"),
    ("GET", "/inbox"), ("GET", "/audit/transfers"), ("GET", "/vocabulary"),
])
def test_no_token_is_401(hub, method, path):
    with hub.client() as anonymous:
        assert_401(anonymous.request(method, path))


@pytest.mark.parametrize("token, scheme", [
    ("garbage", "Bearer"), ("a.b.c", "Bearer"), ("", "Bearer"), ("Y20ucnNrOnNlY3JldA==", "Basic"),
], ids=["garbage", "three-dots", "scheme-only", "basic-auth"])
def test_garbage_token_is_401(hub, token, scheme):
    assert_401(get_as(hub, PROTECTED, token, scheme))


@pytest.mark.parametrize("kid", ["hub", None, "other-kid"], ids=["hub-kid", "no-kid", "unknown-kid"])
def test_token_signed_by_another_key_is_401(hub, kid):
    other_key = ECKey.generate_key("P-256")
    token = sign(claims_of(hub, "cm.rsk"), other_key, dev_key(hub.settings).kid if kid == "hub" else kid)
    assert_401(get_as(hub, PROTECTED, token))


def test_expired_token_is_401(hub):
    now = int(time.time())
    assert_401(get_as(hub, PROTECTED, hub_signed(hub, iat=now - 7200, exp=now - 60)))


@pytest.mark.parametrize("claim, value", [("aud", "other-service"), ("iss", "https://evil.invalid/")])
def test_token_for_another_audience_or_issuer_is_401(hub, claim, value):
    assert_401(get_as(hub, PROTECTED, hub_signed(hub, **{claim: value})))


# --- authorisation: 403 -------------------------------------------------------------------------------------

def test_token_for_an_unknown_office_is_403(hub):
    assert_403(get_as(hub, PROTECTED, hub_signed(hub, office="nirgendwo-kim")))


def test_token_without_a_kimhub_role_is_403(hub):
    assert_403(get_as(hub, PROTECTED, hub_signed(hub, roles=["superuser"])))


def assert_role_required(response: httpx.Response, roles: list[str], named: str) -> None:
    """403 naming the roles in German for people and by their ids for clients."""
    body = assert_403(response)
    assert (body["code"], body["required_roles"]) == ("role_required", roles), body
    assert named in body["detail"], body
    assert not set(roles) & set(body["detail"].replace("(", " ").replace(")", " ").split()), body


def test_dpo_and_admin_cannot_record_consents(hub, dpo):
    # Offices that obtain consent (case managers, and clerks for referrals into case management)
    # record it; the DPO and admins do not.
    assert_role_required(dpo.post("/consents", json=consent_body()), ["case_manager", "clerk"],
                         "der Rolle Fallmanagement (KIM) oder Sachbearbeitung vorbehalten")
    with hub.client("admin") as admin:
        assert_403(admin.post("/consents", json=consent_body()))


def test_case_manager_cannot_read_an_inbox(cm):
    assert_role_required(cm.get("/inbox"), ["clerk"], "Sachbearbeitung")


def test_case_manager_cannot_read_the_transfer_log(cm):
    assert_role_required(cm.get("/audit/transfers"), ["dpo"], "Datenschutzbeauftragte*r")


def test_dpo_cannot_read_transfer_status(dpo, transfer_id):
    assert_403(dpo.get(f"/transfers/{transfer_id}"))


def test_dpo_cannot_record_consents(dpo):
    assert_403(dpo.post("/consents", json=consent_body()))


# --- another office's data is reported as missing -----------------------------------------------------------

@pytest.fixture(scope="module")
def cm_me(hub):
    with hub.client("cm.me") as client:
        yield client


def test_other_office_cannot_see_a_consent(cm, cm_me, consent):
    cid = consent["consent_id"]
    assert cm.get(f"/consents/{cid}").status_code == 200  # it exists
    hidden = assert_problem(cm_me.get(f"/consents/{cid}"), 404, "urn:kimhub:problem:not-found")
    missing = assert_problem(cm_me.get("/consents/c-00000000000000000000000000000000"), 404)
    assert hidden == missing  # same answer as for an id that does not exist
    assert cm_me.get(f"/persons/{consent['person']}/consents").json() == []


def test_other_office_cannot_change_a_consent(cm, cm_me, consent):
    cid = consent["consent_id"]
    before = cm.get(f"/consents/{cid}").json()
    assert_problem(cm_me.post(f"/consents/{cid}/revocation", json={"method": "schriftlich"}), 404)
    assert_problem(cm_me.post(f"/consents/{cid}/versions", json=consent_body()), 404)
    assert cm.get(f"/consents/{cid}").json() == before


def test_other_office_cannot_see_a_transfer(cm, cm_me, transfer_id):
    assert cm.get(f"/transfers/{transfer_id}").status_code == 200  # it exists
    hidden = assert_problem(cm_me.get(f"/transfers/{transfer_id}"), 404, "urn:kimhub:problem:not-found")
    missing = assert_problem(cm_me.get("/transfers/t-00000000000000000000000000000000"), 404)
    assert hidden == missing


# --- public endpoints ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("path", ["/health/live", "/health/ready"])
def test_health_needs_no_token(hub, path):
    response = get_as(hub, path)
    assert response.status_code == 200, response.text
    assert response.json()["status"] in ("ok", "ready")


def test_openapi_is_published(hub):
    response = get_as(hub, "/openapi.json")
    assert response.status_code == 200
    spec = response.json()
    assert spec["info"]["title"] == "kimhub"
    assert {"/consents", "/transfers", "/transfers/{transfer_id}", "/inbox", "/audit/transfers"} <= set(spec["paths"])


# --- the DPO sees metadata only -----------------------------------------------------------------------------

def test_dpo_log_never_contains_payload(hub, cm, dpo):
    person = cm.post("/consents", json=consent_body()).json()["person"]
    sent = cm.post("/transfers", json=referral(
        person, person={"given_name": "Zainab", "family_name": "Haddad"}, case_notes="Termin am Dienstag"))
    assert sent.status_code == 202, sent.text
    refused = cm.post("/transfers", json=referral(person, kind="jobcenter", person={"given_name": "Zainab"}))
    assert refused.status_code == 403, refused.text

    def delivered_record():
        records = dpo.get("/audit/transfers", params={"person": person}).json()["records"]
        return [r for r in records if r["transfer_id"] == sent.json()["transfer_id"] and r["decision"] == "delivered"]

    wait_for(delivered_record)
    responses = [
        dpo.get("/audit/transfers", params={"person": person}),
        dpo.get("/audit/transfers", params={"limit": 1000}),
        dpo.get("/audit/transfers", params={"office": "troisdorf-abh", "limit": 1000}),
        dpo.get("/audit/transfers", params={"decision": "refused", "limit": 1000}),
    ]
    for response in responses:
        assert response.status_code == 200, response.text
        for secret in ("Zainab", "Haddad", "Dienstag", "Prüfung", "Beratungstermin"):
            assert secret not in response.text
        for record in response.json()["records"]:
            assert not {"payload", "person_details", "given_name", "reason", "case_notes"} & set(record)
    assert responses[0].json()["total"] == 2
