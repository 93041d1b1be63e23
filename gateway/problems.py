"""RFC 9457 problem details (``application/problem+json``) for every error the API returns."""
from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError
from starlette.exceptions import HTTPException as StarletteHTTPException

from gateway.auth import AuthError
from services.kernel.errors import ServiceError
from services.infrastructure.errors import is_transient

PROBLEM = "application/problem+json"
log = logging.getLogger("kimhub.gateway")
_TITLES = {400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found", 405: "Method Not Allowed",
           409: "Conflict", 413: "Content Too Large", 415: "Unsupported Media Type", 422: "Unprocessable Content",
           500: "Internal Server Error", 503: "Service Unavailable"}


def problem(status: int, detail: str, type_: str = "about:blank", **extra) -> JSONResponse:
    body = {"type": type_, "title": _TITLES.get(status, "Error"), "status": status, "detail": detail, **extra}
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return JSONResponse(body, status_code=status, media_type=PROBLEM, headers=headers)


def _field(loc: tuple) -> str:
    parts = [str(p) for p in loc if p not in ("body",)]
    return ".".join(parts) or "body"


async def _validation(_request: Request, exc: RequestValidationError) -> JSONResponse:
    errors = exc.errors()
    if any(e.get("type") == "json_invalid" for e in errors):
        return problem(400, "Der Request-Body ist kein gültiges JSON.", "urn:kimhub:problem:malformed-json")
    items = [{"field": _field(tuple(e["loc"])), "code": e["type"], "message": e["msg"]} for e in errors]
    fields = ", ".join(dict.fromkeys(i["field"] for i in items))
    return problem(422, f"Ungültige Eingabe: {fields}", "urn:kimhub:problem:invalid-input", errors=items)


async def _service(_request: Request, exc: ServiceError) -> JSONResponse:
    extra = {"errors": [{"field": exc.field, "code": exc.code, "message": exc.message}]} if exc.field else {}
    return problem(exc.status, exc.message, f"urn:kimhub:problem:{exc.code.replace('_', '-')}", **extra, **exc.detail)


async def _auth(_request: Request, exc: AuthError) -> JSONResponse:
    kind = "unauthorized" if exc.status == 401 else "forbidden" if exc.status == 403 else "unavailable"
    return problem(exc.status, exc.message, f"urn:kimhub:problem:{kind}")


async def _http(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
    return problem(exc.status_code, str(exc.detail))


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
