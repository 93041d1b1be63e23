"""Apache Kafka (KRaft, one node acting as broker and controller) as a local process, for the test
suite, the fault runs and the benchmarks.

The broker's jars come from Maven Central: ``scripts/testenv/kafka/pom.xml`` pins the version and
``mvn dependency:copy-dependencies`` copies the jars with their runtime dependencies into a cache
outside the work tree (``$KIMHUB_KAFKA_CACHE``, default ``~/.cache/kimhub/kafka``), one folder per
version of the pom. The log stays on disk in the broker's data folder, so a broker killed and started
again keeps its topics, records and committed offsets.

    python -m tests.support.apache_kafka prepare    # resolve the jars now (make test does this first)
"""
from __future__ import annotations

import base64
import hashlib
import os
import shutil
import signal
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from services.infrastructure.embedded_broker import die_with_parent, port_open

ROOT = Path(__file__).resolve().parents[2]
POM_DIR = ROOT / "scripts" / "testenv" / "kafka"
STARTED_LINE = "Kafka Server started"


class KafkaProcessError(RuntimeError):
    pass


def cache_root() -> Path:
    default = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "kimhub" / "kafka"
    return Path(os.environ.get("KIMHUB_KAFKA_CACHE", default))


def kafka_libs() -> Path:
    """The folder of the broker's jars; resolved with Maven the first time."""
    pom = POM_DIR / "pom.xml"
    libs = cache_root() / hashlib.sha256(pom.read_bytes()).hexdigest()[:12] / "libs"
    if (libs / ".complete").exists():
        return libs
    mvn = shutil.which("mvn")
    if not mvn:
        raise KafkaProcessError("Maven (mvn) is needed to fetch Apache Kafka's jars: apt-get install maven")
    partial = libs.with_name("libs.partial")
    shutil.rmtree(partial, ignore_errors=True)
    done = subprocess.run([mvn, "-q", "-B", "-f", str(pom), "dependency:copy-dependencies",
                           f"-DoutputDirectory={partial}", "-DincludeScope=runtime"],
                          capture_output=True, text=True)
    if done.returncode != 0:
        raise KafkaProcessError(f"mvn could not fetch Apache Kafka's jars:\n{done.stdout[-2000:]}{done.stderr[-2000:]}")
    shutil.rmtree(libs, ignore_errors=True)
    partial.rename(libs)
    (libs / ".complete").touch()
    return libs


def java_binary() -> str:
    home = os.environ.get("JAVA_HOME")
    java = str(Path(home) / "bin" / "java") if home else shutil.which("java")
    if not java or not Path(java).exists():
        raise KafkaProcessError("A JDK (17 or newer) is needed to run Apache Kafka: apt-get install openjdk-17-jre-headless")
    return java


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def server_properties(port: int, controller_port: int, log_dir: Path, extra: dict[str, str]) -> str:
    """A single-node KRaft configuration; internal topics with one replica, as on one machine."""
    props = {
        "process.roles": "broker,controller", "node.id": "1",
        "controller.quorum.voters": f"1@127.0.0.1:{controller_port}",
        "listeners": f"PLAINTEXT://127.0.0.1:{port},CONTROLLER://127.0.0.1:{controller_port}",
        "advertised.listeners": f"PLAINTEXT://127.0.0.1:{port}",
        "controller.listener.names": "CONTROLLER", "inter.broker.listener.name": "PLAINTEXT",
        "listener.security.protocol.map": "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
        "log.dirs": str(log_dir), "num.partitions": "1",
        # The hub creates its topics itself, as it must on a production cluster.
        "auto.create.topics.enable": "false",
        "offsets.topic.replication.factor": "1", "offsets.topic.num.partitions": "5",
        "transaction.state.log.replication.factor": "1", "transaction.state.log.min.isr": "1",
        "transaction.state.log.num.partitions": "5",
        "share.coordinator.state.topic.replication.factor": "1", "share.coordinator.state.topic.min.isr": "1",
        "group.initial.rebalance.delay.ms": "0",
        **extra,
    }
    return "".join(f"{k}={v}\n" for k, v in props.items())


@dataclass
class ApacheKafka:
    """One broker process with its log under ``data_dir``; ``start`` formats the storage only once."""

    data_dir: Path
    port: int = 0
    heap: str = "512m"
    extra_properties: dict[str, str] | None = None
    process: subprocess.Popen | None = None

    def __post_init__(self) -> None:
        self.port = self.port or free_port()
        self.controller_port = free_port()

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def log_file(self) -> Path:
        return self.data_dir / "kafka.log"

    def start(self, timeout: float = 90) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        config = self.data_dir / "server.properties"
        config.write_text(server_properties(self.port, self.controller_port, self.data_dir / "log",
                                            self.extra_properties or {}))
        if not (self.data_dir / "log" / "meta.properties").exists():
            self._java(["kafka.tools.StorageTool", "format", f"--cluster-id={_cluster_id()}", "-c", str(config),
                        *self.format_arguments()], wait=True)
        if port_open(self.port):
            raise KafkaProcessError(f"port {self.port} is already in use")
        skip = self.log_file.stat().st_size if self.log_file.exists() else 0
        self.process = self._java(["kafka.Kafka", str(config)], wait=False)
        self._wait_started(skip, timeout)

    def format_arguments(self) -> list[str]:
        """More arguments for formatting the storage (SCRAM users: ``tests/support/sasl_kafka.py``)."""
        return []

    def _wait_started(self, skip: int, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise KafkaProcessError(f"Apache Kafka exited with {self.process.returncode}:\n{self.log_tail()}")
            with open(self.log_file, "rb") as f:
                f.seek(skip)
                if STARTED_LINE.encode() in f.read() and port_open(self.port):
                    return
            time.sleep(0.1)
        self.stop()
        raise KafkaProcessError(f"Apache Kafka did not start within {timeout:.0f} s:\n{self.log_tail()}")

    def _java(self, args: list[str], wait: bool) -> subprocess.Popen:
        command = [java_binary(), f"-Xms{self.heap}", f"-Xmx{self.heap}", "-XX:+UseG1GC",
                   f"-Dlog4j2.configurationFile={POM_DIR / 'log4j2.properties'}",
                   "-cp", str(kafka_libs() / "*"), *args]
        out = open(self.log_file, "ab")
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
                                   preexec_fn=die_with_parent)
        out.close()
        if wait and process.wait(120) != 0:
            raise KafkaProcessError(f"{args[0]} failed:\n{self.log_tail()}")
        return process

    def kill(self) -> None:
        """SIGKILL: what the log has written survives; nothing is flushed or closed."""
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(10)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.kill()
        self.process = None

    def log_tail(self, lines: int = 30) -> str:
        if not self.log_file.exists():
            return ""
        return "\n".join(self.log_file.read_text(errors="replace").splitlines()[-lines:])


def producers_of(bootstrap: str, topic: str, partition: int) -> dict[int, int]:
    """Producer id -> its last write (ms) on a partition (``kafka-transactions describe-producers``):
    only idempotent or transactional producers have an id."""
    done = subprocess.run([java_binary(), "-Xmx128m", "-cp", str(kafka_libs() / "*"),
                           f"-Dlog4j2.configurationFile={POM_DIR / 'log4j2.properties'}",
                           "org.apache.kafka.tools.TransactionsCommand", "--bootstrap-server", bootstrap,
                           "describe-producers", "--topic", topic, "--partition", str(partition)],
                          capture_output=True, text=True, timeout=60)
    if done.returncode != 0:
        raise KafkaProcessError(f"describe-producers failed: {done.stderr[-1000:]}")
    rows = [line.split() for line in done.stdout.splitlines()[1:] if line.strip()]
    return {int(row[0]): int(row[4]) for row in rows}  # ProducerId ... LastTimestamp


def _cluster_id() -> str:  # may begin with "-": passed as --cluster-id=…
    return base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")


if __name__ == "__main__":
    if sys.argv[1:] != ["prepare"]:
        sys.exit("usage: python -m tests.support.apache_kafka prepare")
    try:
        print(f"Apache Kafka's jars: {kafka_libs()}")
    except KafkaProcessError as exc:
        sys.exit(str(exc))
