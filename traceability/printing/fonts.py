"""DejaVu Sans metrics for laying out stamp text, and subsetting it for embedding in a PDF.

Pages refer to glyphs by their ids in the full font; pdffonts.py embeds a subset that keeps those ids.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from functools import lru_cache

from fontTools.ttLib import TTFont

DEJAVU_DIR = "/usr/share/fonts/truetype/dejavu"
REGULAR = f"{DEJAVU_DIR}/DejaVuSans.ttf"
BOLD = f"{DEJAVU_DIR}/DejaVuSans-Bold.ttf"


@dataclass(frozen=True)
class FontFace:
    """What page building needs from a TrueType font: glyph ids, advances and vertical metrics."""

    path: str
    postscript_name: str
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
    with TTFont(path, lazy=True) as font:  # closes the file: a lazy font otherwise keeps it open
        order = font.getGlyphOrder()
        gid_of = {name: gid for gid, name in enumerate(order)}
        metrics = font["hmtx"].metrics
        head, hhea, os2 = font["head"], font["hhea"], font["OS/2"]
        return FontFace(
            path=path,
            postscript_name=font["name"].getDebugName(6) or "DejaVuSans",
            units_per_em=head.unitsPerEm,
            gids={cp: gid_of[glyph] for cp, glyph in font.getBestCmap().items()},
            advances=tuple(metrics[glyph][0] for glyph in order),
            ascent=hhea.ascent,
            descent=hhea.descent,
            cap_height=getattr(os2, "sCapHeight", hhea.ascent),
            bbox=(head.xMin, head.yMin, head.xMax, head.yMax),
        )
