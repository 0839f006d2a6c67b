"""docs/runbook-leaked-key.md tells the truth: its commands, run in order on a throw-away instance, do what it says.

The instance has batch 1 issued before the leak and batch 2 after it, both signed by stamp key 1; the runbook's
example time is replaced by the leak's, its backup folder by a temporary one. Each command is a real
`traceability` process, as `ocop` runs it in production.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from traceability.config import PROJECT_ROOT

RUNBOOK = PROJECT_ROOT / "docs" / "runbook-leaked-key.md"
BLOCK = re.compile(r"^( *)```sh\n(.*?)^\1```", re.MULTILINE | re.DOTALL)
TRACEABILITY = Path(sys.executable).with_name("traceability")

# A leak between two batches of key 1 (the fresh instance's stamp key; key 2 is its publication key).
SCENARIO = """
set -euo pipefail
ocop() { "$TRACEABILITY" "$@"; }
ocop init >/dev/null
ocop demo >/dev/null
ocop batch issue --product CB-SP01 --quantity 5 --activate >/dev/null
sleep 1.1; LEAK=$(date -u +%Y-%m-%dT%H:%M:%S+00:00); sleep 1.1
ocop batch issue --product CB-SP02 --quantity 5 --activate >/dev/null
echo "### runbook"
"""


def runbook_script(backups: Path) -> str:
    """Return the runbook's shell blocks in order, pointed at the scenario's time and a temporary backup folder."""
    blocks = [textwrap.dedent(match.group(2)) for match in BLOCK.finditer(RUNBOOK.read_text(encoding="utf-8"))]
    script = "\n".join(blocks).replace("/var/backups/ocop", str(backups))
    script, replaced = re.subn(r"^AT=.*$", 'AT="$LEAK"', script, flags=re.MULTILINE)
    assert replaced == 1, "the runbook sets AT once"
    return script


@pytest.mark.skipif(shutil.which("jq") is None, reason="jq is not installed (Debian: jq)")
def test_the_leaked_key_runbook_runs_as_written(tmp_path: Path) -> None:
    (tmp_path / "empty.toml").touch()
    environment = {
        **os.environ,
        "TRACEABILITY": str(TRACEABILITY),
        "TRACEABILITY_CONFIG": str(tmp_path / "empty.toml"),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'ocop.sqlite3'}",
        "KEYS_DIR": str(tmp_path / "keys"),
        "KEYS_PASSPHRASE": "runbook scratch passphrase",
        "PUBLIC_BASE_URL": "https://ocop.example.vn",
        "SECRET_KEY": "s" * 40,
        "TRACEABILITY_ENV": "development",
    }
    script = SCENARIO + runbook_script(tmp_path / "backups")
    done = subprocess.run(
        ["bash", "-c", script], cwd=tmp_path, env=environment, capture_output=True, text=True, check=False
    )
    output = done.stdout.split("### runbook", 1)[-1]
    assert done.returncode == 0, done.stdout + done.stderr
    lines = output.splitlines()
    assert re.search(r'^\{"batch":2,"product":"CB-SP02","issued_at":', output, re.MULTILINE)  # step 4
    assert "Key 1 is marked compromised at" in output and "the 1 batches it signed before then stay" in output
    assert "It was the active stamp key: key 3 is active now." in output
    online = [line for line in lines if line.startswith(("genuine ", "revoked "))]
    assert [line.split()[:3] for line in online[:2]] == [["genuine", "batch", "1"], ["revoked", "batch", "2"]]
    assert [line.split()[:3] for line in online[2:4]] == [["genuine", "batch", "1"], ["revoked", "batch", "2"]]
    assert "Issued batch 3: 5 stamps of CB-SP02 (★★★★), key 3, activated." in output
    assert re.search(r"^OK: ocop\.example\.vn/ocop-ledger, 3 entries", output, re.MULTILINE)
    assert output.count("Backed up the sqlite database") == 2
    assert sorted(p.name for p in (tmp_path / "backups").iterdir()) == [
        "after-compromise-key-1",
        "before-compromise-key-1",
    ]
    # The publication key's section: key 2 is replaced by key 4, and with the next checkpoint, under the new
    # pin, the bundle and the ledger check out again.
    assert "It was the active publication key: key 4 is active now." in output
    assert "Issued batch 4:" in output
    assert lines[-1].split()[:3] == ["genuine", "batch", "1"]
