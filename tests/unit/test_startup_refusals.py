"""Settings that must not reach production stop the process at start, with a message in German
(and English) instead of a traceback: dev tokens on PostgreSQL, broker security that does not fit."""
from __future__ import annotations

import os
import subprocess
import sys

import pytest

from services.keys.holder import KeysMissing
from tests.conftest import TEST_DELIVERY_SIGNING_KEY

from services.runtime import Hub, StartupRefused
from services.kernel.settings import Settings
from tests.conftest import ROOT_DIR

POSTGRES = "postgresql://kimhub:pw@127.0.0.1:1/kimhub"  # never reached: the refusal comes first


def _cli(*args: str, **env: str) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("KIMHUB_")}
    return subprocess.run([sys.executable, "-m", "services.cli", *args], cwd=ROOT_DIR, env={**clean, **env},
                          capture_output=True, text=True, timeout=60)


def test_dev_auth_on_postgresql_is_refused_unless_allowed_on_purpose(tmp_path):
    with pytest.raises(StartupRefused, match="KIMHUB_ALLOW_DEV_AUTH=true"):
        Hub(Settings(database_url=POSTGRES, data_dir=tmp_path))
    with pytest.raises(StartupRefused):
        Hub(Settings(database_url=POSTGRES, data_dir=tmp_path), ("gateway",))
    Hub(Settings(database_url=POSTGRES, data_dir=tmp_path, allow_dev_auth=True, log_pseudonym_key="ab" * 32,
                 log_signing_key="PRIVATE+KEY+kimhub-test+606576f9+AWRwGM0t+P+AeAWPg+/FSGIbSinRAAE7GFLjRaWKlTYf",
                 keys_generate=True))


def test_workers_and_the_embedded_default_take_no_tokens_and_start(tmp_path):
    keys = dict(log_pseudonym_key="ab" * 32,
                log_signing_key="PRIVATE+KEY+kimhub-test+606576f9+AWRwGM0t+P+AeAWPg+/FSGIbSinRAAE7GFLjRaWKlTYf")
    Hub(Settings(database_url=POSTGRES, data_dir=tmp_path, keys_generate=True, **keys),
        ("gate", "delivery", "relay", "audit"))
    Hub(Settings(data_dir=tmp_path))  # SQLite: the embedded default keeps its dev tokens


def test_a_shared_database_needs_the_sealing_keys_configured(tmp_path):
    """On PostgreSQL no key is generated unless asked: the master key and the delivery signing key
    must come from the configuration (a process with keys of its own would seal what others cannot open)."""
    keys = dict(log_pseudonym_key="ab" * 32,
                log_signing_key="PRIVATE+KEY+kimhub-test+606576f9+AWRwGM0t+P+AeAWPg+/FSGIbSinRAAE7GFLjRaWKlTYf")
    with pytest.raises(KeysMissing, match="KIMHUB_MASTER_KEY"):
        Hub(Settings(database_url=POSTGRES, data_dir=tmp_path, **keys), ("gate",))
    with pytest.raises(KeysMissing, match="delivery signing key"):
        Hub(Settings(database_url=POSTGRES, data_dir=tmp_path, master_key="ab" * 32, **keys), ("gate",))
    Hub(Settings(database_url=POSTGRES, data_dir=tmp_path, master_key="ab" * 32, **keys,
                 delivery_signing_key=TEST_DELIVERY_SIGNING_KEY), ("gate",))


def test_the_cli_reports_the_refusal_without_a_traceback(tmp_path):
    done = _cli("serve", "gateway", KIMHUB_DATABASE_URL=POSTGRES, KIMHUB_DATA_DIR=str(tmp_path))
    assert done.returncode == 2, done.stderr
    assert "Start abgelehnt: KIMHUB_AUTH_MODE=dev" in done.stderr and "Refusing to start" in done.stderr
    assert "Traceback" not in done.stderr


def test_the_cli_reports_contradicting_broker_security(tmp_path):
    done = _cli("serve", "gate", KIMHUB_KAFKA_BOOTSTRAP="kafka:9093", KIMHUB_KAFKA_SECURITY_PROTOCOL="SASL_SSL",
                KIMHUB_DATA_DIR=str(tmp_path))
    assert done.returncode == 2, done.stderr
    assert "KIMHUB_KAFKA_SASL_USERNAME" in done.stderr and "Traceback" not in done.stderr
