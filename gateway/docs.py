"""The API's documentation, served entirely by the hub: Swagger UI at ``/docs``, ReDoc at ``/redoc``.

FastAPI's own pages load their scripts from a CDN and stay blank on a closed network (issue 19).
Here the scripts, styles and icon come from the npm packages ``swagger-ui-dist`` and ``redoc``
(``package.json`` at the repository root, installed by ``npm ci`` in the set-up), mounted under
``/assets``; no page refers to another host (no Google fonts, no online validator).
"""
from __future__ import annotations

import logging
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

log = logging.getLogger("kimhub.gateway")
# URL prefix → folder in node_modules; each must hold the files the pages name.
ASSETS = {"/assets/swagger-ui": ("swagger-ui-dist", ("swagger-ui-bundle.js", "swagger-ui.css", "favicon-32x32.png")),
          "/assets/redoc": ("redoc/bundles", ("redoc.standalone.js",))}
TITLE = "kimhub – Schnittstelle (API)"
ICON = "/assets/swagger-ui/favicon-32x32.png"


def install(app: FastAPI, node_modules: Path) -> None:
    """Mount the assets and add ``/docs`` and ``/redoc`` (the app is created with ``docs_url=None``)."""
    for prefix, (folder, files) in ASSETS.items():
        directory = node_modules / folder
        if not all((directory / f).is_file() for f in files):
            log.warning("API docs: %s not found (run `npm ci` at the repository root, or set KIMHUB_NODE_MODULES)",
                        directory)
        app.mount(prefix, StaticFiles(directory=directory, check_dir=False), name=prefix.strip("/"))
    app.add_api_route("/docs", swagger_ui, methods=["GET"], include_in_schema=False)
    app.add_api_route("/redoc", redoc, methods=["GET"], include_in_schema=False)


def _openapi_url(request: Request) -> str:
    return request.scope.get("root_path", "").rstrip("/") + request.app.openapi_url


def _local(request: Request, path: str) -> str:
    return request.scope.get("root_path", "").rstrip("/") + path


async def swagger_ui(request: Request) -> HTMLResponse:
    return get_swagger_ui_html(
        openapi_url=_openapi_url(request), title=TITLE,
        swagger_js_url=_local(request, "/assets/swagger-ui/swagger-ui-bundle.js"),
        swagger_css_url=_local(request, "/assets/swagger-ui/swagger-ui.css"),
        swagger_favicon_url=_local(request, ICON),
        swagger_ui_parameters={"validatorUrl": None, "tryItOutEnabled": False})


async def redoc(request: Request) -> HTMLResponse:
    return get_redoc_html(openapi_url=_openapi_url(request), title=TITLE,
                          redoc_js_url=_local(request, "/assets/redoc/redoc.standalone.js"),
                          redoc_favicon_url=_local(request, ICON), with_google_fonts=False)
