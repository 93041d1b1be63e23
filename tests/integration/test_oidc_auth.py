"""Production authentication: tokens verified against an OIDC issuer's JWKS served over HTTP."""
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from joserfc import jwt
from joserfc.jwk import ECKey

from gateway.auth import AuthError, TokenVerifier
from services.kernel.identity import Role
from services.kernel.settings import Settings

ISSUER = "https://idp.example.invalid/realms/kim"


class JwksServer:
    def __init__(self):
        self.keys: list[ECKey] = []
        self.requests = 0
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                outer.requests += 1
                body = json.dumps({"keys": [k.as_dict(private=False) for k in outer.keys]}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.httpd = HTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/jwks"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()


@pytest.fixture(scope="module")
def jwks():
    server = JwksServer()
    yield server
    server.httpd.shutdown()


def _key(kid: str) -> ECKey:
    return ECKey.generate_key("P-256", parameters={"kid": kid})


def _token(key: ECKey, **overrides) -> str:
    now = int(time.time())
    claims = {"iss": ISSUER, "aud": "kimhub", "sub": "u-4711", "iat": now, "exp": now + 300,
              "office": "rsk-abh", "roles": ["clerk", "some-other-app-role"], **overrides}
    return jwt.encode({"alg": "ES256", "kid": key.kid}, claims, key, algorithms=["ES256"])


def _verifier(jwks: JwksServer) -> TokenVerifier:
    settings = Settings(auth_mode="oidc", auth_issuer=ISSUER, auth_jwks_url=jwks.url)
    return TokenVerifier(settings, {"rsk-abh", "rsk-kim"})


async def test_valid_token_gives_actor_with_known_roles_only(jwks):
    key = _key("k1")
    jwks.keys = [key]
    actor = await _verifier(jwks).verify(_token(key))
    assert (actor.user, actor.office, actor.roles) == ("u-4711", "rsk-abh", frozenset({Role.CLERK}))


async def test_rotated_issuer_key_is_fetched_on_unknown_kid(jwks):
    old, new = _key("old"), _key("new")
    jwks.keys = [old]
    verifier = _verifier(jwks)
    await verifier.verify(_token(old))
    jwks.keys = [old, new]
    verifier._fetched_at -= 60  # the refresh throttle (30 s) has passed
    actor = await verifier.verify(_token(new))
    assert actor.office == "rsk-abh"


@pytest.mark.parametrize("overrides,status", [
    ({"iss": "https://evil.invalid"}, 401),
    ({"aud": "another-app"}, 401),
    ({"exp": int(time.time()) - 10}, 401),
    ({"office": "unknown-office"}, 403),
    ({"roles": ["viewer"]}, 403),
])
async def test_rejected_claims(jwks, overrides, status):
    key = _key("k2")
    jwks.keys = [key]
    with pytest.raises(AuthError) as err:
        await _verifier(jwks).verify(_token(key, **overrides))
    assert err.value.status == status


async def test_token_signed_by_unknown_key_is_rejected(jwks):
    jwks.keys = [_key("k3")]
    with pytest.raises(AuthError) as err:
        await _verifier(jwks).verify(_token(_key("k3")))  # same kid, other key: forged
    assert err.value.status == 401


async def test_unreachable_jwks_is_503_not_a_crash():
    settings = Settings(auth_mode="oidc", auth_issuer=ISSUER, auth_jwks_url="http://127.0.0.1:9/jwks")
    with pytest.raises(AuthError) as err:
        await TokenVerifier(settings, {"rsk-abh"}).verify(_token(_key("k4")))
    assert err.value.status == 503
