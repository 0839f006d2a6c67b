"""Print a batch of stamps as a PDF: the top-level, pure entry point of the printing package.

The batch is cut into jobs of whole sheets; worker processes encode the QR codes and serialise the sheets,
and this process only appends their bytes to the output in order. At most a few jobs are in flight, so
memory does not grow with the batch, and the jobs do not depend on the number of workers, so the output is
byte-for-byte the same whatever the parallelism.
"""

from __future__ import annotations

import itertools
import multiprocessing
from array import array
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sized
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, replace
from datetime import datetime
from typing import BinaryIO

from traceability.printing.fonts import load_face
from traceability.printing.layouts import Layout
from traceability.printing.pagebuild import (
    FONT_OBJECTS,
    FONT_PATHS,
    PAGES_OBJECT,
    PageChunk,
    PageJob,
    StampRow,
    build_pages,
    build_ticket,
    objects_per_sheet,
)
from traceability.printing.pdffonts import font_objects
from traceability.printing.pdfwriter import PdfStream, page_tree, pdf_date, pdf_text_string
from traceability.printing.qrbatch import min_version
from traceability.printing.qrspec import symbol_size

CATALOG_OBJECT = 1
INFO_OBJECT = 5
FONT_PART_OBJECTS = ((6, 7, 8, 9), (10, 11, 12, 13))  # CIDFont, descriptor, program, ToUnicode per font
RESERVED_OBJECTS = 13
JOB_STAMPS = 480  # stamps per worker job: big enough for the batch encoder, small enough to stream
PRODUCER = "OCOP stamp service (traceability.printing)"


@dataclass(frozen=True)
class PrintableStamp:
    """One stamp as the printer sees it."""

    serial: str  # short human-readable serial, e.g. "0000123-000045-7KQ2X"
    url_prefix: str  # e.g. "https://ocop.gov.vn/v/", the same for the whole batch
    digits: str  # the numeric token; the QR holds url_prefix + digits
    stars: int  # 3, 4 or 5
    label: str  # short producer or province name, e.g. "HTX Nho Thái An"

    @property
    def url(self) -> str:
        """Return the text of the QR code."""
        return self.url_prefix + self.digits


@dataclass(frozen=True)
class PrintStats:
    """What was printed."""

    stamps: int
    sheets: int
    pages: int
    qr_version: int
    ecc: str
    module_mm: float
    bytes_written: int


def check_prefix(prefix: str) -> None:
    """Raise ValueError unless the prefix is an http(s) URL with a lowercase scheme and host.

    Plain http is for a development server only: production configuration refuses a non-https
    PUBLIC_BASE_URL (traceability/config.py), so no production stamp carries one.
    """
    scheme, sep, rest = prefix.partition("://")
    host = rest.split("/", 1)[0]
    if scheme not in ("https", "http") or not sep or not host or host != host.lower() or not prefix.isascii():
        raise ValueError(f"URL prefix must be https:// with a lowercase ASCII host, got {prefix!r}")


def _rows(stamps: Iterator[PrintableStamp], first: PrintableStamp) -> Iterator[StampRow]:
    """Yield stamps as plain tuples, checking each against the batch's first stamp."""
    for stamp in stamps:
        if stamp.url_prefix != first.url_prefix:
            raise ValueError(f"stamp {stamp.serial}: URL prefix differs from the batch's")
        if len(stamp.digits) != len(first.digits) or not stamp.digits.isdigit():
            raise ValueError(f"stamp {stamp.serial}: token must be {len(first.digits)} decimal digits")
        if stamp.stars not in (3, 4, 5):
            raise ValueError(f"stamp {stamp.serial}: stars must be 3, 4 or 5, not {stamp.stars}")
        if not stamp.serial or not stamp.serial.isprintable():
            raise ValueError(f"stamp serial {stamp.serial!r} is empty or not printable")
        yield (stamp.serial, stamp.digits, stamp.stars, stamp.label)


def _jobs(rows: Iterator[StampRow], template: PageJob, count: int, first_object: int) -> Iterator[PageJob]:
    """Cut the rows into jobs of whole sheets, numbering sheets and objects as the file will."""
    per_sheet = template.layout.per_sheet
    sheets_per_job = max(1, JOB_STAMPS // per_sheet)
    sheet, number, seen = 1, first_object, 0
    while True:
        batch = tuple(itertools.islice(rows, sheets_per_job * per_sheet))
        if not batch:
            break
        seen += len(batch)
        if seen > count:
            raise ValueError(f"more stamps than the announced count {count}")
        sheets = -(-len(batch) // per_sheet)
        yield replace(template, first_sheet=sheet, first_object=number, stamps=batch)
        number += sum(objects_per_sheet(len(batch[i : i + per_sheet])) for i in range(0, len(batch), per_sheet))
        sheet += sheets
    if seen != count:
        raise ValueError(f"got {seen} stamps, expected {count}")


def _chunks(jobs: Iterator[PageJob], workers: int) -> Iterator[PageChunk]:
    """Build the jobs, in worker processes when there is more than one, yielding results in order."""
    first = next(jobs, None)
    if first is None:
        return
    second = next(jobs, None)
    if workers <= 1 or second is None:
        yield build_pages(first)
        if second is not None:
            yield build_pages(second)
        yield from map(build_pages, jobs)
        return
    # forkserver, not fork: write_pdf may run in a threaded web server, where fork can deadlock. The server
    # imports the page builder once per parent process; later pools fork from it in milliseconds.
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload([build_pages.__module__])
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        pending: deque[Future[PageChunk]] = deque()
        for job in itertools.chain((first, second), jobs):
            pending.append(pool.submit(build_pages, job))
            if len(pending) >= 2 * workers:  # bounded in flight: memory stays flat
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()


def write_pdf(
    stamps: Iterable[PrintableStamp],
    out: BinaryIO,
    *,
    layout: Layout,
    batch_label: str,
    count: int | None = None,
    ecc: str = "M",
    workers: int = 2,
    creation_date: datetime | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> PrintStats:
    """Write the stamps as a print-ready PDF to out, streaming page by page; count is needed for iterators."""
    if count is None:
        if not isinstance(stamps, Sized):
            raise TypeError("pass count= when stamps is an iterator")
        count = len(stamps)
    if count <= 0:
        raise ValueError("nothing to print: the batch is empty")
    iterator = iter(stamps)
    first = next(iterator, None)
    if first is None:
        raise ValueError(f"got no stamps, expected {count}")
    check_prefix(first.url_prefix)
    version = min_version(first.url_prefix.encode("ascii"), len(first.digits), ecc)
    module_mm = layout.module_mm_for(symbol_size(version))
    for path in FONT_PATHS:
        load_face(path)  # fail early on a missing font, before any output
    sheets = layout.sheets_for(count)

    writer = PdfStream(out, RESERVED_OBJECTS)
    writer.write_object(CATALOG_OBJECT, f"<< /Type /Catalog /Pages {PAGES_OBJECT} 0 R >>".encode("ascii"))
    info = [f"/Title {pdf_text_string(f'OCOP stamps, batch {batch_label}, {layout.name}')}"]
    info.append(f"/Producer {pdf_text_string(PRODUCER)}")
    if creation_date is not None:
        info.append(f"/CreationDate {pdf_date(creation_date)}")
    writer.write_object(INFO_OBJECT, ("<< " + " ".join(info) + " >>").encode("ascii"))

    used: tuple[dict[int, str], ...] = tuple({} for _ in FONT_PATHS)
    page_objects = array("Q")  # 8 bytes a page, not a Python int each

    def append(chunk: PageChunk) -> None:
        writer.write_chunk(chunk.first_object, chunk.data, chunk.offsets)
        page_objects.extend(chunk.page_objects)
        for mine, theirs in zip(used, chunk.glyphs, strict=True):
            for gid, text in theirs.items():
                mine.setdefault(gid, text)

    if layout.run_ticket:
        append(build_ticket(layout, batch_label, count, first.serial, writer.next_number))
    template = PageJob(layout, batch_label, first.url_prefix, ecc, version, module_mm, sheets, 1, 0, ())
    rows = _rows(itertools.chain((first,), iterator), first)
    done = 0
    for chunk in _chunks(_jobs(rows, template, count, writer.next_number), workers):
        append(chunk)
        done += chunk.stamps
        if progress is not None:
            progress(done, count)

    for path, type0, parts, glyphs in zip(FONT_PATHS, FONT_OBJECTS, FONT_PART_OBJECTS, used, strict=True):
        for number, body in font_objects(load_face(path), (type0, *parts), glyphs):
            writer.write_object(number, body)
    writer.write_object(PAGES_OBJECT, page_tree(page_objects, len(page_objects)))
    writer.finish(CATALOG_OBJECT, INFO_OBJECT)
    return PrintStats(count, sheets, len(page_objects), version, ecc, module_mm, writer.bytes_written)
