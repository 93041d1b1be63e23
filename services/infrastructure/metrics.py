"""Prometheus metrics of a hub process, served at ``/metrics`` (the gateway's, or the health port's
of a process without the gateway). Labels hold offices, topics, routes and outcomes, never a person.

- ``kimhub_transfers_total{stage,decision,office}``: transfers decided, by the recipient office
  (``stage="delivery", decision="delivered"``: released to the office's inbox).
- ``kimhub_http_requests_total`` / ``kimhub_http_request_duration_seconds``: by route template.
- ``faststream_*``: FastStream's own Kafka middleware (records received, processed, published,
  their durations and errors, by topic).
"""
from __future__ import annotations

from collections.abc import Iterable
from functools import cache

from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, Counter, Histogram, generate_latest

TRANSFERS = Counter("kimhub_transfers", "Transfers decided, by stage, decision and recipient office",
                    ["stage", "decision", "office"])
HTTP_REQUESTS = Counter("kimhub_http_requests", "HTTP requests answered, by method, route template and status",
                        ["method", "route", "status"])
HTTP_DURATION = Histogram("kimhub_http_request_duration_seconds", "Time to answer an HTTP request",
                          ["method", "route"], buckets=(.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10))


def count_transfers(decisions: Iterable[tuple[str, str, str]]) -> None:
    """Count committed decisions: (stage, decision, recipient office) each."""
    for stage, decision, office in decisions:
        TRANSFERS.labels(stage, decision, office).inc()


def exposition() -> tuple[bytes, str]:
    """The metrics in Prometheus' text format, and its content type."""
    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST


@cache
def kafka_middleware():
    """FastStream's Prometheus middleware for Kafka, one per process (its metrics are process-wide)."""
    from faststream.kafka.prometheus import KafkaPrometheusMiddleware

    return KafkaPrometheusMiddleware(registry=REGISTRY, app_name="kimhub")
