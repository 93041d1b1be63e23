"""The README's walk-through, run as written against `kimhub run` on its embedded defaults
(SQLite file, broker process started by the hub itself)."""
import json
import re
import subprocess
import sys

from tests.conftest import free_port
from tests.e2e.conftest import ROOT, start_hub, stop_hub


def walkthrough_script() -> str:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    block = readme.split("<!-- walkthrough:start -->")[1].split("<!-- walkthrough:end -->")[0]
    return block.split("```bash\n", 1)[1].rsplit("```", 1)[0]


def test_readme_walkthrough_on_embedded_defaults(tmp_path):
    hub = start_hub({"KIMHUB_EMBEDDED_BROKER_PORT": str(free_port())}, tmp_path / "hub")
    try:
        script = walkthrough_script()
        assert "HUB=http://127.0.0.1:8080" in script
        script = script.replace("HUB=http://127.0.0.1:8080", f"HUB={hub.base_url}")
        script = script.replace(".venv/bin/kimhub", f"{sys.executable} -m services.cli")
        done = subprocess.run(["bash", "-euo", "pipefail", "-c", script], cwd=ROOT, capture_output=True, text=True,
                              timeout=120, env={"PATH": "/usr/bin:/bin", "KIMHUB_DATA_DIR": str(tmp_path / "hub")})
        assert done.returncode == 0, done.stderr + "\n" + hub.log_tail()
        out = done.stdout
        person = re.search(r"person: (p-[0-9a-f]{32})", out).group(1)
        transfer = re.search(r"transfer: (t-[0-9a-f]{32})", out).group(1)
        documents = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
        inbox, receipt, status, refusal, log = documents
        assert [i["transfer_id"] for i in inbox["items"]] == [transfer]
        assert inbox["items"][0]["removed_categories"] == ["besondere_kategorien"]
        assert receipt["received_by"] == "clerk.troisdorf-abh"
        assert status["status"] == "received"
        assert refusal["status"] == 403 and refusal["reasons"][0]["code"] == "recipient_not_covered"
        assert log["total"] == 3
        assert sorted(r["decision"] for r in log["records"]) == ["delivered", "received", "refused"]
        # the log keeps one keyed pseudonym for the person, never the hub's own pseudonym
        assert len({r["person"] for r in log["records"]}) == 1 and person not in str(log)
        assert (tmp_path / "hub" / "kimhub.db").exists()  # the embedded default really is SQLite
    finally:
        stop_hub(hub)
