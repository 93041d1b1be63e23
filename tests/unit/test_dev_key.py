"""The dev issuer's key file: processes starting together must agree on one key."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from gateway.auth import dev_key
from services.kernel.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
SNIPPET = ("import sys; from pathlib import Path; from gateway.auth import dev_key; "
           "from services.kernel.settings import Settings; "
           "print(dev_key(Settings(data_dir=Path(sys.argv[1]))).as_dict()['x'])")


def test_processes_creating_the_key_at_once_all_get_the_same_key(tmp_path):
    procs = [subprocess.Popen([sys.executable, "-c", SNIPPET, str(tmp_path)], cwd=ROOT, stdout=subprocess.PIPE,
                              text=True) for _ in range(6)]
    keys = {p.communicate(timeout=60)[0].strip() for p in procs}
    assert all(p.returncode == 0 for p in procs)
    assert keys == {dev_key(Settings(data_dir=tmp_path)).as_dict()["x"]}
    assert [f.name for f in tmp_path.iterdir()] == ["dev-signing-key.json"]  # no temporary file left
    assert (tmp_path / "dev-signing-key.json").stat().st_mode & 0o777 == 0o600
