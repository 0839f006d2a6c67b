"""The one print path: files appear only when the stamps are recorded printed, and a reproduction must match."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from traceability.audit.models import AuditEntry
from traceability.printing import runs
from traceability.printing.fontfiles import find_fonts
from traceability.printing.outputs import Outputs, WrittenFile
from traceability.stamps import batches
from traceability.stamps.keystore import store_from_config
from traceability.stamps.models import RangeState


class Refused(Exception):
    pass


def print_to(app: Flask, batch_id: int, folder: Path, **options: Any) -> runs.PrintedBatch:
    """Run the print service the way the job runner does: each transaction in a session of its own."""
    folder.mkdir(exist_ok=True)
    settings = runs.PrintSettings(app.config["PUBLIC_BASE_URL"], 1, find_fonts())
    return runs.print_batch(
        app.extensions["db_sessionmaker"].begin,
        store_from_config(app.config),
        batch_id,
        Outputs(pdf=folder / "b.pdf", csv=folder / "b.csv"),
        settings=settings,
        actor="test",
        **options,
    )


def test_a_run_installs_the_files_marks_the_stamps_and_logs_their_hashes(
    app: Flask, session: Session, issue_batch: Callable[..., Any], tmp_path: Path
) -> None:
    out = tmp_path / "out"
    batch = issue_batch(12)
    seen: list[tuple[int, int]] = []
    printed = print_to(app, batch.id, out, progress=lambda done, total: seen.append((done, total)))
    assert (printed.marked, printed.layout.name, printed.ecc) == (12, "a4-30mm", "M")
    assert sorted(p.name for p in out.iterdir()) == ["b.csv", "b.pdf"]
    assert seen[-1] == (24, 24)  # two files of 12 stamps
    session.expire_all()
    assert [r.state for r in batches.batch_or_404(session, batch.id).ranges] == [RangeState.PRINTED]
    entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "batch.print_files")).one()
    assert entry.after["sha256"] == {w.format: w.sha256 for w in printed.files}


def test_when_recording_fails_no_file_appears_and_no_stamp_changes(
    app: Flask, session: Session, issue_batch: Callable[..., Any], tmp_path: Path
) -> None:
    out = tmp_path / "out"
    batch = issue_batch(12)

    def refuse(_session: Session, _files: list[WrittenFile]) -> None:
        raise Refused

    with pytest.raises(Refused):
        print_to(app, batch.id, out, on_recorded=refuse)
    assert list(out.iterdir()) == []
    session.expire_all()
    assert [r.state for r in batches.batch_or_404(session, batch.id).ranges] == [RangeState.ISSUED]


def test_a_reproduction_that_differs_from_the_recorded_hash_is_refused(
    app: Flask, session: Session, issue_batch: Callable[..., Any], tmp_path: Path
) -> None:
    out = tmp_path / "out"
    batch = issue_batch(12)
    with pytest.raises(runs.PrintFileChanged, match=f"reproducing batch {batch.id} gave a different pdf file"):
        print_to(app, batch.id, out, expected={"pdf": "0" * 64})
    assert list(out.iterdir()) == []
    first = print_to(app, batch.id, out)
    again = print_to(app, batch.id, out / "again", expected={w.format: w.sha256 for w in first.files})
    assert again.marked == 0 and [w.sha256 for w in again.files] == [w.sha256 for w in first.files]
