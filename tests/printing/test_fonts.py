"""Finding the fonts to print with: PRINT_FONT when set, else DejaVu Sans through fontconfig, else a clear error."""

from __future__ import annotations

from pathlib import Path

import pytest

from traceability.printing.fontfiles import FontNotFound, find_fonts, fontconfig_match
from traceability.printing.fonts import load_face


def test_fontconfig_finds_dejavu_sans_and_its_bold() -> None:
    fonts = find_fonts()
    assert Path(fonts.regular).is_file() and Path(fonts.bold).is_file()
    assert (load_face(fonts.regular).postscript_name, load_face(fonts.bold).postscript_name) == (
        "DejaVuSans",
        "DejaVuSans-Bold",
    )


def test_a_family_fontconfig_lacks_is_not_replaced_by_its_fallback() -> None:
    assert fontconfig_match("No Such Family", "Book") is None  # fc-match itself would answer with DejaVu


def test_a_configured_file_is_used_with_the_bold_of_its_family(tmp_path: Path) -> None:
    regular = find_fonts().regular
    copy = tmp_path / "mine.ttf"
    copy.write_bytes(Path(regular).read_bytes())
    fonts = find_fonts(str(copy))
    assert fonts.regular == str(copy)
    assert fonts.bold == find_fonts().bold


@pytest.mark.parametrize("content", [None, b"not a font"])
def test_a_configured_file_that_is_not_a_font_is_refused_by_name(tmp_path: Path, content: bytes | None) -> None:
    path = tmp_path / "font.ttf"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(FontNotFound, match=f"PRINT_FONT is '{path}', which is not a TrueType font file"):
        find_fonts(str(path))


def test_without_fontconfig_the_error_says_what_to_install(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # no fc-match on this PATH
    with pytest.raises(FontNotFound, match="fontconfig finds no DejaVu Sans; install it") as raised:
        find_fonts()
    assert raised.value.status == 500 and raised.value.code == "font_not_found"
