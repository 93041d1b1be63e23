"""End-to-end fixtures: the hub as a real process (``kimhub run``) on PostgreSQL and the broker,
driven over HTTP like a user would."""
from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from gateway.auth import issue_dev_token
from services.kernel.settings import Settings
from tests.conftest import audit_env, create_database, drop_database, free_port, start_own_broker

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class HubProcess:
    base_url: str
    settings: Settings
    log_file: Path
    process: subprocess.Popen

    def token(self, user: str) -> str:
        return issue_dev_token(self.settings, user)

    def client(self, user: str | None = None) -> httpx.Client:
        headers = {"Authorization": f"Bearer {self.token(user)}"} if user else {}
        return httpx.Client(base_url=self.base_url, headers=headers, timeout=10)

    def log_tail(self, lines: int = 40) -> str:
        return "\n".join(self.log_file.read_text(errors="replace").splitlines()[-lines:])


def start_hub(env_overrides: dict[str, str], data_dir: Path, args: tuple[str, ...] = ("run",),
              timeout: float = 90) -> HubProcess:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("KIMHUB_")}
    env.update({
        "KIMHUB_DATA_DIR": str(data_dir), "KIMHUB_HTTP_PORT": str(port), "KIMHUB_LOG_LEVEL": "INFO",
        **audit_env(), "KIMHUB_KAFKA_SESSION_TIMEOUT_MS": "6000",
        "KIMHUB_ALLOW_DEV_AUTH": "true",  # dev tokens on PostgreSQL, on purpose: a test set-up
        **env_overrides,
    })
    log_file = data_dir / "hub.log"
    data_dir.mkdir(parents=True, exist_ok=True)
    proc = subprocess.Popen([sys.executable, "-m", "services.cli", *args], cwd=ROOT, env=env,
                            stdout=open(log_file, "wb"), stderr=subprocess.STDOUT)
    settings = Settings(data_dir=data_dir, **{k[7:].lower(): v for k, v in env.items()
                                               if k in ("KIMHUB_DATABASE_URL", "KIMHUB_KAFKA_BOOTSTRAP")})
    hub = HubProcess(f"http://127.0.0.1:{port}", settings, log_file, proc)
    if "gateway" in args or args == ("run",):
        _wait_ready(hub, timeout)
    return hub


def _wait_ready(hub: HubProcess, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if hub.process.poll() is not None:
            pytest.fail(f"hub exited with {hub.process.returncode}:\n{hub.log_tail()}", pytrace=False)
        try:
            if httpx.get(f"{hub.base_url}/health/ready", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.25)
    stop_hub(hub)
    pytest.fail(f"hub not ready after {timeout}s:\n{hub.log_tail()}", pytrace=False)


def stop_hub(hub: HubProcess) -> None:
    if hub.process.poll() is None:
        hub.process.terminate()
        try:
            hub.process.wait(20)
        except subprocess.TimeoutExpired:
            hub.process.kill()
            hub.process.wait(5)


@pytest.fixture(scope="session")
def hub(broker_bootstrap, tmp_path_factory):
    """The hub on a database of its own: the integration tests' session database holds their log
    records and checkpoints, which the hub's audit API would read as its own."""
    url = create_database()
    h = start_hub({"KIMHUB_DATABASE_URL": url, "KIMHUB_KAFKA_BOOTSTRAP": broker_bootstrap,
                   "KIMHUB_MAX_BODY_BYTES": "65536"}, tmp_path_factory.mktemp("hub"))
    yield h
    stop_hub(h)
    drop_database(url)


@pytest.fixture
def isolated(tmp_path):
    """A database and a broker of the test's own (production-shaped tests start the components
    separately; the session hub's consumers must not take their messages)."""
    broker = start_own_broker(tmp_path / "kafka")
    db = create_database()
    yield {"KIMHUB_DATABASE_URL": db, "KIMHUB_KAFKA_BOOTSTRAP": broker.bootstrap}
    broker.stop()
    drop_database(db)


@pytest.fixture(scope="session")
def cm(hub):
    with hub.client("cm.rsk") as c:
        yield c


@pytest.fixture(scope="session")
def dpo(hub):
    with hub.client("dpo") as c:
        yield c


def form_hash(text: str = "signed form") -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def consent_body(municipality: str = "05382068", provisions: list | None = None, **overrides) -> dict:
    body = {
        "municipality": municipality,
        "provisions": provisions or [{"recipient": {"kind": "abh"}, "purposes": ["aufenthaltsperspektive"],
                                      "categories": ["stammdaten", "falldaten"]}],
        "valid_from": "2025-01-01T00:00:00Z",
        "valid_until": "2099-01-01T00:00:00Z",
        "evidence": {"form_sha256": form_hash(), "form_version": "KIM-EW-2025-1", "language": "ar"},
    }
    body.update(overrides)
    return body


def referral(subject: str, *, kind: str = "abh", purpose: str = "aufenthaltsperspektive",
             municipality: str = "05382068", **payload) -> dict:
    return {
        "person": subject, "municipality": municipality, "recipient": {"kind": kind}, "purpose": purpose,
        "payload": {"reason": "Prüfung § 25b AufenthG", "requested_action": "Beratungstermin anbieten", **payload},
    }


def wait_for(fn, timeout: float = 20, interval: float = 0.1):
    """Poll ``fn`` until it returns something truthy; fail with the last value otherwise."""
    deadline = time.monotonic() + timeout
    value = None
    while time.monotonic() < deadline:
        value = fn()
        if value:
            return value
        time.sleep(interval)
    pytest.fail(f"condition not met within {timeout}s; last value: {value!r}", pytrace=False)


PROBLEM = "application/problem+json"


def assert_problem(response: httpx.Response, status: int, type_: str | None = None) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    body = response.json()
    assert body["status"] == status
    if type_ is not None:
        assert body["type"] == type_
    return body
