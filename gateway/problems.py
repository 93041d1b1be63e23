"""RFC 9457 problem details (``application/problem+json``) for every error the API returns."""
from __future__ import annotations

import logging
from http import HTTPStatus

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError
from starlette.exceptions import HTTPException as StarletteHTTPException

from gateway.auth import AuthError
from gateway.field_labels import field_label, path_label
from gateway.validation_texts import german_text
from services.kernel.errors import InvalidFields, ServiceError
from services.infrastructure.errors import is_transient

PROBLEM = "application/problem+json"
log = logging.getLogger("kimhub.gateway")
_TITLES = {400: "Ungültige Anfrage", 401: "Anmeldung erforderlich", 403: "Keine Berechtigung",
           404: "Nicht gefunden", 405: "Methode nicht erlaubt", 409: "Konflikt", 410: "Nicht mehr vorhanden",
           413: "Anfrage zu groß", 415: "Dateiart nicht unterstützt", 422: "Ungültige Eingabe",
           500: "Interner Fehler", 503: "Vorübergehend nicht verfügbar"}
# Starlette's own answers (an unknown path, a method a route does not take) in German.
_HTTP_DETAILS = {404: "Diese Adresse gibt es nicht.", 405: "Diese Methode ist für diese Adresse nicht erlaubt."}
MAX_NAMED = 5  # errors spelled out in ``detail``; ``errors`` lists them all


def problem(status: int, detail: str, type_: str = "about:blank", headers: dict | None = None,
            **extra) -> JSONResponse:
    body = {"type": type_, "title": _TITLES.get(status, "Fehler"), "status": status, "detail": detail, **extra}
    headers = {**(headers or {}), **({"WWW-Authenticate": "Bearer"} if status == 401 else {})}
    return JSONResponse(body, status_code=status, media_type=PROBLEM, headers=headers or None)


def _field(loc: tuple) -> str:
    parts = [str(p) for p in loc if p not in ("body",)]
    return ".".join(parts) or "body"


def _route(request: Request) -> str:
    """The request path's last segment: some fields are named differently per route (``items``)."""
    return request.url.path.rstrip("/").rsplit("/", 1)[-1]


def invalid_input(errors: list[dict], route: str = "") -> JSONResponse:
    """422 naming each field in words and saying in German what is wrong; ``field`` (the path) and
    ``code`` (pydantic's error type) stay for API clients."""
    items = []
    for e in errors:
        label, text = field_label(tuple(e["loc"]), route), german_text(e)
        items.append({"field": _field(tuple(e["loc"])), "code": e["type"], "label": label,
                      "message": f"{label}: {text}"})
    named = list(dict.fromkeys(i["message"] for i in items))
    more = f" (und {len(named) - MAX_NAMED} weitere)" if len(named) > MAX_NAMED else ""
    detail = "Bitte die Eingabe prüfen. " + " ".join(named[:MAX_NAMED]) + more
    return problem(422, detail, "urn:kimhub:problem:invalid-input", errors=items)


async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
    errors = exc.errors()
    if any(e.get("type") == "json_invalid" for e in errors):
        return problem(400, "Der Request-Body ist kein gültiges JSON.", "urn:kimhub:problem:malformed-json")
    return invalid_input(errors, _route(request))


async def _service(request: Request, exc: ServiceError) -> JSONResponse:
    if isinstance(exc, InvalidFields):
        return invalid_input(exc.errors, _route(request))
    extra = {}
    if exc.field:
        extra["errors"] = [{"field": exc.field, "code": exc.code, "label": path_label(exc.field, _route(request)),
                            "message": exc.message}]
    return problem(exc.status, exc.message, f"urn:kimhub:problem:{exc.code.replace('_', '-')}", **extra, **exc.detail)


async def _auth(_request: Request, exc: AuthError) -> JSONResponse:
    kind = "unauthorized" if exc.status == 401 else "forbidden" if exc.status == 403 else "unavailable"
    return problem(exc.status, exc.message, f"urn:kimhub:problem:{kind}", code=exc.code, **exc.detail)


async def _http(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
    detail = str(exc.detail)
    if detail == HTTPStatus(exc.status_code).phrase:  # Starlette's English default
        detail = _HTTP_DETAILS.get(exc.status_code, _TITLES.get(exc.status_code, "Fehler") + ".")
    return problem(exc.status_code, detail, headers=exc.headers)


async def _unavailable(_request: Request, exc: Exception) -> JSONResponse:
    if not is_transient(exc):
        return await _internal(_request, exc)
    response = problem(503, "Die Datenbank ist vorübergehend nicht erreichbar. Bitte erneut versuchen.",
                       "urn:kimhub:problem:unavailable")
    response.headers["Retry-After"] = "2"
    return response


async def _internal(_request: Request, exc: Exception) -> JSONResponse:
    log.exception("unhandled %s", type(exc).__name__)
    return problem(500, "Interner Fehler. Es wurde nichts übermittelt.", "urn:kimhub:problem:internal")


def install(app: FastAPI) -> None:
    app.add_exception_handler(RequestValidationError, _validation)
    app.add_exception_handler(ServiceError, _service)
    app.add_exception_handler(AuthError, _auth)
    app.add_exception_handler(StarletteHTTPException, _http)
    app.add_exception_handler(DBAPIError, _unavailable)
    app.add_exception_handler(OSError, _unavailable)
