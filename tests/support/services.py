"""Where the test suite gets Apache Kafka and PostgreSQL: one setting, ``KIMHUB_TEST_SERVICES``.

- ``local`` (the default, what CI runs): Apache Kafka as a local JVM process
  (``tests/support/apache_kafka.py``) and the PostgreSQL server at 127.0.0.1:5432 that
  ``scripts/testenv/postgres.sh`` prepares.
- ``containers``: both through testcontainers, where a Docker engine answers: the official
  ``apache/kafka`` image (the version the pom pins) and ``postgres``.
- ``existing``: servers you run: ``KIMHUB_TEST_KAFKA_BOOTSTRAP`` and ``KIMHUB_TEST_DATABASE_URL``.

In ``local`` and ``containers``, either variable alone still points that one server elsewhere.
Tests that own a broker (to kill it, or to keep others' consumers away) start it the same way;
with ``existing`` they start a local process.
"""
from __future__ import annotations

import re
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, Mapping

from tests.support.apache_kafka import POM_DIR, ApacheKafka, free_port, server_properties

Mode = Literal["local", "containers", "existing"]
MODES: tuple[Mode, ...] = ("local", "containers", "existing")
LOCAL_DATABASE_URL = "postgresql://kimhub_test:kimhub_test@127.0.0.1:5432/postgres"
POSTGRES_IMAGE = "postgres:16-alpine"


class ServiceChoiceError(RuntimeError):
    pass


@dataclass(frozen=True)
class Choice:
    """What to start: ``None`` for a server means "start one" in ``mode``; a string is its address."""

    mode: Mode
    kafka_bootstrap: str | None
    database_url: str | None


def choose(env: Mapping[str, str]) -> Choice:
    mode = env.get("KIMHUB_TEST_SERVICES", "local") or "local"
    if mode not in MODES:
        raise ServiceChoiceError(f"KIMHUB_TEST_SERVICES={mode!r}: choose one of {', '.join(MODES)}")
    kafka = env.get("KIMHUB_TEST_KAFKA_BOOTSTRAP") or None
    database = env.get("KIMHUB_TEST_DATABASE_URL") or None
    if mode == "existing" and not (kafka and database):
        raise ServiceChoiceError("KIMHUB_TEST_SERVICES=existing needs KIMHUB_TEST_KAFKA_BOOTSTRAP and "
                                 "KIMHUB_TEST_DATABASE_URL")
    if mode == "local" and database is None:
        database = LOCAL_DATABASE_URL
    return Choice(mode, kafka, database)  # type: ignore[arg-type]


def kafka_version() -> str:
    return re.search(r"<kafka.version>([^<]+)</kafka.version>", (POM_DIR / "pom.xml").read_text()).group(1)


def kafka_container_env(host_port: int) -> dict[str, str]:
    """The local broker's configuration as the ``apache/kafka`` image's ``KAFKA_*`` variables."""
    props = server_properties(9092, 9093, Path("/var/lib/kafka/data"), {})
    env = {}
    for line in props.splitlines():
        key, value = line.split("=", 1)
        env["KAFKA_" + key.upper().replace(".", "_")] = value
    env["KAFKA_LISTENERS"] = "PLAINTEXT://0.0.0.0:9092,CONTROLLER://127.0.0.1:9093"
    env["KAFKA_ADVERTISED_LISTENERS"] = f"PLAINTEXT://127.0.0.1:{host_port}"
    env["KAFKA_LOG_DIRS"] = "/var/lib/kafka/data"
    return env


def require_docker() -> None:
    try:
        import docker

        docker.from_env().ping()
    except Exception as exc:  # noqa: BLE001 - any failure means "no engine"; say which
        raise ServiceChoiceError(
            f"KIMHUB_TEST_SERVICES=containers needs a running Docker engine ({type(exc).__name__}: {exc})") from None


class KafkaContainer:
    """The ``apache/kafka`` image on a fixed host port, with the local broker's interface."""

    def __init__(self) -> None:
        self.port = free_port()
        self.container = None
        self.starts = 0

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self, timeout: float = 120) -> None:
        from testcontainers.core.container import DockerContainer
        from testcontainers.core.waiting_utils import wait_for_logs

        if self.container is None:
            self.container = DockerContainer(f"apache/kafka:{kafka_version()}").with_bind_ports(9092, self.port)
            self.container.with_envs(**kafka_container_env(self.port)).start()
        else:  # started again after kill(): the same container, its log kept
            self.container.get_wrapped_container().start()
        self.starts += 1
        wait_for_logs(self.container, lambda logs: logs.count("Kafka Server started") >= self.starts, timeout=timeout)

    def kill(self) -> None:
        self.container.get_wrapped_container().kill()

    def stop(self) -> None:
        if self.container is not None:
            self.container.stop()
            self.container = None


def own_broker(mode: Mode, data_dir: Path | None = None) -> ApacheKafka | KafkaContainer:
    """A broker this caller owns (not yet started)."""
    if mode == "containers":
        require_docker()
        return KafkaContainer()
    return ApacheKafka(data_dir or Path(tempfile.mkdtemp(prefix="kimhub-kafka-")))


def postgres_container():
    """A started PostgreSQL container and its server URL (the ``postgres`` database)."""
    from testcontainers.community.postgres import PostgresContainer

    require_docker()
    container = PostgresContainer(POSTGRES_IMAGE, driver=None).start()
    return container, container.get_connection_url(driver=None)
