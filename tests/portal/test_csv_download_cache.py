"""The CSV of a batch is signed once and kept under PRINT_DIR: a second download re-signs nothing."""

from __future__ import annotations

import stat
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from traceability.printing import downloads
from traceability.stamps import batches
from traceability.stamps.batches import BatchOptions


@pytest.fixture
def signatures(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Count stamps signed from here on (batches.stamps is what signs them)."""
    signed: list[int] = []
    original = batches.stamps

    def counting(*args: Any, **kwargs: Any) -> Any:
        for stamp in original(*args, **kwargs):
            signed.append(stamp.sequence)
            yield stamp

    monkeypatch.setattr(batches, "stamps", counting)
    return signed


def test_a_second_download_reads_the_kept_file(
    app: Any, client: Any, session: Any, store: Any, publication_key: Any, producer_user: Any, signatures: list[int]
) -> None:
    product = producer_user.producer.products[0]
    request = batches.new_request(session, product, 300, BatchOptions(), actor="p", maximum=1000, today=date.today())
    batch = batches.issue(session, store, request, actor="admin", today=date.today())
    session.commit()
    url = f"/portal/batches/{batch.id}/download/csv"
    first = client.get(url).get_data()
    assert len(signatures) == 300
    second = client.get(url).get_data()
    assert second == first and len(signatures) == 300
    kept = list(Path(app.config["PRINT_DIR"]).glob(f"batch-{batch.id}/*.csv"))
    assert len(kept) == 1 and kept[0].read_bytes() == first
    assert stat.S_IMODE(kept[0].stat().st_mode) == 0o600  # serials and URLs are the stamps themselves


def test_a_cut_off_download_leaves_no_partial_file(
    app: Any, session: Any, store: Any, factory: Any, publication_key: Any, tmp_path: Path
) -> None:
    prints = tmp_path / "prints"
    product = factory.product()
    batch = batches.issue_direct(
        session, store, product, 2500, BatchOptions(), actor="t", maximum=2500, today=date.today()
    )
    session.commit()
    offered = downloads.formats()
    prepared = downloads.prepare_download(
        session, store, batch, "csv", "t", offered=offered, base_url="https://x.vn", cache_dir=prints
    )
    chunks = iter(prepared.chunks())
    next(chunks)
    chunks.close()  # type: ignore[attr-defined]
    assert [p for p in prints.rglob("*") if p.is_file()] == []
    whole = b"".join(
        downloads.prepare_download(
            session, store, batch, "csv", "t", offered=offered, base_url="https://x.vn", cache_dir=prints
        ).chunks()
    )
    assert whole.count(b"\n") == 2501
    assert [p.name.startswith("batch-") for p in prints.rglob("*.csv")] == [True]
