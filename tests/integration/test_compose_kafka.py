"""The compose file's Kafka, run without Docker: its KAFKA_* variables turned into broker properties
the way the apache/kafka image does it (``___`` -> ``-``, ``__`` -> ``_``, ``_`` -> ``.``), its
storage formatted by ``deploy/kafka/scram-format.sh`` (with the real kafka-storage tool), only the
host names and ports changed to this machine's. A hub component then logs in with its SCRAM user,
and a wrong password is refused."""
from __future__ import annotations

import asyncio
import os
import re
import subprocess
from pathlib import Path

import pytest
import yaml
from aiokafka.errors import KafkaConnectionError

from services.infrastructure.messaging import ensure_topics
from tests.integration.test_kafka_acls import as_principal
from tests.support.apache_kafka import ApacheKafka, KafkaProcessError, free_port, java_binary, kafka_libs

ROOT = Path(__file__).resolve().parents[2]


def compose_kafka_env() -> dict[str, str]:
    """The kafka service's environment, every ``${VAR…}`` replaced by a password of its own."""
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    env = compose["services"]["kafka"]["environment"]
    return {k: re.sub(r"\$\{([A-Z_]+)[^}]*\}", lambda m: f"pw-{m[1].lower()}", str(v)) for k, v in env.items()}


def image_properties(env: dict[str, str]) -> dict[str, str]:
    """What the apache/kafka image writes into server.properties for the KAFKA_* variables."""
    def name(var: str) -> str:
        return var.removeprefix("KAFKA_").lower().replace("___", "-").replace("__", "\0").replace("_", ".").replace("\0", "_")

    return {name(k): v for k, v in env.items() if k.startswith("KAFKA_")}


def _storage_tool(tmp_path: Path) -> Path:
    tool = tmp_path / "kafka-storage.sh"
    tool.write_text(f'#!/bin/sh\nexec "{java_binary()}" -cp "{kafka_libs()}/*" kafka.tools.StorageTool "$@"\n')
    tool.chmod(0o755)
    return tool


@pytest.fixture(scope="module")
def compose_kafka(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("compose-kafka")
    env = compose_kafka_env()
    port, controller = free_port(), free_port()
    env.update(KAFKA_LISTENERS=f"BROKER://127.0.0.1:{port},CONTROLLER://127.0.0.1:{controller}",
               KAFKA_ADVERTISED_LISTENERS=f"BROKER://127.0.0.1:{port}",
               KAFKA_CONTROLLER_QUORUM_VOTERS=f"1@127.0.0.1:{controller}", KAFKA_LOG_DIRS=str(tmp / "log"))
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("KAFKA_", "KIMHUB_"))}
    done = subprocess.run(["bash", str(ROOT / "deploy" / "kafka" / "scram-format.sh")], capture_output=True, text=True,
                          env={**clean, **env, "STORAGE_TOOL": str(_storage_tool(tmp)), "IMAGE_RUN": "true",
                               "ADMIN_PROPERTIES": str(tmp / "admin.properties")}, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    assert 'password="pw-kafka_password_admin"' in (tmp / "admin.properties").read_text()
    broker = ApacheKafka(tmp, port=port, extra_properties=image_properties(env))
    broker.controller_port = controller
    try:
        broker.start()
    except KafkaProcessError as exc:
        pytest.fail(f"the compose file's Kafka settings do not start a broker: {exc}", pytrace=False)
    yield broker
    broker.stop()


def test_a_component_logs_in_with_the_scram_user_made_at_format_time(compose_kafka):
    gate = as_principal(compose_kafka.bootstrap, "kimhub-gate", password="pw-kafka_password_gate")
    asyncio.run(ensure_topics(gate, ["kim.feedback.v1"]))  # connects; creates nothing (no ACL)
    wrong = as_principal(compose_kafka.bootstrap, "kimhub-gate", password="pw-kafka_password_relay")
    with pytest.raises(KafkaConnectionError):
        asyncio.run(ensure_topics(wrong, ["kim.feedback.v1"]))
