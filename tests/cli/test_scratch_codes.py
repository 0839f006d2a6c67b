"""`batch issue --scratch-off` and `batch scratch-codes`: the printer's separate, private file of codes."""

from __future__ import annotations

import csv
import json
import os
import stat
from pathlib import Path
from typing import Any

from sqlalchemy import select

from traceability.audit.models import AuditEntry
from traceability.stamps import scratch
from traceability.stamps.models import Batch


def lines_json(output: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in output.splitlines() if line.startswith("{")]


def test_scratch_codes_go_to_a_private_file_of_their_own(
    runner: Any, session: Any, tmp_path: Path, signing_key: Any, factory: Any
) -> None:
    product = factory.product("NT-SP01", producer=factory.producer("NT-P01"), stars=4)
    session.commit()
    stamps_csv, codes_csv = tmp_path / "stamps.csv", tmp_path / "codes.csv"
    issued = runner.invoke(
        args=[
            "batch",
            "issue",
            "--product",
            product.code,
            "--quantity",
            "12",
            "--scratch-off",
            "--csv",
            str(stamps_csv),
            "--json",
        ]
    )
    assert issued.exit_code == 0, issued.output
    batch_id = lines_json(issued.output)[0]["batch"]
    batch = session.get(Batch, batch_id)
    assert batch is not None and batch.scratch_off and batch.secret is not None
    written = runner.invoke(args=["batch", "scratch-codes", str(batch_id), "--out", str(codes_csv)])
    assert written.exit_code == 0, written.output
    assert "Wrote 12 scratch-off codes" in written.output
    assert stat.S_IMODE(os.stat(codes_csv).st_mode) == 0o600
    with codes_csv.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    expected = [scratch.printed(scratch.scratch_code(batch.secret, n)) for n in range(12)]
    assert [row["scratch_code"] for row in rows] == expected
    with stamps_csv.open(encoding="utf-8", newline="") as handle:
        stamp_rows = list(csv.DictReader(handle))
    assert [row["serial"] for row in rows] == [row["serial"] for row in stamp_rows]
    assert not any(code in stamps_csv.read_text(encoding="utf-8") for code in expected)  # never beside the URLs
    entries = session.scalars(select(AuditEntry).where(AuditEntry.action == "batch.scratch_codes")).all()
    assert [(e.target, e.actor.startswith("cli:")) for e in entries] == [(f"batch:{batch_id}", True)]


def test_a_batch_without_scratch_off_has_no_codes(
    runner: Any, session: Any, tmp_path: Path, signing_key: Any, factory: Any
) -> None:
    product = factory.product("NT-SP01", producer=factory.producer("NT-P01"), stars=4)
    session.commit()
    issued = runner.invoke(args=["batch", "issue", "--product", product.code, "--quantity", "3", "--json"])
    batch_id = lines_json(issued.output)[0]["batch"]
    (tmp_path / "out").mkdir()
    out = tmp_path / "out" / "codes.csv"
    refused = runner.invoke(args=["batch", "scratch-codes", str(batch_id), "--out", str(out)])
    assert refused.exit_code == 1 and f"batch {batch_id} has no scratch-off codes" in refused.output
    assert "Traceback" not in refused.output and list(out.parent.iterdir()) == []
    missing = runner.invoke(args=["batch", "scratch-codes", "999999", "--out", str(out)])
    assert missing.exit_code == 1 and "there is no batch 999999" in missing.output
