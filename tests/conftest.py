"""Shared fixtures: a real PostgreSQL database and a real Apache Kafka broker.

Both are required. When either is missing, the tests that need them FAIL with a message saying
how to provide it; they never skip. ``KIMHUB_TEST_SERVICES`` chooses where they come from
(local processes, testcontainers, or servers you run: ``tests/support/services.py``).
Every hub process and client in the tests uses the production producer settings: idempotence on,
acks=all. The embedded broker of ``make run`` has a smoke test of its own
(``tests/e2e/test_readme_walkthrough.py``).
"""
from __future__ import annotations

import asyncio
import atexit
import os
import tempfile
import uuid
from functools import cache
from pathlib import Path

import asyncpg
import pytest

from tests.support.apache_kafka import KafkaProcessError, free_port  # noqa: F401  (free_port: used by the tests)
from tests.support.services import ServiceChoiceError, choose, own_broker, postgres_container

ROOT_DIR = Path(__file__).resolve().parents[1]


@cache
def services():
    try:
        return choose(os.environ)
    except ServiceChoiceError as exc:
        pytest.fail(str(exc), pytrace=False)


@cache
def pg_server() -> str:
    """The PostgreSQL server's URL (its maintenance database); a container is started on first use."""
    url = services().database_url
    if url is None:
        try:
            container, url = postgres_container()
        except ServiceChoiceError as exc:
            pytest.fail(str(exc), pytrace=False)
        atexit.register(container.stop)
    return url


def start_own_broker(data_dir: Path | None = None):
    """A started Apache Kafka broker that the caller owns and stops (a process, or a container)."""
    try:
        broker = own_broker(services().mode, data_dir)
        broker.start()
    except (KafkaProcessError, ServiceChoiceError) as exc:
        pytest.fail(f"Apache Kafka is required: {exc}", pytrace=False)
    return broker


def _asyncpg_dsn(url: str) -> str:
    return url.replace("postgresql+asyncpg://", "postgresql://")


def _with_database(url: str, name: str) -> str:
    base = url.rsplit("/", 1)[0]
    return f"{base}/{name}"


async def _admin(sql: str) -> None:
    conn = await asyncpg.connect(_asyncpg_dsn(pg_server()), timeout=5)
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
            f"PostgreSQL is required at {pg_server()} ({type(exc).__name__}: {exc}). Prepare it with "
            "`scripts/testenv/postgres.sh` (make test does), or set KIMHUB_TEST_DATABASE_URL.",
            pytrace=False,
        )
    return _with_database(pg_server(), name).replace("postgresql://", "postgresql+asyncpg://", 1)


def drop_database(url: str) -> None:
    name = url.rsplit("/", 1)[1]
    asyncio.run(_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(scope="session")
def broker_bootstrap():
    """bootstrap servers of a running Apache Kafka broker, shared by the whole session."""
    existing = services().kafka_bootstrap
    if existing:
        yield existing
        return
    broker = start_own_broker(Path(tempfile.mkdtemp(prefix="kimhub-kafka-session-")))
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


# Fixed sealing keys: the master key, the hub's delivery signing key; the offices' rings are made once
# (dev keys) in a directory every test process shares.
TEST_MASTER_KEY = "6b696d6875622d746573742d6d61737465722d6b65792d303132333435363738"
TEST_DELIVERY_SIGNING_KEY = ("-----BEGIN PRIVATE KEY-----\n"
                             "MC4CAQAwBQYDK2VwBCIEIN8QxByEMgTorvvvHmMRTR2dS6epfqx26Tmsg2ipyEC8\n"
                             "-----END PRIVATE KEY-----\n")
TEST_KEYS_DIR = Path(tempfile.gettempdir()) / f"kimhub-test-keys-{os.getuid()}"


def audit_env() -> dict[str, str]:
    return {"KIMHUB_LOG_PSEUDONYM_KEY": TEST_PSEUDONYM_KEY, "KIMHUB_LOG_SIGNING_KEY": TEST_SIGNING_KEY,
            "KIMHUB_LOG_ORIGIN": "kimhub-test/transfer-log", "KIMHUB_LOG_COSIGNER_KEYS": TEST_DPO_VKEY,
            "KIMHUB_CHECKPOINT_INTERVAL_SECONDS": "1", **keys_env()}


def keys_env() -> dict[str, str]:
    return {"KIMHUB_MASTER_KEY": TEST_MASTER_KEY, "KIMHUB_DELIVERY_SIGNING_KEY": TEST_DELIVERY_SIGNING_KEY,
            "KIMHUB_KEYS_DIR": str(TEST_KEYS_DIR), "KIMHUB_KEYS_GENERATE": "true"}


@cache
def make_keys():
    """The sealing keys of the tests' hubs, for in-process tests."""
    from services.keys.holder import Keys
    from services.kernel.settings import Settings

    return Keys.from_settings(Settings(**{k.removeprefix("KIMHUB_").lower(): v for k, v in keys_env().items()}))


def make_audit_log():
    from services.audit.log import AuditLog

    return AuditLog(bytes.fromhex(TEST_PSEUDONYM_KEY))
