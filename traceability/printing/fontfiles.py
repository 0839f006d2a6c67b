"""Find the font files to print with: the file PRINT_FONT names, else DejaVu Sans as fontconfig knows it.

The edges (the print command, the job runner) call find_fonts and pass the paths down; the pure printing
code never looks a font up itself.
"""

from __future__ import annotations

import os
import re
import subprocess

from traceability.errors import ConfigurationError
from traceability.i18n import N_
from traceability.printing.fonts import FontFace, FontFiles, load_face

DEFAULT_FAMILY = "DejaVu Sans"
REGULAR_STYLE, BOLD_STYLE = "Book", "Bold"  # DejaVu names its regular face "Book"
LOOKUP_SECONDS = 10


class FontNotFound(ConfigurationError):
    code = "font_not_found"


def _pattern(family: str, style: str) -> str:
    """Return a fontconfig pattern, escaping the characters its syntax gives a meaning to."""
    return re.sub(r"([\\\-:,])", r"\\\1", family) + f":style={style}"


def fontconfig_match(family: str, style: str) -> str | None:
    """Return the file of this family in this style as fontconfig finds it, or None if it has none."""
    command = ["fc-match", "-f", "%{family}\t%{style}\t%{file}", _pattern(family, style)]
    try:
        answer = subprocess.run(command, capture_output=True, text=True, timeout=LOOKUP_SECONDS, check=True)
    except (OSError, subprocess.SubprocessError):  # no fontconfig, or it failed: the caller says what to do
        return None
    families, styles, path = [*answer.stdout.split("\t", 2), "", ""][:3]
    # fc-match always answers with its best match, another family's font included: accept only what was asked.
    if family not in families.split(",") or style not in styles.split(",") or not os.path.isfile(path):
        return None
    return path


def _configured_face(path: str) -> FontFace:
    """Return the face of the configured file, or raise FontNotFound."""
    try:
        return load_face(path)
    except Exception:  # fontTools raises many kinds of error on a file that is not a font
        raise FontNotFound(
            N_("PRINT_FONT is '%(path)s', which is not a TrueType font file this service can read"),
            params={"path": path},
        ) from None


def find_fonts(configured: str | None = None) -> FontFiles:
    """Return the files to print with: configured (PRINT_FONT) and its bold, else DejaVu Sans; raise FontNotFound."""
    if configured:
        family = _configured_face(configured).family
        bold = fontconfig_match(family, BOLD_STYLE) if family else None
        return FontFiles(configured, bold or configured)  # without a bold face the heading is set in the regular
    regular = fontconfig_match(DEFAULT_FAMILY, REGULAR_STYLE)
    if regular is None:
        raise FontNotFound(
            N_(
                "no font to print stamps with: fontconfig finds no %(family)s; install it (Debian: fonts-dejavu-core)"
                " or set PRINT_FONT to a TrueType file"
            ),
            params={"family": DEFAULT_FAMILY},
        )
    return FontFiles(regular, fontconfig_match(DEFAULT_FAMILY, BOLD_STYLE) or regular)
