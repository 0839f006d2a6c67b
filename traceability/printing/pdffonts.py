"""Embed DejaVu Sans in a PDF as a subset Type0/CIDFontType2 font with Identity-H and a ToUnicode map.

Glyph ids are kept as in the full font (the subsetter's retain_gids), so pages can be written before the set
of glyphs of the whole batch is known; the subset is built once, at the end of the file. Only the writing
process imports this module: fontTools.subset is slow to import and workers do not need it.
"""

from __future__ import annotations

import hashlib
import io
from collections.abc import Sequence
from functools import lru_cache

from fontTools import subset
from fontTools.ttLib import TTFont

from traceability.printing.fonts import FontFace
from traceability.printing.pdfwriter import stream_body


def subset_tag(path: str, gids: list[int]) -> str:
    """Return the six-letter subset prefix (PDF 9.6.4), derived from the glyph set so output is reproducible."""
    digest = hashlib.sha256(path.encode() + b"|" + ",".join(map(str, sorted(gids))).encode()).digest()
    return "".join(chr(ord("A") + b % 26) for b in digest[:6])


@lru_cache(maxsize=8)
def subset_program(path: str, gids: tuple[int, ...]) -> bytes:
    """Return a TrueType program holding only these glyphs (at their original ids) plus .notdef."""
    options = subset.Options()
    options.retain_gids = True
    options.hinting = False  # printers rasterise at 300+ dpi; hints only add size
    options.layout_features = []
    options.notdef_outline = True
    options.name_IDs = []
    options.drop_tables += ["GSUB", "GPOS", "GDEF", "kern", "FFTM", "MATH", "gasp"]
    # recalcTimestamp=False: the head.modified clock would break reproducible output.
    with TTFont(path, recalcTimestamp=False) as font:
        for tag in options.drop_tables:
            if tag in font:
                del font[tag]  # never decompiled then: GSUB and GPOS alone take most of the time
        subsetter = subset.Subsetter(options)
        subsetter.populate(gids=list(gids))
        subsetter.subset(font)
        buffer = io.BytesIO()
        font.save(buffer)
    return buffer.getvalue()


def _to_unicode_cmap(used: dict[int, str]) -> bytes:
    """Return a ToUnicode CMap mapping each glyph id (= CID under Identity-H) to its text."""
    lines = [
        "/CIDInit /ProcSet findresource begin",
        "12 dict begin",
        "begincmap",
        "/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def",
        "/CMapName /Adobe-Identity-UCS def",
        "/CMapType 2 def",
        "1 begincodespacerange",
        "<0000> <FFFF>",
        "endcodespacerange",
    ]
    items = sorted(used.items())
    for start in range(0, len(items), 100):  # at most 100 entries per block (PDF 9.10.3)
        block = items[start : start + 100]
        lines.append(f"{len(block)} beginbfchar")
        lines += [f"<{gid:04X}> <{text.encode('utf-16-be').hex().upper()}>" for gid, text in block]
        lines.append("endbfchar")
    lines += ["endcmap", "CMapName currentdict /CMap defineresource pop", "end", "end"]
    return "\n".join(lines).encode("ascii")


def _widths(face: FontFace, gids: list[int]) -> str:
    """Return a /W array listing the advance of each glyph, grouping consecutive ids."""
    parts: list[str] = []
    run: list[int] = []
    for gid in gids:
        if run and gid != run[-1] + 1:
            parts.append(f"{run[0]} [{' '.join(str(face.pdf_width(g)) for g in run)}]")
            run = []
        run.append(gid)
    if run:
        parts.append(f"{run[0]} [{' '.join(str(face.pdf_width(g)) for g in run)}]")
    return "[" + " ".join(parts) + "]"


def font_objects(face: FontFace, numbers: Sequence[int], used: dict[int, str]) -> list[tuple[int, bytes]]:
    """Return the Type0 font, CIDFont, descriptor, subset program and ToUnicode objects for a face."""
    type0, cid_font, descriptor, program, to_unicode = numbers
    gids = sorted(set(used) | {0})
    name = f"{subset_tag(face.path, gids)}+{face.postscript_name}"
    font_file = subset_program(face.path, tuple(gids))

    def scaled(value: int) -> int:
        return round(value * 1000 / face.units_per_em)

    bbox = " ".join(str(scaled(v)) for v in face.bbox)
    return [
        (type0, (
            f"<< /Type /Font /Subtype /Type0 /BaseFont /{name} /Encoding /Identity-H "
            f"/DescendantFonts [{cid_font} 0 R] /ToUnicode {to_unicode} 0 R >>"
        ).encode("ascii")),
        (cid_font, (
            f"<< /Type /Font /Subtype /CIDFontType2 /BaseFont /{name} "
            "/CIDSystemInfo << /Registry (Adobe) /Ordering (Identity) /Supplement 0 >> "
            f"/FontDescriptor {descriptor} 0 R /CIDToGIDMap /Identity /DW 1000 /W {_widths(face, gids)} >>"
        ).encode("ascii")),
        (descriptor, (
            f"<< /Type /FontDescriptor /FontName /{name} /Flags 32 /FontBBox [{bbox}] /ItalicAngle 0 "
            f"/Ascent {scaled(face.ascent)} /Descent {scaled(face.descent)} "
            f"/CapHeight {scaled(face.cap_height)} /StemV 80 /FontFile2 {program} 0 R >>"
        ).encode("ascii")),
        (program, stream_body(f"/Length1 {len(font_file)}", font_file, compress=True)),
        (to_unicode, stream_body("", _to_unicode_cmap(used), compress=True)),
    ]  # fmt: skip
