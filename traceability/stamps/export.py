"""The CSV of serials and URLs, one row a stamp: written by the CLI and streamed by the portal alike."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator

from traceability.stamps.batches import IssuedStamp

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
