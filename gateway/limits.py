"""Reject request bodies over the configured size before anything reads them (413)."""
from __future__ import annotations

import json

PROBLEM_413 = {
    "type": "urn:kimhub:problem:payload-too-large", "title": "Anfrage zu groß", "status": 413,
}


class BodySizeLimit:
    """Pure ASGI middleware: checks Content-Length and counts streamed bytes."""

    def __init__(self, app, max_bytes: int, overrides: dict[str, int] | None = None):
        self.app = app
        self.default = max_bytes
        self.overrides = overrides or {}  # path prefix -> limit (e.g. document uploads)

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        path = scope.get("path", "")
        limit = next((n for prefix, n in self.overrides.items() if path.startswith(prefix)), self.default)
        return await self._limited(scope, receive, send, limit)

    async def _limited(self, scope, receive, send, max_bytes: int):
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > max_bytes:
            return await self._reject(send, max_bytes)
        seen = 0
        exceeded = False
        rejected = False

        async def limited_receive():
            nonlocal seen, exceeded
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > max_bytes:
                    exceeded = True
                    raise _TooLarge()
            return message

        async def guarded_send(message):
            # The framework may turn our _TooLarge into its own error response (e.g. 400):
            # whatever it answers after the limit was exceeded is replaced by the 413.
            nonlocal rejected
            if not exceeded:
                await send(message)
            elif not rejected:
                rejected = True
                await self._reject(send, max_bytes)

        try:
            await self.app(scope, limited_receive, guarded_send)
        except _TooLarge:
            if not rejected:
                await self._reject(send, max_bytes)

    async def _reject(self, send, max_bytes: int) -> None:
        body = json.dumps({**PROBLEM_413,
                           "detail": f"Der Request-Body ist größer als {max_bytes} Bytes."}).encode()
        await send({"type": "http.response.start", "status": 413,
                    "headers": [(b"content-type", b"application/problem+json"),
                                (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})


class _TooLarge(Exception):
    pass
