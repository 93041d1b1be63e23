"""Sign-in over OIDC: the authorization code flow with PKCE (S256) against the configured issuer.

The flow's state, PKCE verifier and target page travel in a short-lived HttpOnly cookie, signed with
the CSRF key; the access token the issuer returns becomes the session (verified like an API token:
issuer, audience, expiry, office and roles claims)."""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from urllib.parse import urlencode

import httpx
from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse

from gateway.auth import AuthError
from gateway.web import session
from gateway.web.session import PageForbidden
from gateway.web.signin import safe_next, start_page

router = APIRouter(prefix="/ui/anmelden/oidc")
FLOW = "kimhub_oidc"
FLOW_SECONDS = 600


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _sign(request: Request, payload: str) -> str:
    return hmac.new(request.app.state.web_csrf_key, payload.encode(), hashlib.sha256).hexdigest()


async def _endpoints(request: Request) -> dict:
    """The issuer's discovery document (fetched once per process)."""
    cached = getattr(request.app.state, "oidc_discovery", None)
    if cached is None:
        s = request.app.state.hub.settings
        url = s.oidc_discovery_url or s.auth_issuer.rstrip("/") + "/.well-known/openid-configuration"
        async with httpx.AsyncClient(timeout=5) as client:
            response = await client.get(url)
            response.raise_for_status()
            cached = request.app.state.oidc_discovery = response.json()
    return cached


def _callback_url(request: Request) -> str:
    return str(request.url_for("oidc_callback"))


@router.get("")
async def start(request: Request, weiter: str = ""):
    """Off to the issuer, with a fresh state and a PKCE challenge."""
    s = request.app.state.hub.settings
    if s.auth_mode != "oidc" or not s.oidc_client_id:
        raise PageForbidden("Die Anmeldung über einen Identitätsanbieter ist nicht eingerichtet.")
    try:
        endpoints = await _endpoints(request)
    except httpx.HTTPError:
        raise PageForbidden("Der Identitätsanbieter ist nicht erreichbar. Bitte später erneut versuchen.") from None
    verifier, state = secrets.token_urlsafe(48), secrets.token_urlsafe(24)
    flow = json.dumps({"state": state, "verifier": verifier, "next": weiter, "until": time.time() + FLOW_SECONDS})
    query = urlencode({"response_type": "code", "client_id": s.oidc_client_id, "redirect_uri": _callback_url(request),
                       "scope": s.oidc_scopes, "state": state, "code_challenge_method": "S256",
                       "code_challenge": _b64(hashlib.sha256(verifier.encode()).digest())})
    response = RedirectResponse(f"{endpoints['authorization_endpoint']}?{query}", status_code=303)
    response.set_cookie(FLOW, _b64(flow.encode()) + "." + _sign(request, flow), max_age=FLOW_SECONDS, httponly=True,
                        samesite="lax", secure=request.url.scheme == "https", path="/ui/anmelden/oidc")
    return response


def _flow(request: Request, state: str) -> dict:
    """The flow this browser started, if the state the issuer sent back belongs to it."""
    raw = request.cookies.get(FLOW, "")
    encoded, _, mac = raw.partition(".")
    try:
        flow = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4)).decode()
        data = json.loads(flow)
    except (ValueError, UnicodeDecodeError):
        data, flow = None, ""
    if (not data or not hmac.compare_digest(mac, _sign(request, flow)) or time.time() > data["until"]
            or not hmac.compare_digest(str(data["state"]), state)):
        raise PageForbidden("Die Anmeldung ist abgelaufen oder gehört nicht zu diesem Browser. Bitte erneut anmelden.")
    return data


@router.get("/callback", name="oidc_callback")
async def callback(request: Request, code: str = "", state: str = "", error: str = ""):
    """Back from the issuer: exchange the code (with the PKCE verifier) for the token, start the session."""
    if error:
        raise PageForbidden("Der Identitätsanbieter hat die Anmeldung abgelehnt.")
    flow = _flow(request, state)
    token = await _exchange(request, code, flow["verifier"])
    try:
        actor = await request.app.state.verifier.verify(token)
    except AuthError as exc:
        raise PageForbidden(exc.message) from None
    response = RedirectResponse(safe_next(flow["next"]) or start_page(actor), status_code=303)
    session.start(request, response, token)
    response.delete_cookie(FLOW, path="/ui/anmelden/oidc")
    return response


async def _exchange(request: Request, code: str, verifier: str) -> str:
    s = request.app.state.hub.settings
    form = {"grant_type": "authorization_code", "code": code, "redirect_uri": _callback_url(request),
            "client_id": s.oidc_client_id, "code_verifier": verifier}
    secret = s.oidc_client_secret.get_secret_value()
    auth = (s.oidc_client_id, secret) if secret else None
    try:
        async with httpx.AsyncClient(timeout=10) as client:
            response = await client.post((await _endpoints(request))["token_endpoint"], data=form, auth=auth)
    except httpx.HTTPError:
        raise PageForbidden("Der Identitätsanbieter ist nicht erreichbar. Bitte später erneut versuchen.") from None
    token = response.json().get("access_token") if response.status_code == 200 else None
    if not isinstance(token, str):
        raise PageForbidden("Der Identitätsanbieter hat die Anmeldung nicht bestätigt. Bitte erneut anmelden.")
    return token
