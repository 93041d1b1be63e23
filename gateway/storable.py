"""Text PostgreSQL cannot store: the NUL character.

A ``text`` or ``jsonb`` value with U+0000 (``%00`` in a path or query, ``\\u0000`` in a JSON string or
key) makes PostgreSQL fail the statement, which the caller saw as 500; a referral with one in its
payload was accepted and failed only at delivery. ``reject_unstorable`` runs before every route and
answers 422 problem+json naming each path parameter, query parameter or body field that holds one,
before anything is read or written. (Lone UTF-16 surrogates, the other text PostgreSQL rejects, are
already refused by the request models' string validation.)
"""
from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from fastapi import Request
from fastapi.exceptions import RequestValidationError

MESSAGE = "Enthält das Zeichen U+0000 (NUL), das nicht verarbeitet werden kann."
_NUL = "\x00"
_JSON_ESCAPE = b"\\u0000"  # the only way a NUL gets into valid JSON


def _in_json(value: Any, loc: tuple) -> Iterator[tuple]:
    if isinstance(value, str):
        if _NUL in value:
            yield loc
    elif isinstance(value, dict):
        for key, item in value.items():
            if _NUL in key:
                yield loc + (key,)
            yield from _in_json(item, loc + (key,))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _in_json(item, loc + (index,))


def _json_body(request: Request) -> bool:
    """Whether FastAPI reads this request's body as JSON (no content type, or a JSON one)."""
    mime = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    return not mime or mime == "application/json" or mime.endswith("+json")


async def _in_body(request: Request) -> list[tuple]:
    if not _json_body(request):
        return []
    body = await request.body()  # already read (and cached) by FastAPI for routes with a body
    if _JSON_ESCAPE not in body:  # the common case: no second parse
        return []
    try:
        return list(_in_json(json.loads(body), ("body",)))
    except ValueError:  # not JSON (or not UTF-8): FastAPI answers that itself
        return []


async def reject_unstorable(request: Request) -> None:
    """App-wide dependency: 422 for a NUL in any path or query parameter or JSON string."""
    locs = [("path", name) for name, value in request.path_params.items()
            if isinstance(value, str) and _NUL in value]
    locs += [("query", name) for name, value in request.query_params.multi_items()
             if _NUL in name + value]
    locs += await _in_body(request)
    if locs:
        raise RequestValidationError([{"type": "string_unstorable", "loc": loc, "msg": MESSAGE, "input": None}
                                      for loc in dict.fromkeys(locs)])
