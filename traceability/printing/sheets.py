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
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import BinaryIO

from traceability.printing.fonts import FontFiles, load_face, load_faces
from traceability.printing.layouts import Layout
from traceability.printing.pagebuild import (
    FONT_OBJECTS,
    PAGES_OBJECT,
    PageChunk,
    PageJob,
    StampRow,
    Ticket,
    build_pages,
    build_ticket,
    objects_per_sheet,
)
from traceability.printing.pdffonts import font_objects
from traceability.printing.pdfwriter import PdfStream, page_tree
from traceability.printing.pdfx import FALLBACK_DATE, DocumentInfo, find_output_profile, output_intent_objects
from traceability.printing.qrbatch import min_version
from traceability.printing.qrdraw import DRAWINGS
from traceability.printing.qrspec import symbol_size
from traceability.printing.sheettext import DEFAULT_LANGUAGE, check_language, sheet_text
from traceability.printing.sizing import plan_label

CATALOG_OBJECT = 1
INFO_OBJECT = 5
FONT_PART_OBJECTS = ((6, 7, 8, 9), (10, 11, 12, 13))  # CIDFont, descriptor, program, ToUnicode per font
INTENT_OBJECT, PROFILE_OBJECT, METADATA_OBJECT = 14, 15, 16  # PDF/X: output intent, its ICC profile, XMP
RESERVED_OBJECTS = 16
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
    dpi: int = 0
    module_dots: int = 0
    text_pt: float = 0.0


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


def _announced_count(stamps: Iterable[PrintableStamp], count: int | None) -> int:
    """Return how many stamps the caller announces (len() of a sequence if not given), or raise."""
    if count is None:
        if not isinstance(stamps, Sized):
            raise TypeError("pass count= when stamps is an iterator")
        count = len(stamps)
    if count <= 0:
        raise ValueError("nothing to print: the batch is empty")
    return count


def _start_file(out: BinaryIO, info: DocumentInfo, profile: str) -> PdfStream:
    """Start the file with its catalog, document information and PDF/X output intent."""
    writer = PdfStream(out, RESERVED_OBJECTS)
    writer.write_object(
        CATALOG_OBJECT,
        (
            f"<< /Type /Catalog /Pages {PAGES_OBJECT} 0 R /Metadata {METADATA_OBJECT} 0 R "
            f"/OutputIntents [{INTENT_OBJECT} 0 R] >>"
        ).encode("ascii"),
    )
    writer.write_object(INFO_OBJECT, info.info_dictionary())
    for number, body in output_intent_objects(INTENT_OBJECT, PROFILE_OBJECT, profile):
        writer.write_object(number, body)
    return writer


@dataclass
class _Document:
    """The file being written, and what its end needs: the page objects and the glyphs each font showed."""

    writer: PdfStream
    fonts: tuple[str, ...]
    info: DocumentInfo
    page_objects: array[int] = field(default_factory=lambda: array("Q"))  # 8 bytes a page, not an int each
    used: tuple[dict[int, str], ...] = field(init=False)

    def __post_init__(self) -> None:
        self.used = tuple({} for _ in self.fonts)

    def append(self, chunk: PageChunk) -> None:
        """Append a chunk of built pages."""
        self.writer.write_chunk(chunk.first_object, chunk.data, chunk.offsets)
        self.page_objects.extend(chunk.page_objects)
        for mine, theirs in zip(self.used, chunk.glyphs, strict=True):
            for gid, text in theirs.items():
                mine.setdefault(gid, text)

    def finish(self) -> int:
        """Write the font subsets, the page tree and the trailer; return the number of pages."""
        for path, type0, parts, glyphs in zip(self.fonts, FONT_OBJECTS, FONT_PART_OBJECTS, self.used, strict=True):
            for number, body in font_objects(load_face(path), (type0, *parts), glyphs):
                self.writer.write_object(number, body)
        self.writer.write_object(PAGES_OBJECT, page_tree(self.page_objects, len(self.page_objects)))
        document_id = self.writer.content_id()  # everything but the metadata: the same content, the same ID
        self.writer.write_object(METADATA_OBJECT, self.info.xmp(document_id))
        self.writer.finish(CATALOG_OBJECT, INFO_OBJECT, document_id)
        return len(self.page_objects)


def write_pdf(
    stamps: Iterable[PrintableStamp],
    out: BinaryIO,
    *,
    layout: Layout,
    fonts: FontFiles,
    batch_label: str,
    count: int | None = None,
    ecc: str = "M",
    workers: int = 2,
    creation_date: datetime | None = None,
    progress: Callable[[int, int], None] | None = None,
    language: str = DEFAULT_LANGUAGE,
    drawing: str = "vector",
    output_profile: str | None = None,
) -> PrintStats:
    """Write the stamps as a PDF/X-4 file to out, streaming page by page; count is needed for iterators.

    Raise LabelTooSmall (before any output) if the layout's labels cannot hold the code at the smallest module.
    """
    count = _announced_count(stamps, count)
    if drawing not in DRAWINGS:
        raise ValueError(f"drawing must be one of {', '.join(DRAWINGS)}, not {drawing!r}")
    check_language(language)
    iterator = iter(stamps)
    first = next(iterator, None)
    if first is None:
        raise ValueError(f"got no stamps, expected {count}")
    check_prefix(first.url_prefix)
    version = min_version(first.url_prefix.encode("ascii"), len(first.digits), ecc)
    plan = plan_label(layout, symbol_size(version))
    load_faces(fonts.paths)  # fail early on a missing font or profile, before any output
    profile = output_profile or find_output_profile()
    sheets = layout.sheets_for(count)

    title = sheet_text(language, "title", batch=batch_label, layout=layout.name)
    info = DocumentInfo(title, PRODUCER, creation_date or FALLBACK_DATE)
    document = _Document(_start_file(out, info, profile), fonts.paths, info)
    if layout.run_ticket:
        ticket = Ticket(batch_label, count, first.serial, language)
        document.append(build_ticket(layout, fonts.paths, ticket, document.writer.next_number))
    template = PageJob(
        layout, fonts.paths, batch_label, first.url_prefix, ecc, version, plan, drawing, language, sheets, 1, 0, ()
    )
    rows = _rows(itertools.chain((first,), iterator), first)
    done = 0
    for chunk in _chunks(_jobs(rows, template, count, document.writer.next_number), workers):
        document.append(chunk)
        done += chunk.stamps
        if progress is not None:
            progress(done, count)
    pages = document.finish()
    return PrintStats(
        count,
        sheets,
        pages,
        version,
        ecc,
        plan.module_mm,
        document.writer.bytes_written,
        plan.dpi,
        plan.module_dots,
        plan.text_pt,
    )
