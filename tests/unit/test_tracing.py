"""Trace context through the outbox: a row carries the trace of the request it belongs to, also
when one group commit writes the rows of many requests."""
import asyncio

import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from pydantic import BaseModel

from services.infrastructure import tracing
from services.infrastructure.group_commit import GroupCommit
from services.infrastructure.outbox import message_row
from contracts.envelope import Envelope


class Body(BaseModel):
    n: int


def _envelope(subject: str) -> Envelope:
    return Envelope(id=f"e-{subject}", source="urn:test", type="de.nrw.kim.test.v1", subject=subject,
                    time="2026-01-01T00:00:00Z", dataschema="urn:test")


@pytest.fixture
def tracer():
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracing.enable(provider)
    yield provider.get_tracer("test")
    tracing.disable()


def test_without_tracing_a_row_has_no_trace_header():
    assert "traceparent" not in message_row("t", _envelope("p1"), Body(n=1))["headers"]


def test_a_row_carries_the_trace_of_the_work_that_wrote_it(tracer):
    with tracer.start_as_current_span("request") as span:
        row = message_row("t", _envelope("p1"), Body(n=1))
    trace_id = f"{span.get_span_context().trace_id:032x}"
    assert row["headers"]["traceparent"].split("-")[1] == trace_id


async def test_a_group_commit_writes_each_row_in_its_own_request_trace(tracer):
    rows = []

    async def handle_many(items):
        await asyncio.sleep(0)
        rows.extend(message_row("t", _envelope(cmd), Body(n=1)) for cmd, _ in items)
        return [None] * len(items)

    group = GroupCommit(handle_many, linger=0.01, subject=lambda cmd: cmd)

    async def request(person: str) -> str:
        with tracer.start_as_current_span(f"request {person}") as span:
            await group.submit(person, "actor")
        return f"{span.get_span_context().trace_id:032x}"

    traces = dict(zip(["p1", "p2", "p3"], await asyncio.gather(request("p1"), request("p2"), request("p3"))))
    await group.stop()
    assert len(rows) == 3 and len(set(traces.values())) == 3
    assert {r["key"]: r["headers"]["traceparent"].split("-")[1] for r in rows} == traces
