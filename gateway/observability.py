"""What operators see of the gateway: HTTP metrics (``/metrics``) and, when tracing is on, a server
span per request (OpenTelemetry's FastAPI instrumentation), the root of a transfer's trace."""
from __future__ import annotations

import time

from fastapi import FastAPI

from services.infrastructure import metrics, tracing

NOT_INSTRUMENTED = "health,metrics"  # probes and scrapes: no spans


class HttpMetrics:
    """Pure ASGI middleware: requests and their durations by method, route template and status
    (the template, e.g. ``/transfers/{transfer_id}``: no ids in the labels)."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        start = time.perf_counter()
        status = 500

        async def send_status(message):
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_status)
        finally:
            route = getattr(scope.get("route"), "path", None) or "unmatched"
            metrics.HTTP_REQUESTS.labels(scope["method"], route, str(status)).inc()
            metrics.HTTP_DURATION.labels(scope["method"], route).observe(time.perf_counter() - start)


def install(app: FastAPI) -> None:
    """The metrics middleware always; the tracing middleware when tracing is on (added last: outermost)."""
    app.add_middleware(HttpMetrics)
    if tracing.enabled():
        from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor

        FastAPIInstrumentor.instrument_app(app, excluded_urls=NOT_INSTRUMENTED, tracer_provider=tracing.provider(),
                                           exclude_spans=["receive", "send"])  # one span per request
