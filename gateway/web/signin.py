"""Sign-in (the demo sign-in on the embedded default), sign-out, and ``/`` to the user's start page."""
from __future__ import annotations

import hmac
import secrets

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse

from gateway.auth import AuthError, dev_users, issue_dev_token
from gateway.web import session
from gateway.web.render import page
from services.kernel.identity import Actor, Role

router = APIRouter()
NONCE = "kimhub_signin"
START = {Role.CASE_MANAGER: "/ui/personen", Role.CLERK: "/ui/posteingang", Role.DPO: "/ui/protokoll",
         Role.ADMIN: "/ui/admin/fehlgeschlagen"}


def start_page(actor: Actor) -> str:
    return next((path for role, path in START.items() if actor.has(role)), "/ui/start")


def safe_next(target: str | None) -> str | None:
    return target if target and target.startswith("/ui/") and "//" not in target else None


@router.get("/")
async def root(request: Request):
    try:
        actor = await session.session_actor(request)
    except session.SignInRequired:
        return RedirectResponse("/ui/anmelden", status_code=303)
    return RedirectResponse(start_page(actor), status_code=303)


@router.get("/ui/start")
async def start(request: Request, actor: Actor = Depends(session.session_actor)):
    return page(request, "start.html", title="Start")


@router.get("/ui/anmelden")
async def sign_in_form(request: Request, weiter: str | None = None, abgemeldet: bool = False):
    return _form(request, safe_next(weiter), signed_out=abgemeldet)


def _form(request: Request, weiter: str | None, signed_out: bool = False, error: str | None = None):
    """The sign-in page; its form is tied to a short-lived cookie (no session exists yet for CSRF)."""
    settings = request.app.state.hub.settings
    users = list(dev_users(settings).values()) if settings.auth_mode == "dev" else []
    nonce = secrets.token_urlsafe(24)
    response = page(request, "signin.html", status_code=422 if error else 200, title="Anmelden", users=users,
                    nonce=nonce, weiter=weiter, signed_out=signed_out, error=error,
                    oidc=settings.auth_mode == "oidc" and bool(settings.oidc_client_id))
    response.set_cookie(NONCE, nonce, max_age=1800, httponly=True, samesite="strict", path="/ui/anmelden",
                        secure=request.url.scheme == "https")
    return response


@router.post("/ui/anmelden")
async def sign_in(request: Request, user: str = Form(""), csrf: str = Form(""), weiter: str = Form("")):
    settings = request.app.state.hub.settings
    nonce = request.cookies.get(NONCE, "")
    if not nonce or not hmac.compare_digest(nonce, csrf):
        raise session.PageForbidden("Das Anmeldeformular ist abgelaufen. Bitte laden Sie die Seite neu.")
    if settings.auth_mode != "dev" or user not in dev_users(settings):
        return _form(request, safe_next(weiter), error="Bitte wählen Sie einen der Demo-Zugänge aus.")
    token = issue_dev_token(settings, user)
    try:
        actor = await request.app.state.verifier.verify(token)
    except AuthError as exc:
        return _form(request, safe_next(weiter), error=exc.message)
    response = RedirectResponse(safe_next(weiter) or start_page(actor), status_code=303)
    session.start(request, response, token)
    response.delete_cookie(NONCE, path="/ui/anmelden")
    return response


@router.post("/ui/abmelden", dependencies=[Depends(session.csrf_checked)])
async def sign_out(request: Request):
    response = RedirectResponse("/ui/anmelden?abgemeldet=1", status_code=303)
    session.end(response)
    return response
