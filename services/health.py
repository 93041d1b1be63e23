"""Health endpoints for a process that serves no gateway (gate, delivery, relay, audit), so an
orchestrator can probe every component alike (``KIMHUB_HEALTH_PORT``; Kubernetes manifests in
``deploy/kubernetes/``). ``GET /health/live`` answers while the event loop runs (a blocked loop
or a hung process fails it); ``GET /health/ready`` reports database and broker like the gateway's;
``GET /metrics`` the process's Prometheus metrics (``infrastructure/metrics.py``)."""
from __future__ import annotations

import asyncio
import json

from services.infrastructure import metrics

_STATUS = {200: "OK", 404: "Not Found", 503: "Service Unavailable"}
JSON = "application/json"


async def serve_health(hub, host: str, port: int) -> asyncio.Server:
    """Start the endpoint; the caller closes the returned server."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            request = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), timeout=5)
            words = request.split(b" ", 2)
            path = words[1].decode("ascii", "replace") if len(words) > 2 else ""
            status, body, content_type = await _answer(hub, path)
            writer.write(f"HTTP/1.1 {status} {_STATUS[status]}\r\nContent-Type: {content_type}\r\n"
                         f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode() + body)
            await writer.drain()
        except (asyncio.TimeoutError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError):
            pass
        finally:
            writer.close()

    return await asyncio.start_server(handle, host, port)


async def _answer(hub, path: str) -> tuple[int, bytes, str]:
    if path == "/metrics":
        return 200, *metrics.exposition()
    if path == "/health/live":
        return 200, b'{"status": "ok"}', JSON
    if path == "/health/ready":
        state = await hub.ready()
        ok = all(state.values())
        return (200 if ok else 503), json.dumps({"status": "ready" if ok else "not ready", **state}).encode(), JSON
    return 404, b'{"status": "not found"}', JSON
