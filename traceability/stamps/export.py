"""The CSV of serials and URLs, one row a stamp: streamed by the portal, staged into a file by the commands."""

from __future__ import annotations

import csv
import io
import os
import tempfile
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from sqlalchemy.orm import Session

from traceability.audit import services as audit
from traceability.i18n import N_
from traceability.stamps import batches, scratch, serials
from traceability.stamps.batches import IssuedStamp
from traceability.stamps.keystore import KeyStore
from traceability.stamps.models import Batch

CSV_HEADER = ("serial", "url", "sequence")


def stamp_csv_chunks(stamps: Iterable[IssuedStamp], chunk: int = 2000) -> Iterator[str]:
    """Yield the CSV text in pieces of `chunk` rows, header first, so a large batch never sits in memory."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_HEADER)
    for count, stamp in enumerate(stamps, start=1):
        writer.writerow([stamp.serial, stamp.url, stamp.sequence])
        if count % chunk == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def write_stamp_csv(handle: IO[str], stamps: Iterable[IssuedStamp]) -> int:
    """Write serial,url,sequence rows (header first) and return the number of stamps."""
    count = 0

    def counted() -> Iterator[IssuedStamp]:
        nonlocal count
        for stamp in stamps:
            count += 1
            yield stamp

    for text in stamp_csv_chunks(counted()):
        handle.write(text)
    return count


@dataclass(frozen=True)
class StagedCsv:
    """A batch's signed stamps in a hidden file beside their destination, moved there only once committed.

    So a CSV never names stamps that were not recorded, and an interrupted run leaves no half-written file.
    """

    temporary: Path
    destination: Path
    count: int
    seconds: float  # spent signing and writing

    def publish(self) -> None:
        """Move the file into place: call once the batch it names is committed."""
        os.replace(self.temporary, self.destination)

    def discard(self) -> None:
        """Delete the file: the transaction that recorded its batch did not commit."""
        self.temporary.unlink(missing_ok=True)


def stage_csv(session: Session, store: KeyStore, batch: Batch, base_url: str, destination: str) -> StagedCsv:
    """Sign every stamp of an issued batch into a temporary file beside destination."""
    private_key = batches.signing_key_for(session, store, batch)
    started = time.perf_counter()
    target = Path(destination).resolve()
    handle = tempfile.NamedTemporaryFile(  # noqa: SIM115 - closed below, renamed or deleted by StagedCsv
        "w", encoding="utf-8", newline="", dir=target.parent, prefix=f".{target.name}.", delete=False
    )
    try:
        with handle:
            count = write_stamp_csv(handle, batches.stamps(batch, private_key, base_url))
    except BaseException:
        Path(handle.name).unlink(missing_ok=True)
        raise
    return StagedCsv(Path(handle.name), Path(destination), count, time.perf_counter() - started)


def export_batch(
    session: Session, store: KeyStore, batch_id: int, *, base_url: str, destination: str, actor: str
) -> StagedCsv:
    """Stage the CSV of an issued batch again (identical to the first) and record who took a copy."""
    batch = batches.batch_or_404(session, batch_id)
    audit.record(session, actor, "batch.export", f"batch:{batch_id}", after={"format": "csv"})
    return stage_csv(session, store, batch, base_url, destination)


class NoScratchCodes(batches.BatchNotIssued):
    """The batch was not requested with scratch-off codes, or is not issued."""

    code = "no_scratch_codes"


def scratch_codes(session: Session, batch_id: int, *, actor: str) -> Iterator[tuple[str, str]]:
    """Return (serial, printed code) per stamp of an issued scratch-off batch, recording who took the codes.

    For the printer only, in a file apart from the serials and URLs: nothing public ever shows a code.
    """
    batch = batches.batch_or_404(session, batch_id)
    if not batch.scratch_off or batch.secret is None:
        raise NoScratchCodes(N_("batch %(batch)s has no scratch-off codes"), params={"batch": batch_id})
    audit.record(session, actor, "batch.scratch_codes", f"batch:{batch_id}", after={"stamps": batch.quantity})
    secret = batch.secret
    return (
        (serials.serial(batch.id, sequence, secret), scratch.printed(scratch.scratch_code(secret, sequence)))
        for sequence in range(batch.quantity)
    )
