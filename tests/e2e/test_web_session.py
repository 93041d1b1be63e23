"""The web interface's session over HTTP: `/` leads to the sign-in or the start page, the cookie's flags,
CSRF on every form post, an expired or forged session, sign-out."""
from __future__ import annotations

import re
import time
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
from joserfc import jwt

from gateway.auth import dev_key
from tests.e2e.conftest import consent_body

CSRF = re.compile(r'name="csrf" value="([^"]+)"')


@contextmanager
def signed_in(hub, user: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=hub.base_url, timeout=10) as client:
        nonce = CSRF.search(client.get("/ui/anmelden").text).group(1)
        answer = client.post("/ui/anmelden", data={"user": user, "csrf": nonce})
        assert answer.status_code == 303, answer.text
        yield client


def test_root_leads_to_sign_in_then_to_the_start_page(hub):
    anonymous = httpx.get(f"{hub.base_url}/")
    assert (anonymous.status_code, anonymous.headers["location"]) == (303, "/ui/anmelden")
    with signed_in(hub, "clerk.troisdorf-abh") as clerk:
        start = clerk.get("/")
        assert (start.status_code, start.headers["location"]) == (303, "/ui/posteingang")
        assert clerk.get("/ui/posteingang").status_code == 200


def test_session_cookie_is_httponly_samesite_and_secure_over_https(hub):
    with httpx.Client(base_url=hub.base_url) as client:
        nonce = CSRF.search(client.get("/ui/anmelden").text).group(1)
        answer = client.post("/ui/anmelden", data={"user": "cm.rsk", "csrf": nonce})
        cookie = answer.headers["set-cookie"]
        assert "kimhub_session=" in cookie and "HttpOnly" in cookie and "SameSite=lax" in cookie
        assert "Secure" not in cookie  # plain http on loopback
    https = {"X-Forwarded-Proto": "https"}  # behind a TLS-terminating proxy (uvicorn trusts loopback)
    with httpx.Client(base_url=hub.base_url, headers=https) as client:
        form = client.get("/ui/anmelden")
        assert "Secure" in form.headers["set-cookie"]  # the sign-in form's cookie too
        nonce = CSRF.search(form.text).group(1)  # (httpx keeps a Secure cookie back from http://)
        answer = client.post("/ui/anmelden", data={"user": "cm.rsk", "csrf": nonce},
                             headers={"Cookie": f"kimhub_signin={nonce}"})
        assert "Secure" in answer.headers["set-cookie"]


def test_every_form_post_needs_the_sessions_csrf_token(hub):
    with signed_in(hub, "cm.rsk") as cm:
        before = cm.get("/ui/personen").text
        for token in (None, "0" * 64):
            data = {"municipality": "05382068", "p0-recipient_kind": "abh", "p0-purposes": "aufenthaltsperspektive",
                    "p0-categories": "stammdaten", "valid_from": "2025-01-01", "form_version": "X", "language": "de"}
            if token:
                data["csrf"] = token
            answer = cm.post("/ui/personen/neu", data=data, files={"signed_form": ("f.pdf", b"%PDF-1.7", "application/pdf")})
            assert answer.status_code == 403 and "Formular ist abgelaufen" in answer.text
        assert cm.get("/ui/personen").text.count("/ui/personen/p-") == before.count("/ui/personen/p-")
        out = cm.post("/ui/abmelden")
        assert out.status_code == 403  # sign-out is a form post too


def expired_token(settings) -> str:
    key = dev_key(settings)
    now = int(time.time())
    claims = {"iss": settings.auth_issuer, "aud": settings.auth_audience, "sub": "cm.rsk", "iat": now - 7200,
              "exp": now - 60, "office": "rsk-kim", "roles": ["case_manager"]}
    return jwt.encode({"alg": "ES256", "kid": key.kid}, claims, key, algorithms=["ES256"])


def test_forged_or_expired_session_means_signing_in_again(hub):
    for cookie in ("eyJhbGciOiJub25lIn0.e30.", expired_token(hub.settings)):
        answer = httpx.get(f"{hub.base_url}/ui/personen", cookies={"kimhub_session": cookie})
        assert answer.status_code == 303 and answer.headers["location"] == "/ui/anmelden?weiter=/ui/personen"


def test_sign_out_ends_the_session(hub):
    with signed_in(hub, "dpo") as dpo:
        page = dpo.get("/ui/protokoll")
        token = CSRF.search(page.text).group(1)
        out = dpo.post("/ui/abmelden", data={"csrf": token})
        assert out.status_code == 303 and 'kimhub_session=""' in out.headers["set-cookie"]
        dpo.cookies.clear()
        assert dpo.get("/ui/protokoll").status_code == 303


def test_pages_keep_to_their_roles_and_offices(hub, cm):
    person = cm.post("/consents", json=consent_body()).json()["person"]
    with signed_in(hub, "clerk.troisdorf-abh") as clerk:
        assert clerk.get("/ui/protokoll").status_code == 403
        assert clerk.get(f"/ui/personen/{person}").status_code == 403
    with signed_in(hub, "cm.me") as other_office:
        answer = other_office.get(f"/ui/personen/{person}")
        assert answer.status_code == 404 and "keine Einwilligung" in answer.text
