"""Traces (OpenTelemetry) that follow one transfer from the HTTP request through both broker hops.

Off unless a collector is configured (``configure``): then every hook below costs a flag test.

The W3C trace context travels *through the outbox*: a row takes the ``traceparent`` of the work
that wrote it into its headers (``stamp``), so it is sent with the Kafka record however late the
relay publishes it; the publish span continues that trace (``publishing``) and the consumer
continues it from the record's headers (``consuming``). Work that handles many items in one unit of
work (a consumer batch, a group commit of requests) says which trace each item's messages follow:
``following`` maps the message subject (the person pseudonym, also the record key) to the item's
context, so an outbox row follows the item of its own person, not whoever happened to run the batch.
When one batch holds several items of one person, their rows follow the last of them.
"""
from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.trace import Span, SpanKind, Status, StatusCode
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

log = logging.getLogger("kimhub.tracing")
_PROPAGATOR = TraceContextTextMapPropagator()
_provider: trace.TracerProvider | None = None
_tracer: trace.Tracer | None = None  # set: tracing is on
_following: ContextVar[dict[str, Context] | None] = ContextVar("kimhub_trace_following", default=None)


def configure(settings, components: tuple[str, ...]) -> bool:
    """Export spans to the configured OTLP/HTTP collector; no collector configured: tracing stays off."""
    endpoint = settings.otel_endpoint.rstrip("/")
    if not (endpoint or os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT")
            or os.environ.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")):
        return False
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    name = settings.otel_service_name or os.environ.get("OTEL_SERVICE_NAME") or (
        "kimhub" if len(components) > 1 else f"kimhub-{components[0]}")
    provider = TracerProvider(resource=Resource.create({"service.name": name}))
    exporter = OTLPSpanExporter(endpoint=f"{endpoint}/v1/traces") if endpoint else OTLPSpanExporter()
    provider.add_span_processor(BatchSpanProcessor(exporter))
    trace.set_tracer_provider(provider)  # for the libraries' instrumentation too
    enable(provider)
    log.info("tracing on: spans to %s as %s", endpoint or "the OTEL_EXPORTER_OTLP_* endpoint", name)
    return True


def enable(provider: trace.TracerProvider) -> None:
    """Trace with this provider (``configure``, or a test's provider with an in-memory exporter)."""
    global _provider, _tracer
    _provider, _tracer = provider, provider.get_tracer("kimhub")


def disable() -> None:
    global _provider, _tracer
    _provider = _tracer = None


def enabled() -> bool:
    return _tracer is not None


def provider() -> trace.TracerProvider | None:
    return _provider


def current() -> Context | None:
    """The caller's trace context, to be carried to where its work is done (None: tracing is off)."""
    return otel_context.get_current() if _tracer is not None else None


@contextmanager
def following(contexts: dict[str, Context]) -> Iterator[None]:
    """Outbox rows written inside follow the trace given for their subject."""
    token = _following.set(contexts)
    try:
        yield
    finally:
        _following.reset(token)


def stamp(headers: dict[str, str], subject: str) -> None:
    """Put the trace context of the work writing this outbox row into the row's headers."""
    if _tracer is None:
        return
    chosen = _following.get()
    ctx = chosen.get(subject) if chosen else None
    _PROPAGATOR.inject(headers, context=ctx if ctx is not None else otel_context.get_current())


def publishing(topic: str, headers: dict[str, str]) -> Span | None:
    """A producer span for one record, in the trace its headers carry; the headers then carry the
    span itself (the consumer's parent). The caller ends it when the broker confirmed the record."""
    if _tracer is None:
        return None
    span = _tracer.start_span(f"{topic} publish", context=_PROPAGATOR.extract(headers), kind=SpanKind.PRODUCER,
                              attributes={"messaging.system": "kafka", "messaging.operation.type": "send",
                                          "messaging.destination.name": topic})
    _PROPAGATOR.inject(headers, context=trace.set_span_in_context(span))
    return span


def end(span: Span | None, error: BaseException | None = None) -> None:
    if span is None:
        return
    if error is not None:
        span.set_status(Status(StatusCode.ERROR, type(error).__name__))
    span.end()


@contextmanager
def consuming(group: str, messages: list) -> Iterator[None]:
    """One consumer span per message, each continuing the trace of its record's headers; the
    handler's outbox rows follow the span of their subject's message."""
    if _tracer is None or not messages:
        yield
        return
    spans, contexts = [], {}
    for m in messages:
        r = m.record
        headers = {k: v.decode(errors="replace") for k, v in (r.headers or ()) if k == "traceparent"}
        span = _tracer.start_span(f"{r.topic} process", context=_PROPAGATOR.extract(headers), kind=SpanKind.CONSUMER,
                                  attributes={"messaging.system": "kafka", "messaging.operation.type": "process",
                                              "messaging.destination.name": r.topic,
                                              "messaging.consumer.group.name": group,
                                              "messaging.destination.partition.id": str(r.partition),
                                              "messaging.kafka.offset": r.offset,
                                              "messaging.message.id": m.envelope.id})
        spans.append(span)
        contexts[m.envelope.subject] = trace.set_span_in_context(span)
    error = None
    try:
        with following(contexts):
            yield
    except BaseException as exc:
        error = exc
        raise
    finally:
        for span in spans:
            end(span, error)
