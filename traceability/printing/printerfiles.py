"""Files for printing houses that use their own software: a CSV of placements and a ZIP of one image per stamp."""

from __future__ import annotations

import csv
import io
import itertools
import zipfile
from collections.abc import Iterable
from typing import BinaryIO, Literal

from traceability.printing.layouts import Layout
from traceability.printing.qrbatch import encode_batch
from traceability.printing.qrimages import png_bytes, svg_bytes
from traceability.printing.sheets import PrintableStamp, check_prefix

CSV_HEADER = ("serial", "url", "sheet", "position")
HIDDEN_HEADER = ("serial", "hidden_code")
ZIP_DATE = (1980, 1, 1, 0, 0, 0)  # fixed, so that the same batch gives the same archive
ENCODE_CHUNK = 1024
FORBIDDEN_IN_NAMES = set('/\\:*?"<>|') | {chr(c) for c in range(32)}


def write_csv(stamps: Iterable[PrintableStamp], out: BinaryIO, layout: Layout) -> int:
    """Write UTF-8 rows serial,url,sheet,position (1-based, as in write_pdf's sheets); return the row count."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_HEADER)
    count = 0
    for count, stamp in enumerate(stamps, start=1):
        sheet, position = divmod(count - 1, layout.per_sheet)
        writer.writerow((stamp.serial, stamp.url, sheet + 1, position + 1))
        if count % 4096 == 0:
            out.write(buffer.getvalue().encode("utf-8"))
            buffer.seek(0)
            buffer.truncate()
    out.write(buffer.getvalue().encode("utf-8"))
    return count


def write_hidden_codes(codes: Iterable[tuple[str, str]], out: BinaryIO) -> int:
    """Write the scratch-off codes as UTF-8 rows serial,hidden_code; return the row count.

    A file of its own, never a column of the placement CSV: whoever lays out the sheets must not see the codes
    that the scratch foil hides, so the two files can go to different people.
    """
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(HIDDEN_HEADER)
    count = 0
    for count, (serial, code) in enumerate(codes, start=1):
        if not serial or not code or not code.isprintable():
            raise ValueError(f"stamp {serial!r}: a hidden code must be printable and not empty")
        writer.writerow((serial, code))
        if count % 4096 == 0:
            out.write(buffer.getvalue().encode("utf-8"))
            buffer.seek(0)
            buffer.truncate()
    out.write(buffer.getvalue().encode("utf-8"))
    return count


def _file_name(serial: str, extension: str) -> str:
    """Return the archive member name of a stamp, or raise ValueError if the serial cannot be a file name."""
    if not serial or FORBIDDEN_IN_NAMES & set(serial) or serial in (".", ".."):
        raise ValueError(f"serial {serial!r} cannot be used as a file name")
    return f"{serial}.{extension}"


def write_zip(
    stamps: Iterable[PrintableStamp],
    out: BinaryIO,
    fmt: Literal["svg", "png"] = "svg",
    *,
    ecc: str = "M",
    module_mm: float = 0.33,
    module_px: int = 4,
    quiet_zone: int = 4,
) -> int:
    """Write a ZIP with one QR image per stamp named <serial>.svg or <serial>.png; return the file count."""
    if fmt not in ("svg", "png"):
        raise ValueError(f"format must be 'svg' or 'png', not {fmt!r}")
    iterator = iter(stamps)
    seen: set[str] = set()
    count = 0
    prefix = ""

    # PNG is already deflated; storing it again compressed only costs time.
    method = zipfile.ZIP_DEFLATED if fmt == "svg" else zipfile.ZIP_STORED
    with zipfile.ZipFile(out, "w") as archive:
        while chunk := list(itertools.islice(iterator, ENCODE_CHUNK)):
            if not prefix:
                prefix = chunk[0].url_prefix
                check_prefix(prefix)
            if any(s.url_prefix != prefix for s in chunk):
                raise ValueError("all stamps of a batch must share one URL prefix")
            matrices = encode_batch(prefix.encode("ascii"), [s.digits for s in chunk], ecc=ecc)
            for stamp, matrix in zip(chunk, matrices, strict=True):
                name = _file_name(stamp.serial, fmt)
                if name in seen:
                    raise ValueError(f"serial {stamp.serial!r} appears twice")
                seen.add(name)
                if fmt == "svg":
                    data = svg_bytes(matrix, module_mm=module_mm, quiet_zone=quiet_zone, title=stamp.serial)
                else:
                    data = png_bytes(matrix, module_px=module_px, quiet_zone=quiet_zone)
                info = zipfile.ZipInfo(name, date_time=ZIP_DATE)
                info.compress_type = method
                info.external_attr = 0o644 << 16
                archive.writestr(info, data)
                count += 1
    return count
