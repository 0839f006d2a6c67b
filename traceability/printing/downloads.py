"""Files of an issued batch streamed straight to the browser (the CSV of serials and URLs), and the layouts offered.

PDF sheets and printer files are produced by print jobs instead (traceability/printing/jobs.py): they take
longer than a request should. Functions take the session first and never commit.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.orm import Session

from traceability.audit import services as audit
from traceability.errors import Conflict, NotFound
from traceability.i18n import N_
from traceability.printing.layouts import LAYOUTS
from traceability.printing.sizing import STAMP_SYMBOL_MODULES, fits
from traceability.stamps import batches
from traceability.stamps.batches import IssuedStamp
from traceability.stamps.export import stamp_csv_chunks
from traceability.stamps.keystore import KeyStore
from traceability.stamps.models import Batch, BatchStatus


@dataclass(frozen=True)
class DownloadJob:
    """What a format needs: the batch, its signed stamps (lazily, in order) and the chosen sheet layout."""

    batch: Batch
    stamps: Callable[[], Iterator[IssuedStamp]]
    layout: str | None
    cache: Path | None = None  # where the CSV is kept once produced (None: sign on every download)


@dataclass(frozen=True)
class DownloadFormat:
    name: str  # the URL segment: /portal/batches/<id>/download/<name>
    label: str  # English msgid, translated when shown
    description: str  # English msgid
    media_type: str
    extension: str
    render: Callable[[DownloadJob], Iterable[bytes]]


CSV_CHUNK = 256 * 1024


def render_csv(job: DownloadJob) -> Iterator[bytes]:
    """Yield the CSV of serials and URLs: the same bytes as `traceability batch export`.

    Signing 100,000 stamps takes seconds of server time, and the bytes never change (signatures and
    serials are deterministic), so the first complete download keeps them in job.cache and later ones
    read that file.
    """
    if job.cache is None:
        for text in stamp_csv_chunks(job.stamps()):
            yield text.encode("utf-8")
        return
    try:
        with job.cache.open("rb") as kept:
            while chunk := kept.read(CSV_CHUNK):
                yield chunk
        return
    except FileNotFoundError:
        pass
    job.cache.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    # mkstemp: 0600 in the cache's own folder; moved into place only once complete, so a download cut off
    # half-way (or two at once) never leaves a partial file where a later download would read it.
    handle, temporary = tempfile.mkstemp(prefix=".csv-", dir=job.cache.parent)
    try:
        with os.fdopen(handle, "wb") as partial:
            for text in stamp_csv_chunks(job.stamps()):
                data = text.encode("utf-8")
                partial.write(data)
                yield data
        os.replace(temporary, job.cache)
    finally:
        Path(temporary).unlink(missing_ok=True)


def csv_cache_path(directory: str | Path, batch: Batch, base_url: str) -> Path:
    """Return where a batch's CSV is kept: named by batch and by the SHA-256 of everything its bytes depend on."""
    inputs = [1, batch.id, batch.key_id, batch.quantity, batch.product_id, batch.stars, batch.valid_until_month]
    digest = hashlib.sha256(json.dumps([*inputs, base_url]).encode("utf-8")).hexdigest()
    return Path(directory) / f"batch-{batch.id}" / f"batch-{batch.id}-stamps-{digest[:32]}.csv"


CSV_FORMAT = DownloadFormat(
    name="csv",
    label=N_("Serials and URLs (CSV)"),
    description=N_("One line per stamp: serial, verification URL and stamp number, for your own printing or labels."),
    media_type="text/csv; charset=utf-8",
    extension="csv",
    render=render_csv,
)


FORMATS: dict[str, DownloadFormat] = {CSV_FORMAT.name: CSV_FORMAT}


def formats() -> dict[str, DownloadFormat]:
    """Return the formats streamed on request."""
    return dict(FORMATS)


def layouts() -> list[tuple[str, str]]:
    """Return the (name, title msgid) of each named layout a batch request may ask for: those that hold the code."""
    return [(name, layout.title or name) for name, layout in LAYOUTS.items() if fits(layout, STAMP_SYMBOL_MODULES)]


@dataclass(frozen=True)
class PreparedDownload:
    """A download checked, keyed and audited: what to name it, its media type, and its bytes to stream."""

    filename: str
    media_type: str
    download_format: DownloadFormat
    job: DownloadJob

    def chunks(self) -> Iterable[bytes]:
        """Return the file's bytes in chunks, signing as they are read (the whole batch never sits in memory)."""
        return self.download_format.render(self.job)


def prepare_download(
    session: Session,
    store: KeyStore,
    batch: Batch,
    fmt: str,
    actor: str,
    *,
    offered: Mapping[str, DownloadFormat],
    base_url: str,
    cache_dir: str | Path | None = None,
) -> PreparedDownload:
    """Check the format and the batch, load its signing key and audit the download; the caller commits.

    With cache_dir (PRINT_DIR), a file produced once is kept there and served again instead of re-signed.
    """
    chosen = offered.get(fmt)
    if chosen is None:
        raise NotFound(N_("There is no download format “%(name)s”."), params={"name": fmt})
    if batch.status is not BatchStatus.ISSUED:
        raise Conflict(N_("Only an issued batch has print files."))
    # Resolve the key before the first byte is sent, so a missing or compromised key is a clean error.
    private_key = batches.signing_key_for(session, store, batch)
    audit.record(session, actor, "batch.download", f"batch:{batch.id}", after={"format": chosen.name})
    cache = csv_cache_path(cache_dir, batch, base_url) if cache_dir is not None else None
    job = DownloadJob(batch, lambda: batches.stamps(batch, private_key, base_url), batch.layout, cache)
    return PreparedDownload(f"ocop-batch-{batch.id}.{chosen.extension}", chosen.media_type, chosen, job)
