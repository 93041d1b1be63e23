"""Shared fixtures: a real PostgreSQL database and a real Kafka-protocol broker process.

Both are required. When either is missing, the tests that need them FAIL with a message saying
how to provide it; they never skip. Point them elsewhere with
KIMHUB_TEST_DATABASE_URL (server URL, a fresh database is created per run) and
KIMHUB_TEST_KAFKA_BOOTSTRAP (an existing Kafka; default: start the embedded broker).
"""
from __future__ import annotations

import asyncio
import os
import socket
import uuid

import asyncpg
import pytest

from services.shared.embedded_broker import EmbeddedBroker, EmbeddedBrokerError

ROOT_DIR = __import__("pathlib").Path(__file__).resolve().parents[1]
PG_SERVER = os.environ.get("KIMHUB_TEST_DATABASE_URL", "postgresql://kimhub_test:kimhub_test@127.0.0.1:5432/postgres")
EXTERNAL_KAFKA = os.environ.get("KIMHUB_TEST_KAFKA_BOOTSTRAP", "")
# The embedded broker (tansu) has no idempotent producer; real Kafka does.
KAFKA_IDEMPOTENCE = "true" if EXTERNAL_KAFKA else "false"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _asyncpg_dsn(url: str) -> str:
    return url.replace("postgresql+asyncpg://", "postgresql://")


def _with_database(url: str, name: str) -> str:
    base = url.rsplit("/", 1)[0]
    return f"{base}/{name}"


async def _admin(sql: str) -> None:
    conn = await asyncpg.connect(_asyncpg_dsn(PG_SERVER), timeout=5)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


def create_database() -> str:
    """A new, empty PostgreSQL database; returns its SQLAlchemy URL."""
    name = f"kimhub_test_{uuid.uuid4().hex[:12]}"
    try:
        asyncio.run(_admin(f'CREATE DATABASE "{name}"'))
    except (OSError, asyncpg.PostgresError) as exc:
        pytest.fail(
            f"PostgreSQL is required at {PG_SERVER} ({type(exc).__name__}: {exc}). Start it, e.g. "
            "`pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start`, "
            "or set KIMHUB_TEST_DATABASE_URL.",
            pytrace=False,
        )
    return _with_database(PG_SERVER, name).replace("postgresql://", "postgresql+asyncpg://", 1)


def drop_database(url: str) -> None:
    name = url.rsplit("/", 1)[1]
    asyncio.run(_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(scope="session")
def broker_bootstrap():
    """bootstrap servers of a running broker, shared by the whole session."""
    if EXTERNAL_KAFKA:
        yield EXTERNAL_KAFKA
        return
    broker = EmbeddedBroker(free_port())
    try:
        asyncio.run(broker.start())
    except EmbeddedBrokerError as exc:
        pytest.fail(f"A Kafka-protocol broker is required: {exc}", pytrace=False)
    yield broker.bootstrap
    broker.stop()


@pytest.fixture(scope="session")
def pg_url():
    """A fresh PostgreSQL database for this session (dropped afterwards)."""
    url = create_database()
    yield url
    drop_database(url)


# Fixed audit secrets for hub processes and in-process tests (a shared database needs them set).
TEST_PSEUDONYM_KEY = "6b696d6875622d746573742d707365756479642d6b65792d3031323334353637"
TEST_SIGNING_KEY = "PRIVATE+KEY+kimhub-test+606576f9+AWRwGM0t+P+AeAWPg+/FSGIbSinRAAE7GFLjRaWKlTYf"


# The DPO's own key, allowed to cosign checkpoints.
TEST_DPO_SKEY = "PRIVATE+KEY+dsb-rhein-sieg+f0486018+AQvJHVJVh22IJ7S70jAX8Rk77pATPdAtcgjtwwIsBF/U"
TEST_DPO_VKEY = "dsb-rhein-sieg+f0486018+ARIXsMajdw3DGomS3Tclk+dRoW08IizIov9Jq5RK04yO"


def audit_env() -> dict[str, str]:
    return {"KIMHUB_LOG_PSEUDONYM_KEY": TEST_PSEUDONYM_KEY, "KIMHUB_LOG_SIGNING_KEY": TEST_SIGNING_KEY,
            "KIMHUB_LOG_ORIGIN": "kimhub-test/transfer-log", "KIMHUB_LOG_COSIGNER_KEYS": TEST_DPO_VKEY,
            "KIMHUB_CHECKPOINT_INTERVAL_SECONDS": "1"}


def make_audit_log():
    from services.audit.log import AuditLog

    return AuditLog(bytes.fromhex(TEST_PSEUDONYM_KEY))
