"""The German web interface: server-rendered pages (Jinja2, htmx), KERN design system, session cookies.
Pages call the same bus commands and views as the API routes."""
from __future__ import annotations

import logging
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import RedirectResponse
from fastapi.staticfiles import StaticFiles

from gateway.web import case_manager, clerk, dpo, signin
from gateway.web.render import page
from gateway.web.session import PageForbidden, SignInRequired, csrf_key
from services.kernel.errors import ServiceError

STATIC = Path(__file__).parent / "static"
log = logging.getLogger("kimhub.web")


def assets_dir(configured: Path | None) -> Path:
    """Where ``npm ci`` put the front-end packages (KERN, htmx): by default the repository's node_modules."""
    return configured or Path(__file__).resolve().parents[2] / "node_modules"


def install(app: FastAPI) -> None:
    app.state.web_csrf_key = csrf_key(app.state.hub.settings)
    for router in (signin.router, case_manager.router, clerk.router, dpo.router):
        app.include_router(router, include_in_schema=False)
    modules = assets_dir(app.state.hub.settings.web_assets_dir)
    if not (modules / "@kern-ux" / "native" / "dist").is_dir():
        log.warning("web interface: %s has no KERN files; run `npm ci` (make install does)", modules)
    app.mount("/ui/static/kern", StaticFiles(directory=modules / "@kern-ux" / "native" / "dist", check_dir=False),
              name="kern")
    app.mount("/ui/static/htmx", StaticFiles(directory=modules / "htmx.org" / "dist", check_dir=False), name="htmx")
    app.mount("/ui/static/app", StaticFiles(directory=STATIC), name="app")
    app.add_exception_handler(SignInRequired, _sign_in)
    app.add_exception_handler(PageForbidden, _forbidden)
    api_handler = app.exception_handlers[ServiceError]

    async def _service_error(request: Request, exc: ServiceError):
        """On a page, the error as a page; on the API, problem+json as before."""
        if not request.url.path.startswith("/ui/"):
            return await api_handler(request, exc)
        return page(request, "error.html", status_code=exc.status, title="Nicht möglich", message=exc.message)

    app.add_exception_handler(ServiceError, _service_error)


async def _sign_in(request: Request, _exc: SignInRequired):
    target = "/ui/anmelden"
    if request.method == "GET" and request.url.path != "/":
        target += f"?weiter={request.url.path}"
    return RedirectResponse(target, status_code=303)


async def _forbidden(request: Request, exc: PageForbidden):
    return page(request, "error.html", status_code=403, title="Nicht erlaubt", message=exc.message)
