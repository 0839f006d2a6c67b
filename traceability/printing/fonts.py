"""Font metrics for laying out stamp text (DejaVu Sans unless configured), read from files the caller names.

Pages refer to glyphs by their ids in the full font; pdffonts.py embeds a subset that keeps those ids. Which
files to use is decided at the edge (fontfiles.py finds them); this module only reads the paths it is given.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

from fontTools.ttLib import TTFont


@dataclass(frozen=True)
class FontFiles:
    """The TrueType files stamp text is set in: /F1 for text, /F2 for the OCOP heading."""

    regular: str
    bold: str

    @property
    def paths(self) -> tuple[str, str]:
        """Return the files in the order of the PDF's font resources."""
        return (self.regular, self.bold)


@dataclass(frozen=True)
class FontFace:
    """What page building needs from a TrueType font: glyph ids, advances and vertical metrics."""

    path: str
    postscript_name: str
    family: str
    units_per_em: int
    gids: dict[int, int]  # code point -> glyph id
    advances: tuple[int, ...]  # by glyph id, in font units
    ascent: int
    descent: int
    cap_height: int
    bbox: tuple[int, int, int, int]

    def glyph_ids(self, text: str) -> list[int]:
        """Return the glyph ids of NFC-normalised text, or raise ValueError for a character the font lacks."""
        try:
            return [self.gids[ord(ch)] for ch in unicodedata.normalize("NFC", text)]
        except KeyError as missing:
            char = chr(missing.args[0])
            raise ValueError(f"{self.postscript_name} has no glyph for {char!r} (U+{ord(char):04X})") from None

    def width_em(self, gids: list[int]) -> float:
        """Return the advance width of a glyph run in ems."""
        return sum(self.advances[g] for g in gids) / self.units_per_em

    def pdf_width(self, gid: int) -> int:
        """Return a glyph's advance in PDF glyph space (1000 units per em)."""
        return round(self.advances[gid] * 1000 / self.units_per_em)


@lru_cache(maxsize=8)
def load_face(path: str) -> FontFace:
    """Read the metrics of a TrueType font file (cached per process)."""
    # Opened here, not by TTFont: a lazy font keeps its file open, and one that fails to parse never closes it.
    with open(path, "rb") as handle, TTFont(handle, lazy=True) as font:
        order = font.getGlyphOrder()
        gid_of = {name: gid for gid, name in enumerate(order)}
        metrics = font["hmtx"].metrics
        head, hhea, os2 = font["head"], font["hhea"], font["OS/2"]
        return FontFace(
            path=path,
            postscript_name=font["name"].getDebugName(6) or "DejaVuSans",
            family=font["name"].getBestFamilyName() or "",
            units_per_em=head.unitsPerEm,
            gids={cp: gid_of[glyph] for cp, glyph in font.getBestCmap().items()},
            advances=tuple(metrics[glyph][0] for glyph in order),
            ascent=hhea.ascent,
            descent=hhea.descent,
            cap_height=getattr(os2, "sCapHeight", hhea.ascent),
            bbox=(head.xMin, head.yMin, head.xMax, head.yMax),
        )


def load_faces(paths: Iterable[str]) -> tuple[FontFace, ...]:
    """Return the faces of these files, in order."""
    return tuple(load_face(path) for path in paths)
