"""Files of an issued batch streamed straight to the browser (the CSV of serials and URLs), and the layouts offered.

PDF sheets and printer files are produced by print jobs instead (traceability/printing/jobs.py): they take
longer than a request should. Functions take the session first and never commit.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass

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


@dataclass(frozen=True)
class DownloadFormat:
    name: str  # the URL segment: /portal/batches/<id>/download/<name>
    label: str  # English msgid, translated when shown
    description: str  # English msgid
    media_type: str
    extension: str
    render: Callable[[DownloadJob], Iterable[bytes]]


def render_csv(job: DownloadJob) -> Iterator[bytes]:
    """Yield the CSV of serials and URLs, signing as it goes: the same bytes as `traceability batch export`."""
    for text in stamp_csv_chunks(job.stamps()):
        yield text.encode("utf-8")


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
) -> PreparedDownload:
    """Check the format and the batch, load its signing key and audit the download; the caller commits."""
    chosen = offered.get(fmt)
    if chosen is None:
        raise NotFound(N_("There is no download format “%(name)s”."), params={"name": fmt})
    if batch.status is not BatchStatus.ISSUED:
        raise Conflict(N_("Only an issued batch has print files."))
    # Resolve the key before the first byte is sent, so a missing or compromised key is a clean error.
    private_key = batches.signing_key_for(session, store, batch)
    audit.record(session, actor, "batch.download", f"batch:{batch.id}", after={"format": chosen.name})
    job = DownloadJob(batch, lambda: batches.stamps(batch, private_key, base_url), batch.layout)
    return PreparedDownload(f"ocop-batch-{batch.id}.{chosen.extension}", chosen.media_type, chosen, job)
