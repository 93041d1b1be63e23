"""Bearer-token authentication (JWT) and role checks.

``dev`` mode: tokens from the hub's own dev issuer (key pair in the data dir, ``kimhub token``).
``oidc`` mode: tokens from an OIDC issuer, verified against its JWKS (fetched, cached, refreshed
when an unknown key id shows up).
"""
from __future__ import annotations

import json
import os
import time
import uuid
from pathlib import Path

import httpx
import yaml
from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from joserfc import jwt
from joserfc.errors import (BadSignatureError, ClaimError, ExpiredTokenError, InvalidKeyIdError, JoseError,
                            MissingClaimError, MissingKeyError)
from joserfc.jwk import ECKey, KeySet

from services.kernel.identity import Actor, Role
from services.kernel.settings import Settings

ALGORITHMS = ["ES256", "RS256", "PS256", "Ed25519"]
_bearer = HTTPBearer(auto_error=False)


class AuthError(Exception):
    """A request the hub does not let in: ``message`` in German for the user, ``code`` for clients."""

    def __init__(self, status: int, message: str, code: str | None = None, **detail):
        super().__init__(message)
        self.status = status
        self.message = message
        self.code = code or _DEFAULT_CODES.get(status, "unauthorized")
        self.detail = detail


_DEFAULT_CODES = {401: "unauthorized", 403: "forbidden", 503: "unavailable"}


RELOGIN = "Bitte erneut anmelden."
_CLAIM_TEXTS = {  # a claim the token gets wrong: (code, German text)
    "iss": ("token_issuer", "Das Zugangs-Token wurde von einem anderen Identitätsanbieter ausgestellt und wird "
                            "hier nicht anerkannt."),
    "aud": ("token_audience", "Das Zugangs-Token wurde für eine andere Anwendung ausgestellt und gilt nicht für "
                              "kimhub."),
    "nbf": ("token_not_yet_valid", "Das Zugangs-Token ist noch nicht gültig. Bitte die Uhrzeit des Geräts prüfen."),
    "iat": ("token_not_yet_valid", "Das Zugangs-Token wurde laut seiner Angaben in der Zukunft ausgestellt. Bitte "
                                   "die Uhrzeit des Geräts prüfen."),
}


def token_error(exc: Exception) -> AuthError:
    """The German answer to a token that failed to decode or validate (never the exception's own text)."""
    if isinstance(exc, ExpiredTokenError):
        return AuthError(401, f"Die Anmeldung ist abgelaufen. {RELOGIN}", "token_expired")
    if isinstance(exc, (BadSignatureError, InvalidKeyIdError, MissingKeyError)):
        return AuthError(401, "Die Signatur des Zugangs-Tokens passt zu keinem Schlüssel des Identitätsanbieters; "
                              f"das Token wird nicht anerkannt. {RELOGIN}", "token_signature")
    if isinstance(exc, MissingClaimError):
        return AuthError(401, f"Dem Zugangs-Token fehlt die Pflichtangabe „{exc.claim}“. {RELOGIN}",
                         "token_claim_missing", claim=exc.claim)
    if isinstance(exc, ClaimError):
        code, text = _CLAIM_TEXTS.get(exc.claim, ("token_claim_invalid", f"Die Angabe „{exc.claim}“ im "
                                                                          "Zugangs-Token ist ungültig."))
        return AuthError(401, f"{text} {RELOGIN}", code, claim=exc.claim)
    return AuthError(401, f"Das Zugangs-Token ist beschädigt oder unvollständig und kann nicht gelesen werden. "
                          f"{RELOGIN}", "token_malformed")


def dev_key(settings: Settings) -> ECKey:
    """The dev issuer's signing key, created on first use."""
    path = settings.dev_signing_key_file
    if path.exists():
        return ECKey.import_key(json.loads(path.read_text()))
    path.parent.mkdir(parents=True, exist_ok=True)
    key = ECKey.generate_key("P-256", parameters={"kid": f"dev-{int(time.time())}"})
    # Written aside, then linked into place: processes starting together (``kimhub serve …``
    # beside each other, or a token issued meanwhile) all end up with the one key that won.
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{uuid.uuid4().hex}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(json.dumps(key.as_dict(private=True)))
    try:
        os.link(tmp, path)
    except FileExistsError:
        return ECKey.import_key(json.loads(path.read_text()))
    finally:
        tmp.unlink()
    return key


def dev_users(settings: Settings) -> dict[str, dict]:
    data = yaml.safe_load(Path(settings.dev_users_file).read_text(encoding="utf-8"))
    return {u["id"]: u for u in data["users"]}


def issue_dev_token(settings: Settings, user_id: str) -> str:
    users = dev_users(settings)
    if user_id not in users:
        raise KeyError(f"unknown demo user {user_id!r}; known: {', '.join(sorted(users))}")
    u = users[user_id]
    now = int(time.time())
    claims = {
        "iss": settings.auth_issuer, "aud": settings.auth_audience, "sub": u["id"], "iat": now,
        "exp": now + settings.token_ttl_seconds, settings.auth_office_claim: u["office"],
        settings.auth_roles_claim: u["roles"],
    }
    key = dev_key(settings)
    return jwt.encode({"alg": "ES256", "kid": key.kid}, claims, key, algorithms=["ES256"])


class TokenVerifier:
    def __init__(self, settings: Settings, known_offices: set[str]):
        self.settings = settings
        self.known_offices = known_offices
        self._keys: KeySet | None = None
        self._fetched_at = 0.0
        self._verified: dict[str, tuple[Actor, float]] = {}
        if settings.auth_mode == "dev":
            self._keys = KeySet([dev_key(settings)])

    async def _keyset(self, refresh: bool = False) -> KeySet:
        if self.settings.auth_mode == "dev":
            return self._keys
        if self._keys is None or (refresh and time.monotonic() - self._fetched_at > 30):
            async with httpx.AsyncClient(timeout=5) as client:
                response = await client.get(self.settings.auth_jwks_url)
                response.raise_for_status()
                self._keys = KeySet.import_key_set(response.json())
                self._fetched_at = time.monotonic()
        return self._keys

    async def verify(self, token: str) -> Actor:
        """The actor of a valid token. Verified tokens are remembered until they expire (at most
        a minute), so a busy client does not pay for a signature check on every request."""
        hit = self._verified.get(token)
        if hit is not None and time.time() < hit[1]:
            return hit[0]
        actor, exp = await self._verify(token)
        if len(self._verified) > 10_000:
            self._verified.clear()
        self._verified[token] = (actor, min(exp, time.time() + 60))
        return actor

    async def _verify(self, token: str) -> tuple[Actor, float]:
        s = self.settings
        try:
            try:
                decoded = jwt.decode(token, await self._keyset(), algorithms=ALGORITHMS)
            except InvalidKeyIdError:  # unknown key id: the issuer may have rotated its keys
                decoded = jwt.decode(token, await self._keyset(refresh=True), algorithms=ALGORITHMS)
            jwt.JWTClaimsRegistry(
                iss={"essential": True, "value": s.auth_issuer},
                aud={"essential": True, "value": s.auth_audience},
                exp={"essential": True}, sub={"essential": True},
            ).validate(decoded.claims)
        except (JoseError, ValueError) as exc:
            raise token_error(exc) from None
        except httpx.HTTPError:
            raise AuthError(503, "Der Identitätsanbieter ist nicht erreichbar (seine Schlüssel konnten nicht geladen "
                                 "werden). Bitte später erneut versuchen.", "idp_unreachable") from None
        claims = decoded.claims
        office = claims.get(s.auth_office_claim)
        raw_roles = claims.get(s.auth_roles_claim) or []
        roles = frozenset(Role(r) for r in raw_roles if r in Role._value2member_map_)
        if not isinstance(office, str) or office not in self.known_offices:
            raise AuthError(403, "Das Zugangs-Token nennt keine bei kimhub bekannte Stelle.", "unknown_office")
        if not roles:
            raise AuthError(403, "Das Zugangs-Token nennt keine kimhub-Rolle (möglich sind: "
                                 f"{', '.join(r.label for r in Role)}).", "no_role")
        return Actor(user=str(claims["sub"]), office=office, roles=roles), float(claims["exp"])


async def current_actor(request: Request,
                        credentials: HTTPAuthorizationCredentials | None = Depends(_bearer)) -> Actor:
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise AuthError(401, "Anmeldung erforderlich: Die Anfrage enthält kein Zugangs-Token (Kopfzeile "
                             "„Authorization: Bearer …“).", "token_missing")
    return await request.app.state.verifier.verify(credentials.credentials)


def require(*roles: Role):
    """A dependency that lets through only actors holding one of ``roles``."""

    async def _check(actor: Actor = Depends(current_actor)) -> Actor:
        if not any(actor.has(r) for r in roles):
            raise AuthError(403, f"Diese Aktion ist der Rolle {' oder '.join(r.label for r in roles)} vorbehalten.",
                            "role_required", required_roles=[r.value for r in roles])
        return actor

    return _check
