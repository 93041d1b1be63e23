"""What an operator sees of one transfer, on the hub as a real process: one trace from the HTTP
request through both broker hops (spans exported to a stand-in OTLP/HTTP collector), the delivered
transfer counted at ``/metrics``, and log lines that are JSON and hold no personal data."""
from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from prometheus_client.parser import text_string_to_metric_families

from tests.conftest import create_database, drop_database, start_own_broker
from tests.e2e.conftest import consent_body, referral, start_hub, stop_hub, wait_for

INBOX = "agency.troisdorf-abh.inbox.v1"
PERSONAL = ("Amina", "Beispiel", "wird nicht übermittelt", "Perspektive nach")  # the README's walk-through


class Collector:
    """Receives OTLP/HTTP protobuf trace exports, as an OpenTelemetry collector would."""

    def __init__(self):
        self.spans: list = []
        collector = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                request = ExportTraceServiceRequest.FromString(body)
                collector.spans += [s for rs in request.resource_spans for ss in rs.scope_spans for s in ss.spans]
                self.send_response(200)
                self.send_header("Content-Type", "application/x-protobuf")
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture(scope="module")
def observed(tmp_path_factory):
    """Own database and broker: on the shared broker another hub's consumers (same groups) would
    take records of this one's transfers, and their spans would go elsewhere."""
    collector = Collector()
    tmp = tmp_path_factory.mktemp("observed")
    broker = start_own_broker(tmp / "kafka")
    url = create_database()
    hub = start_hub({"KIMHUB_DATABASE_URL": url, "KIMHUB_KAFKA_BOOTSTRAP": broker.bootstrap,
                     "KIMHUB_LOG_FORMAT": "json", "KIMHUB_OTEL_ENDPOINT": collector.url,
                     "OTEL_BSP_SCHEDULE_DELAY": "100"}, tmp / "hub")
    yield hub, collector
    stop_hub(hub)
    collector.server.shutdown()
    broker.stop()
    drop_database(url)


def _sample(hub, name: str, **labels) -> float:
    text = hub.client().get("/metrics").text
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name and sample.labels == labels:
                return sample.value
    return 0.0


def _delivered_count(hub) -> float:
    return _sample(hub, "kimhub_transfers_total", stage="delivery", decision="delivered", office="troisdorf-abh")


def _send_the_walkthrough_referral(hub) -> str:
    with hub.client("cm.rsk") as cm:
        person = cm.post("/consents", json=consent_body()).json()["person"]
        sent = cm.post("/transfers", json=referral(
            person, reason="Prüfung einer Perspektive nach § 25b AufenthG",
            person={"given_name": "Amina", "family_name": "Beispiel"}, health_notes="wird nicht übermittelt"))
        assert sent.status_code == 202, sent.text
        transfer_id = sent.json()["transfer_id"]
        wait_for(lambda: cm.get(f"/transfers/{transfer_id}").json()["status"] == "delivered")
        bad = cm.post("/transfers", json={**referral(person), "person": "Amina Beispiel"})  # invalid: a 4xx
        assert bad.status_code == 422
    return transfer_id


def test_one_transfer_is_one_trace_through_both_broker_hops_and_counted(observed):
    hub, collector = observed
    before = _delivered_count(hub)
    _send_the_walkthrough_referral(hub)
    assert _delivered_count(hub) == before + 1
    assert _sample(hub, "kimhub_http_requests_total", method="POST", route="/transfers", status="202") >= 1
    assert _sample(hub, "faststream_published_messages_total", app_name="kimhub", broker="kafka",
                   destination=INBOX, status="success") >= 1

    spans = wait_for(lambda: _chain(collector.spans), timeout=15)
    names = [s.name for s in spans]
    assert names == ["POST /transfers", "kim.transfer.requested.v1 publish", "kim.transfer.requested.v1 process",
                     f"{INBOX} publish", f"{INBOX} process"]
    assert len({s.trace_id for s in spans}) == 1


def _chain(spans: list) -> list | None:
    """The request's span and, each a descendant of the one before, the publish and process spans
    of both hops; None while they have not all arrived."""
    by_id = {s.span_id: s for s in list(spans)}
    roots = [s for s in by_id.values() if s.name == "POST /transfers"]
    chain = []
    for root in roots:
        chain = [root]
        for name in ("kim.transfer.requested.v1 publish", "kim.transfer.requested.v1 process",
                     f"{INBOX} publish", f"{INBOX} process"):
            found = [s for s in by_id.values() if s.name == name and _descends(s, chain[-1], by_id)]
            if not found:
                break
            chain.append(found[0])
        if len(chain) == 5:
            return chain
    return None


def _descends(span, ancestor, by_id) -> bool:
    while span.parent_span_id:
        if span.parent_span_id == ancestor.span_id:
            return True
        span = by_id.get(span.parent_span_id)
        if span is None:
            return False
    return False


def test_log_lines_are_json_without_personal_data(observed):
    hub, _ = observed
    _send_the_walkthrough_referral(hub)
    time.sleep(0.5)  # lines of the last steps
    lines = [line for line in hub.log_file.read_text(encoding="utf-8").splitlines() if line.strip()]
    assert len(lines) > 3
    records = [json.loads(line) for line in lines]  # every line is one JSON object
    assert all({"time", "level", "logger", "message"} <= set(r) for r in records)
    assert any(r["message"].startswith("kimhub listening on") for r in records)
    for line in lines:
        assert not any(word in line for word in PERSONAL), line
