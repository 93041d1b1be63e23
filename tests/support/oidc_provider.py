"""A small local OIDC provider for tests: discovery, JWKS, an authorization endpoint that signs in
whichever user the test chose, and a token endpoint that insists on PKCE (S256)."""
from __future__ import annotations

import base64
import hashlib
import json
import secrets
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlencode, urlparse

from joserfc import jwt
from joserfc.jwk import ECKey


class OidcProvider:
    def __init__(self, client_id: str = "kimhub-web", audience: str = "kimhub"):
        self.client_id, self.audience = client_id, audience
        self.key = ECKey.generate_key("P-256", parameters={"kid": "test-idp-1"})
        self.user: dict = {}  # who signs in next: sub, office, roles
        self.codes: dict[str, dict] = {}
        self.token_requests: list[dict] = []
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.issuer = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.httpd.shutdown()

    def discovery(self) -> dict:
        return {"issuer": self.issuer, "authorization_endpoint": f"{self.issuer}/authorize",
                "token_endpoint": f"{self.issuer}/token", "jwks_uri": f"{self.issuer}/jwks",
                "code_challenge_methods_supported": ["S256"]}

    def authorize(self, query: dict) -> tuple[int, dict]:
        """Sign in ``self.user``: back to the client with a one-time code bound to the PKCE challenge."""
        q = {k: v[0] for k, v in query.items()}
        if q.get("client_id") != self.client_id or q.get("code_challenge_method") != "S256" \
                or not q.get("code_challenge") or q.get("response_type") != "code":
            return 400, {"error": "invalid_request"}
        code = secrets.token_urlsafe(16)
        self.codes[code] = {"challenge": q["code_challenge"], "redirect_uri": q["redirect_uri"], "user": self.user}
        target = f"{q['redirect_uri']}?{urlencode({'code': code, 'state': q.get('state', '')})}"
        return 303, {"Location": target}

    def token(self, form: dict) -> tuple[int, dict]:
        f = {k: v[0] for k, v in form.items()}
        self.token_requests.append(f)
        grant = self.codes.pop(f.get("code", ""), None)
        verifier = f.get("code_verifier", "")
        challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
        if grant is None or f.get("grant_type") != "authorization_code" or f.get("client_id") != self.client_id \
                or f.get("redirect_uri") != grant["redirect_uri"] or challenge != grant["challenge"]:
            return 400, {"error": "invalid_grant"}
        now = int(time.time())
        claims = {"iss": self.issuer, "aud": self.audience, "iat": now, "exp": now + 300, **grant["user"]}
        token = jwt.encode({"alg": "ES256", "kid": self.key.kid}, claims, self.key, algorithms=["ES256"])
        return 200, {"access_token": token, "token_type": "Bearer", "expires_in": 300}

    def _handler(self):
        provider = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                url = urlparse(self.path)
                if url.path == "/.well-known/openid-configuration":
                    self._json(200, provider.discovery())
                elif url.path == "/jwks":
                    self._json(200, {"keys": [provider.key.as_dict(private=False)]})
                elif url.path == "/authorize":
                    status, body = provider.authorize(parse_qs(url.query))
                    self._redirect(body["Location"]) if status == 303 else self._json(status, body)
                else:
                    self._json(404, {"error": "not_found"})

            def do_POST(self):
                length = int(self.headers.get("Content-Length", 0))
                status, body = provider.token(parse_qs(self.rfile.read(length).decode()))
                self._json(status, body)

            def _json(self, status: int, body: dict) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _redirect(self, target: str) -> None:
                self.send_response(303)
                self.send_header("Location", target)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        return Handler
