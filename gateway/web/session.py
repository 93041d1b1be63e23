"""The web interface's session: an HttpOnly cookie holding the user's bearer token, checked like any
API token (``TokenVerifier``), so the session expires with the token. Forms carry a CSRF token bound
to the session (HMAC of the token under a key kept in the data dir)."""
from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from pathlib import Path

from fastapi import Depends, Request
from fastapi.responses import Response

from gateway.auth import AuthError
from services.kernel.identity import Actor, Role
from services.kernel.settings import Settings

COOKIE = "kimhub_session"
CSRF_FIELD = "csrf"
CSRF_HEADER = "X-CSRF-Token"


class SignInRequired(Exception):
    """No session, or one that expired: the page answers with the sign-in page."""


class PageForbidden(Exception):
    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def csrf_key(settings: Settings) -> bytes:
    """The key CSRF tokens are made with, created on first use (shared by the data dir's processes)."""
    path = Path(settings.data_dir) / "web-csrf-key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass
        else:
            with os.fdopen(fd, "w") as f:
                f.write(secrets.token_hex(32))
    return bytes.fromhex(path.read_text().strip())


def csrf_token(request: Request, token: str) -> str:
    key = request.app.state.web_csrf_key
    return hmac.new(key, token.encode(), hashlib.sha256).hexdigest()


def start(request: Request, response: Response, token: str) -> None:
    """Set the session cookie: HttpOnly, SameSite=Lax, Secure when served over https."""
    settings = request.app.state.hub.settings
    response.set_cookie(COOKIE, token, max_age=settings.token_ttl_seconds, httponly=True, samesite="lax",
                        secure=request.url.scheme == "https", path="/")


def end(response: Response) -> None:
    response.delete_cookie(COOKIE, path="/")


async def session_actor(request: Request) -> Actor:
    """The signed-in actor; the session is the token, verified on every request."""
    token = request.cookies.get(COOKIE)
    if not token:
        raise SignInRequired()
    try:
        actor = await request.app.state.verifier.verify(token)
    except AuthError:
        raise SignInRequired() from None
    request.state.csrf = csrf_token(request, token)
    request.state.actor = actor
    return actor


def page_for(*roles: Role):
    """A dependency: the signed-in actor, if they hold one of ``roles``."""

    async def _check(actor: Actor = Depends(session_actor)) -> Actor:
        if not any(actor.has(r) for r in roles):
            raise PageForbidden("Diese Seite ist für Ihre Rolle nicht freigegeben.")
        return actor

    return _check


async def csrf_checked(request: Request) -> None:
    """Every form post carries the session's CSRF token (hidden field, or header for htmx)."""
    token = request.cookies.get(COOKIE)
    sent = request.headers.get(CSRF_HEADER)
    if sent is None:
        sent = (await request.form()).get(CSRF_FIELD)
    if not token or not isinstance(sent, str) or not hmac.compare_digest(sent, csrf_token(request, token)):
        raise PageForbidden("Das Formular ist abgelaufen oder stammt nicht von dieser Seite. "
                            "Bitte laden Sie die Seite neu und versuchen Sie es noch einmal.")
