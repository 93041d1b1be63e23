"""The health endpoint of a process without the gateway (KIMHUB_HEALTH_PORT)."""
import httpx

from services.health import serve_health


class FakeHub:
    def __init__(self, broker: bool):
        self.broker = broker

    async def ready(self) -> dict[str, bool]:
        return {"database": True, "broker": self.broker}


async def _get(server, path: str) -> httpx.Response:
    port = server.sockets[0].getsockname()[1]
    async with httpx.AsyncClient() as client:
        return await client.get(f"http://127.0.0.1:{port}{path}")


async def test_live_and_ready_like_the_gateway():
    server = await serve_health(FakeHub(broker=True), "127.0.0.1", 0)
    try:
        assert (await _get(server, "/health/live")).json() == {"status": "ok"}
        ready = await _get(server, "/health/ready")
        assert ready.status_code == 200 and ready.json() == {"status": "ready", "database": True, "broker": True}
        assert (await _get(server, "/other")).status_code == 404
    finally:
        server.close()


async def test_not_ready_while_the_broker_is_away():
    server = await serve_health(FakeHub(broker=False), "127.0.0.1", 0)
    try:
        ready = await _get(server, "/health/ready")
        assert ready.status_code == 503 and ready.json()["broker"] is False
        assert (await _get(server, "/health/live")).status_code == 200  # alive all the same: no restart loop
    finally:
        server.close()


async def test_metrics_on_the_health_port():
    from services.infrastructure import metrics

    metrics.count_transfers([("delivery", "delivered", "health-port-test")])
    server = await serve_health(FakeHub(broker=True), "127.0.0.1", 0)
    try:
        scraped = await _get(server, "/metrics")
        assert scraped.status_code == 200 and scraped.headers["content-type"].startswith("text/plain")
        assert ('kimhub_transfers_total{decision="delivered",office="health-port-test",stage="delivery"} 1.0'
                in scraped.text)
    finally:
        server.close()
