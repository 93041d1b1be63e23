"""Signing in to the web interface over OIDC (authorization code flow with PKCE) against a small local
provider, in Debian's Chromium; the hub as a real process in auth_mode=oidc."""
from __future__ import annotations

from urllib.parse import parse_qs, urlparse

import httpx
import pytest

from tests.conftest import create_database, drop_database
from tests.e2e.browser import assert_accessible, browser  # noqa: F401
from tests.e2e.conftest import start_hub, stop_hub
from tests.support.oidc_provider import OidcProvider


@pytest.fixture(scope="module")
def idp():
    provider = OidcProvider()
    yield provider
    provider.stop()


@pytest.fixture(scope="module")
def oidc_hub(idp, broker_bootstrap, tmp_path_factory):
    url = create_database()
    hub = start_hub({"KIMHUB_DATABASE_URL": url, "KIMHUB_KAFKA_BOOTSTRAP": broker_bootstrap,
                     "KIMHUB_AUTH_MODE": "oidc", "KIMHUB_ALLOW_DEV_AUTH": "false", "KIMHUB_AUTH_ISSUER": idp.issuer,
                     "KIMHUB_AUTH_JWKS_URL": f"{idp.issuer}/jwks", "KIMHUB_OIDC_CLIENT_ID": idp.client_id},
                    tmp_path_factory.mktemp("oidc-hub"))
    yield hub
    stop_hub(hub)
    drop_database(url)


def test_sign_in_over_oidc_with_pkce(oidc_hub, idp, browser):
    idp.user = {"sub": "u-4711", "office": "troisdorf-abh", "roles": ["clerk"]}
    page = browser.new_context().new_page()
    page.goto(f"{oidc_hub.base_url}/")
    assert page.get_by_text("Demo-Betrieb").count() == 0 and page.locator("input[name=user]").count() == 0
    assert_accessible(page)
    page.get_by_role("link", name="Anmelden über den Identitätsanbieter").click()
    page.wait_for_url("**/ui/posteingang")
    assert page.get_by_text("u-4711 · Ausländerbehörde Stadt Troisdorf (Demo)").count() == 1
    [exchange] = idp.token_requests[-1:]
    assert len(exchange["code_verifier"]) >= 43  # RFC 7636: the verifier went to the token endpoint only


def test_a_foreign_state_or_a_wrong_verifier_signs_no_one_in(oidc_hub, idp):
    idp.user = {"sub": "u-4711", "office": "troisdorf-abh", "roles": ["clerk"]}
    with httpx.Client(base_url=oidc_hub.base_url) as client:
        to_idp = client.get("/ui/anmelden/oidc")
        assert to_idp.status_code == 303 and "code_challenge_method=S256" in to_idp.headers["location"]
        back = httpx.get(to_idp.headers["location"])  # the provider signs the user in
        query = parse_qs(urlparse(back.headers["location"]).query)
        forged = client.get("/ui/anmelden/oidc/callback", params={"code": query["code"][0], "state": "fremd"})
        assert forged.status_code == 403 and "kimhub_session" not in forged.headers.get("set-cookie", "")
    stolen_code = idp.authorize({"client_id": [idp.client_id], "response_type": ["code"], "state": ["s"],
                                 "code_challenge_method": ["S256"], "code_challenge": ["A" * 43],
                                 "redirect_uri": [f"{oidc_hub.base_url}/ui/anmelden/oidc/callback"]})[1]
    code = parse_qs(urlparse(stolen_code["Location"]).query)["code"][0]
    with httpx.Client(base_url=oidc_hub.base_url) as client:  # a flow of its own, but someone else's code
        state = parse_qs(urlparse(client.get("/ui/anmelden/oidc").headers["location"]).query)["state"][0]
        answer = client.get("/ui/anmelden/oidc/callback", params={"code": code, "state": state})
        assert answer.status_code == 403 and "nicht bestätigt" in answer.text


def test_a_user_without_a_kimhub_role_is_not_signed_in(oidc_hub, idp, browser):
    idp.user = {"sub": "u-0815", "office": "troisdorf-abh", "roles": ["other-app"]}
    page = browser.new_context().new_page()
    page.goto(f"{oidc_hub.base_url}/ui/anmelden")
    page.get_by_role("link", name="Anmelden über den Identitätsanbieter").click()
    page.get_by_role("heading", name="Nicht erlaubt").wait_for()  # the reason in words, from the verifier
    assert not [c for c in page.context.cookies() if c["name"] == "kimhub_session"]
