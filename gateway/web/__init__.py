"""The German web interface: server-rendered pages (Jinja2, htmx), KERN design system, session cookies.
Pages call the same bus commands and views as the API routes."""
from __future__ import annotations

import logging
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import RedirectResponse
from fastapi.staticfiles import StaticFiles

from gateway.web import (admin, case_manager, cases, checkpoints, clerk, consent_amend, dpo, dpo_charts, notices,
                        notifications, oidc, rectify, rights, signin)
from gateway.web.render import page
from gateway.web.session import PageForbidden, SignInRequired, csrf_key
from services.kernel.errors import ServiceError

STATIC = Path(__file__).parent / "static"
log = logging.getLogger("kimhub.web")


def install(app: FastAPI) -> None:
    """The pages, their static files, and error pages for /ui (the API keeps problem+json)."""
    app.state.web_csrf_key = csrf_key(app.state.hub.settings)
    for router in (signin.router, oidc.router, case_manager.router, consent_amend.router, clerk.router, dpo.router,
                   dpo_charts.router, checkpoints.router, admin.router, notices.router, notices.dpo_router,
                   notifications.router, cases.router, rectify.router, rights.router):
        app.include_router(router, include_in_schema=False)
    _mount_assets(app, app.state.hub.settings.node_modules)  # where `npm ci` put KERN and htmx
    app.state.api_error_handlers = {kind: app.exception_handlers[kind]
                                    for kind in (ServiceError, RequestValidationError)}
    app.add_exception_handler(SignInRequired, _sign_in)
    app.add_exception_handler(PageForbidden, _forbidden)
    app.add_exception_handler(ServiceError, _service_error)
    app.add_exception_handler(RequestValidationError, _invalid_address)


def _mount_assets(app: FastAPI, modules: Path) -> None:
    kern = modules / "@kern-ux" / "native" / "dist"
    if not kern.is_dir():
        log.warning("web interface: %s has no KERN files; run `npm ci` (make install does)", modules)
    app.mount("/ui/static/kern", StaticFiles(directory=kern, check_dir=False), name="kern")
    app.mount("/ui/static/htmx", StaticFiles(directory=modules / "htmx.org" / "dist", check_dir=False), name="htmx")
    app.mount("/ui/static/app", StaticFiles(directory=STATIC), name="app")


def _on_page(request: Request) -> bool:
    return request.url.path.startswith("/ui/")


async def _sign_in(request: Request, _exc: SignInRequired):
    target = "/ui/anmelden"
    if request.method == "GET" and request.url.path != "/":
        target += f"?weiter={request.url.path}"
    return RedirectResponse(target, status_code=303)


async def _forbidden(request: Request, exc: PageForbidden):
    return page(request, "error.html", status_code=403, title="Nicht erlaubt", message=exc.message)


async def _service_error(request: Request, exc: ServiceError):
    """On a page, the error as a page; on the API, problem+json as before."""
    if not _on_page(request):
        return await request.app.state.api_error_handlers[ServiceError](request, exc)
    return page(request, "error.html", status_code=exc.status, title="Nicht möglich", message=exc.message)


async def _invalid_address(request: Request, exc: RequestValidationError):
    if not _on_page(request):
        return await request.app.state.api_error_handlers[RequestValidationError](request, exc)
    return page(request, "error.html", status_code=404, title="Seite nicht gefunden",
                message="Diese Adresse gibt es nicht. Bitte prüfen Sie den Link.")
