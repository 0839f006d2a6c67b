"""A streaming PDF writer: objects go to the output as soon as they are made, so memory stays flat.

Only object offsets (8 bytes each) and page object numbers are kept until the cross-reference table is
written at the end.
"""

from __future__ import annotations

import hashlib
import zlib
from array import array
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import BinaryIO

HEADER = (
    b"%PDF-1.6\n%\xe2\xe3\xcf\xd3\n"  # PDF/X-4 is PDF 1.6; the binary comment tells transfer tools the file is binary
)


def pdf_number(value: float) -> str:
    """Return a PDF real with at most three decimals (plenty at 1/72 inch)."""
    text = f"{value:.3f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def pdf_text_string(text: str) -> str:
    """Return a PDF text string: literal if plain ASCII, else UTF-16BE with a byte-order mark (7.9.2.2)."""
    if text.isascii() and text.isprintable():
        escaped = text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
        return f"({escaped})"
    return "<FEFF" + text.encode("utf-16-be").hex().upper() + ">"


def pdf_date(moment: datetime) -> str:
    """Return a PDF date string (7.9.4); a naive datetime is written without a zone."""
    text = moment.strftime("D:%Y%m%d%H%M%S")
    offset = moment.utcoffset()
    if offset is not None:
        minutes = int(offset.total_seconds()) // 60
        sign = "+" if minutes >= 0 else "-"
        text += f"{sign}{abs(minutes) // 60:02d}'{abs(minutes) % 60:02d}'"
    return f"({text})"


def indirect_object(number: int, body: bytes) -> bytes:
    """Return one complete indirect object."""
    return b"%d 0 obj\n%b\nendobj\n" % (number, body)


def stream_body(entries: str, data: bytes, *, compress: bool = False) -> bytes:
    """Return a stream object body: dictionary entries plus data, Flate-compressed if asked."""
    if compress:
        data = zlib.compress(data, 6)
        entries += " /Filter /FlateDecode"
    return b"<< %b /Length %d >>\nstream\n%b\nendstream" % (entries.encode("ascii"), len(data), data)


class PdfStream:
    """Write numbered objects to a binary stream and finish it with the xref table and trailer."""

    def __init__(self, out: BinaryIO, reserved: int) -> None:
        """Start a file whose objects 1..reserved are written out of order, the rest in sequence."""
        self._out = out
        self._digest = hashlib.md5(usedforsecurity=False)  # only for the file identifier
        self._position = 0
        self._offsets = array("Q", bytes(8 * (reserved + 1)))
        self._write(HEADER)

    @property
    def next_number(self) -> int:
        """Return the number the next sequential object gets."""
        return len(self._offsets)

    @property
    def bytes_written(self) -> int:
        """Return how many bytes went out so far."""
        return self._position

    def _write(self, data: bytes) -> None:
        self._out.write(data)
        self._digest.update(data)
        self._position += len(data)

    def write_object(self, number: int, body: bytes) -> None:
        """Write a reserved object, or the next sequential one."""
        if number == len(self._offsets):
            self._offsets.append(self._position)
        else:
            self._offsets[number] = self._position
        self._write(indirect_object(number, body))

    def write_chunk(self, first: int, data: bytes, offsets: Sequence[int]) -> None:
        """Write consecutive objects first, first+1, … already serialised together, at their relative offsets."""
        if first != len(self._offsets):
            raise ValueError(f"chunk starts at object {first}, expected {len(self._offsets)}")
        base = self._position
        self._offsets.extend(base + offset for offset in offsets)
        self._write(data)

    def content_id(self) -> str:
        """Return the MD5 (hex) of the bytes written so far: a document ID that follows the content."""
        return self._digest.hexdigest().upper()

    def finish(self, root: int, info: int, file_id: str | None = None) -> None:
        """Write the cross-reference table and trailer; the file ID is the content's MD5 unless given."""
        missing = [n for n in range(1, len(self._offsets)) if self._offsets[n] == 0]
        if missing:
            raise ValueError(f"objects {missing[:5]} were reserved but never written")
        start = self._position
        size = len(self._offsets)
        self._write(b"xref\n0 %d\n0000000000 65535 f \n" % size)
        for first in range(1, size, 8192):
            rows = (b"%010d 00000 n \n" % self._offsets[n] for n in range(first, min(size, first + 8192)))
            self._write(b"".join(rows))
        file_id = file_id or self._digest.hexdigest().upper()
        trailer = f"trailer\n<< /Size {size} /Root {root} 0 R /Info {info} 0 R /ID [<{file_id}> <{file_id}>] >>\n"
        self._write(trailer.encode("ascii") + b"startxref\n%d\n%%%%EOF\n" % start)


def page_tree(kids: Iterable[int], count: int) -> bytes:
    """Return the body of the root Pages object."""
    refs = " ".join(f"{kid} 0 R" for kid in kids)
    return f"<< /Type /Pages /Count {count} /Kids [{refs}] >>".encode("ascii")
