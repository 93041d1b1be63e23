"""KIMHUB_TEST_SERVICES=containers, tried for real: where a Docker engine answers, PostgreSQL comes
from a container; where none does (the project's machines), the suite stops with a message naming
the missing engine instead of skipping."""
import os
import subprocess
import sys

from tests.support.apache_kafka import ROOT
from tests.support.services import ServiceChoiceError, require_docker


def _docker_answers() -> bool:
    try:
        require_docker()
    except ServiceChoiceError:
        return False
    return True


def test_containers_mode_starts_postgres_or_says_why_it_cannot():
    env = {**os.environ, "KIMHUB_TEST_SERVICES": "containers"}
    env.pop("KIMHUB_TEST_DATABASE_URL", None)
    done = subprocess.run([sys.executable, "-c", "from tests.conftest import pg_server; print(pg_server())"],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    if _docker_answers():
        assert done.returncode == 0, done.stderr
        assert done.stdout.startswith("postgresql://")
    else:
        assert done.returncode != 0
        assert "KIMHUB_TEST_SERVICES=containers needs a running Docker engine" in done.stderr
