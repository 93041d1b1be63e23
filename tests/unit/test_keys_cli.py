"""``kimhub keys``: an office's ring made, rotated and published from the command line."""
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def kimhub(tmp_path, *args) -> subprocess.CompletedProcess:
    env = {"PATH": "/usr/bin:/bin", "KIMHUB_KEYS_DIR": str(tmp_path / "keys"), "KIMHUB_DATA_DIR": str(tmp_path)}
    return subprocess.run([sys.executable, "-m", "services.cli", "keys", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=60)


def test_an_office_ring_is_generated_rotated_and_published_without_private_parts(tmp_path):
    assert kimhub(tmp_path, "office", "jwks", "troisdorf-abh").returncode == 2  # none yet
    first = json.loads(kimhub(tmp_path, "office", "generate", "troisdorf-abh").stdout)
    rotated = json.loads(kimhub(tmp_path, "office", "rotate", "troisdorf-abh").stdout)
    assert len(first["keys"]) == 1 and len(rotated["keys"]) == 2
    assert first["keys"][0]["kid"] in {k["kid"] for k in rotated["keys"]}
    assert all(k["use"] == "enc" and k["alg"] == "RSA-OAEP-256" and "d" not in k for k in rotated["keys"])
    assert (tmp_path / "keys" / "troisdorf-abh.jwks.json").stat().st_mode & 0o077 == 0


def test_master_and_signing_keys_are_printed_fresh_each_time(tmp_path):
    masters = {kimhub(tmp_path, "master-key").stdout.strip() for _ in range(2)}
    assert len(masters) == 2 and all(len(bytes.fromhex(m)) == 32 for m in masters)
    assert kimhub(tmp_path, "signing-key").stdout.startswith("-----BEGIN PRIVATE KEY-----")
