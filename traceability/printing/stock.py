"""Label stock a producer can buy: gLabels' product templates, custom sizes, and one name for each.

A layout is stored by name (batches.layout, print_jobs.layout, at most 40 characters), so every kind of
stock has one: a named layout ("a4-30mm"), a gLabels product ("avery-l7160", from brand + part number) or a
custom size ("custom-40x30-roll", "custom-30x30-6x8-g2-a4"); "@DPI" after any of them names the printer's
resolution when it is not the stock's default. resolve_layout turns any such name back into the Layout.
Debian's glabels-data ships the templates (TEMPLATE_DIRS); a producer picks the product they bought.
"""

from __future__ import annotations

import os
import re
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from traceability.errors import ValidationError
from traceability.i18n import N_
from traceability.printing.layouts import DEFAULT_DPI, LAYOUTS, NAME_LENGTH, Layout, LayoutInvalid
from traceability.printing.sizing import fits

TEMPLATE_DIRS = ("/usr/share/libglabels-3.0/templates", "/usr/share/glabels-qt/templates")
UNITS_MM = {"pt": 25.4 / 72, "mm": 1.0, "cm": 10.0, "in": 25.4, "pc": 25.4 / 6}
LABEL_PRINTER_DPI = 203  # one label a page: a thermal label printer, most of which print at 203 dpi
HEADER_MM = 12.0  # top margin the sheet information needs; stock with less gets a run ticket instead
CROP_MARK_MM = 6.0  # margin crop marks need around the grid
PAGES_MM = {"a4": (210.0, 297.0), "a5": (148.0, 210.0), "a3": (297.0, 420.0), "letter": (215.9, 279.4)}
ROLL = "roll"
CUSTOM = re.compile(
    r"custom-(?P<w>\d+(?:\.\d+)?)x(?P<h>\d+(?:\.\d+)?)"
    r"(?:-(?P<c>\d+)x(?P<r>\d+)-g(?P<g>\d+(?:\.\d+)?)(?:x(?P<gy>\d+(?:\.\d+)?))?-(?P<page>a3|a4|a5|letter)"
    r"(?P<land>-landscape)?(?:-m(?P<ml>\d+(?:\.\d+)?)x(?P<mt>\d+(?:\.\d+)?))?|-roll)"
    r"(?:-r(?P<radius>\d+(?:\.\d+)?))?(?:-s(?P<sw>\d+(?:\.\d+)?)x(?P<sh>\d+(?:\.\d+)?))?"
)


class UnknownLayout(ValidationError):
    code = "unknown_layout"


@dataclass(frozen=True)
class LabelTemplate:
    """One gLabels label product: what the request form lists and what its layout is built from."""

    name: str  # slug of brand and part: "avery-l7160"
    brand: str
    part: str
    description: str
    page_width_mm: float
    page_height_mm: float
    label_width_mm: float
    label_height_mm: float
    columns: int
    rows: int
    margin_left_mm: float
    margin_top_mm: float
    pitch_x_mm: float
    pitch_y_mm: float
    corner_radius_mm: float
    round: bool
    inset_mm: float
    page: str  # gLabels' paper id ("A4", "US-Letter") or "Other" for a page the size of the label

    @property
    def title(self) -> str:
        """Return what a person recognises: brand, part and size."""
        size = f"{_num(self.label_width_mm)} × {_num(self.label_height_mm)} mm"
        return f"{self.brand} {self.part} ({self.description}, {size}, {self.columns * self.rows}/{self.page})"


def _num(value: float) -> str:
    return f"{value:.2f}".rstrip("0").rstrip(".")


def slug(text: str) -> str:
    """Return a lowercase name of letters, digits and dashes."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def _length(text: str | None) -> float:
    """Return a gLabels length in mm ("12.5mm", "1in", "3pt", or plain points)."""
    match = re.fullmatch(r"\s*(-?[0-9.]+)\s*([a-z]*)\s*", text or "0")
    if match is None or match.group(2) not in ("", *UNITS_MM):
        raise ValueError(f"not a gLabels length: {text!r}")
    return float(match.group(1)) * UNITS_MM.get(match.group(2) or "pt", UNITS_MM["pt"])


def _papers(directory: Path) -> dict[str, tuple[float, float]]:
    path = directory / "paper-sizes.xml"
    if not path.is_file():
        return {}
    root = ET.parse(path).getroot()  # noqa: S314 - packaged data
    return {p.get("id", ""): (_length(p.get("width")), _length(p.get("height"))) for p in root.iter("Paper-size")}


def _template(element: ET.Element, papers: dict[str, tuple[float, float]]) -> LabelTemplate | None:
    """Return the template of a <Template> with one rectangular or round label and one layout, else None."""
    labels = [e for e in element if e.tag in ("Label-rectangle", "Label-round")]
    if len(labels) != 1:
        return None
    label = labels[0]
    layouts = label.findall("Layout")
    if len(layouts) != 1:
        return None
    grid = layouts[0]
    if label.tag == "Label-round":
        width = height = 2 * _length(label.get("radius"))
        radius, is_round = width / 2, True
    else:
        width, height = _length(label.get("width")), _length(label.get("height"))
        radius, is_round = _length(label.get("round")), False
    size = element.get("size", "")
    page = papers.get(size) or (_length(element.get("width")), _length(element.get("height")))
    margin = label.find("Markup-margin")
    brand, part = element.get("brand", ""), element.get("part", "")
    return LabelTemplate(
        name=slug(f"{brand}-{part}"),
        brand=brand,
        part=part,
        description=element.get("_description") or element.get("description") or "",
        page_width_mm=page[0],
        page_height_mm=page[1],
        label_width_mm=width,
        label_height_mm=height,
        columns=int(grid.get("nx", "1")),
        rows=int(grid.get("ny", "1")),
        margin_left_mm=_length(grid.get("x0")),
        margin_top_mm=_length(grid.get("y0")),
        pitch_x_mm=_length(grid.get("dx")) or width,
        pitch_y_mm=_length(grid.get("dy")) or height,
        corner_radius_mm=min(radius, width / 2, height / 2),
        round=is_round,
        inset_mm=_length(margin.get("size")) if margin is not None else 0.0,
        page=size or "Other",
    )


def _read(directory: Path) -> dict[str, LabelTemplate]:
    """Return the templates of every *-templates.xml in a directory, equivalents (same stock, other part) included."""
    papers = _papers(directory)
    found: dict[tuple[str, str], LabelTemplate] = {}
    aliases: list[tuple[str, str, str]] = []
    for path in sorted(directory.glob("*templates.xml")):
        for element in ET.parse(path).getroot().iter("Template"):  # noqa: S314 - packaged data
            brand, part = element.get("brand", ""), element.get("part", "")
            if element.get("equiv"):
                aliases.append((brand, part, element.get("equiv", "")))
                continue
            try:
                template = _template(element, papers)
            except ValueError:
                continue
            if template is not None:
                found.setdefault((brand, part), template)
    for brand, part, equiv in aliases:
        original = found.get((brand, equiv))
        if original is not None:
            found.setdefault((brand, part), _alias(original, brand, part))
    result: dict[str, LabelTemplate] = {}
    for template in found.values():
        if len(template.name) + 5 > NAME_LENGTH or template.name in LAYOUTS:  # room for "@2400"
            continue
        try:
            template_layout(template)
        except LayoutInvalid:  # a few templates' labels overrun their page: gLabels' rounding, rotated sheets
            continue
        result.setdefault(template.name, template)
    return result


def _alias(original: LabelTemplate, brand: str, part: str) -> LabelTemplate:
    fields = {**original.__dict__, "brand": brand, "part": part, "name": slug(f"{brand}-{part}")}
    return LabelTemplate(**fields)


def load_templates(directories: Sequence[str] | None = None) -> dict[str, LabelTemplate]:
    """Return the label products of the first directory (TEMPLATE_DIRS by default) that has templates, by name."""
    return _load(tuple(TEMPLATE_DIRS if directories is None else directories))


@lru_cache(maxsize=4)
def _load(directories: tuple[str, ...]) -> dict[str, LabelTemplate]:
    for directory in directories:
        if os.path.isdir(directory):
            templates = _read(Path(directory))
            if templates:
                return templates
    return {}


def list_templates(symbol_modules: int | None = None, directories: Sequence[str] | None = None) -> list[LabelTemplate]:
    """Return the label products by brand and part; given a symbol size, only those whose labels can hold it."""
    return list(_listed(symbol_modules, tuple(TEMPLATE_DIRS if directories is None else directories)))


@lru_cache(maxsize=8)
def _listed(symbol_modules: int | None, directories: tuple[str, ...]) -> tuple[LabelTemplate, ...]:
    """Return the sorted, filtered products once: sizing a thousand labels takes about a second, every form wants it."""
    templates = sorted(_load(directories).values(), key=lambda t: (t.brand.lower(), t.part.lower()))
    if symbol_modules is None:
        return tuple(templates)
    return tuple(t for t in templates if fits(template_layout(t), symbol_modules))


def search_templates(
    text: str, symbol_modules: int, limit: int, directories: Sequence[str] | None = None
) -> tuple[list[LabelTemplate], int]:
    """Return the first `limit` products holding the code whose title has every word of text, and how many match."""
    words = text.lower().split()
    found = [t for t in list_templates(symbol_modules, directories) if all(w in t.title.lower() for w in words)]
    return found[:limit], len(found)


def template_layout(template: LabelTemplate) -> Layout:
    """Return the layout of a label product at its default resolution (203 dpi for label printers)."""
    single = template.columns == template.rows == 1 and template.page == "Other"
    top = template.margin_top_mm
    return Layout(
        name=template.name,
        title=template.title,
        page_width_mm=template.page_width_mm,
        page_height_mm=template.page_height_mm,
        label_width_mm=template.label_width_mm,
        label_height_mm=template.label_height_mm,
        columns=template.columns,
        rows=template.rows,
        margin_left_mm=template.margin_left_mm,
        margin_top_mm=top,
        gap_x_mm=max(0.0, template.pitch_x_mm - template.label_width_mm),
        gap_y_mm=max(0.0, template.pitch_y_mm - template.label_height_mm),
        corner_radius_mm=template.corner_radius_mm,
        round=template.round,
        inset_mm=template.inset_mm,
        sheet_info=not single and top >= HEADER_MM,
        run_ticket=single or top < HEADER_MM,
        dpi=LABEL_PRINTER_DPI if single else DEFAULT_DPI,
    )


@dataclass(frozen=True)
class CustomStock:
    """Labels a producer measured: their size, and either a grid on a page or a roll (one label a page)."""

    width_mm: float
    height_mm: float
    columns: int = 1
    rows: int = 1
    gap_mm: float = 2.0
    page: str = ROLL  # a key of PAGES_MM, or "roll"
    landscape: bool = False
    corner_radius_mm: float = 0.0
    scratch_box_mm: tuple[float, float] | None = None
    gap_y_mm: float | None = None  # None: the same as gap_mm
    margins_mm: tuple[float, float] | None = None  # left, top; None: the grid centred on the page

    @property
    def row_gap_mm(self) -> float:
        """Return the gap between rows."""
        return self.gap_mm if self.gap_y_mm is None else self.gap_y_mm

    @property
    def name(self) -> str:
        """Return the canonical name, which resolve_layout reads back."""
        size = f"custom-{_num(self.width_mm)}x{_num(self.height_mm)}"
        if self.page == ROLL:
            name = f"{size}-roll"
        else:
            landscape = "-landscape" if self.landscape else ""
            gaps = _num(self.gap_mm) + ("" if self.row_gap_mm == self.gap_mm else f"x{_num(self.row_gap_mm)}")
            name = f"{size}-{self.columns}x{self.rows}-g{gaps}-{self.page}{landscape}"
            if self.margins_mm is not None:
                name += f"-m{_num(self.margins_mm[0])}x{_num(self.margins_mm[1])}"
        if self.corner_radius_mm:
            name += f"-r{_num(self.corner_radius_mm)}"
        if self.scratch_box_mm:
            name += f"-s{_num(self.scratch_box_mm[0])}x{_num(self.scratch_box_mm[1])}"
        return name


def custom_layout(stock: CustomStock) -> Layout:
    """Return the layout of custom labels: the grid centred on the page, or one label a page on a roll."""
    if stock.page == ROLL:
        return Layout(
            name=stock.name,
            page_width_mm=stock.width_mm,
            page_height_mm=stock.height_mm,
            label_width_mm=stock.width_mm,
            label_height_mm=stock.height_mm,
            columns=1,
            rows=1,
            margin_left_mm=0.0,
            margin_top_mm=0.0,
            corner_radius_mm=stock.corner_radius_mm,
            sheet_info=False,
            run_ticket=True,
            dpi=LABEL_PRINTER_DPI,
            scratch_box_mm=stock.scratch_box_mm,
        )
    if stock.page not in PAGES_MM:
        raise UnknownLayout(
            N_("page must be one of %(pages)s, not '%(page)s'"),
            field="page",
            params={"pages": ", ".join([*PAGES_MM, ROLL]), "page": stock.page},
        )
    width, height = PAGES_MM[stock.page]
    if stock.landscape:
        width, height = height, width
    grid_w = stock.columns * stock.width_mm + (stock.columns - 1) * stock.gap_mm
    grid_h = stock.rows * stock.height_mm + (stock.rows - 1) * stock.row_gap_mm
    left, top = stock.margins_mm or (max(0.0, (width - grid_w) / 2), max(0.0, (height - grid_h) / 2))
    return Layout(
        name=stock.name,
        page_width_mm=width,
        page_height_mm=height,
        label_width_mm=stock.width_mm,
        label_height_mm=stock.height_mm,
        columns=stock.columns,
        rows=stock.rows,
        margin_left_mm=left,
        margin_top_mm=top,
        gap_x_mm=stock.gap_mm,
        gap_y_mm=stock.row_gap_mm,
        corner_radius_mm=stock.corner_radius_mm,
        crop_marks=min(left, top) >= CROP_MARK_MM,
        sheet_info=top >= HEADER_MM,
        run_ticket=top < HEADER_MM,
        scratch_box_mm=stock.scratch_box_mm,
    )


def _parse_custom(name: str) -> CustomStock | None:
    match = CUSTOM.fullmatch(name)
    if match is None:
        return None
    parts = match.groupdict()
    scratch = (float(parts["sw"]), float(parts["sh"])) if parts["sw"] else None
    radius = float(parts["radius"] or 0)
    if parts["page"] is None:
        return CustomStock(float(parts["w"]), float(parts["h"]), corner_radius_mm=radius, scratch_box_mm=scratch)
    return CustomStock(
        float(parts["w"]),
        float(parts["h"]),
        int(parts["c"]),
        int(parts["r"]),
        float(parts["g"]),
        parts["page"],
        bool(parts["land"]),
        radius,
        scratch,
        float(parts["gy"]) if parts["gy"] else None,
        (float(parts["ml"]), float(parts["mt"])) if parts["ml"] else None,
    )


def parse_custom(name: str) -> CustomStock | None:
    """Return the custom stock a name describes (its "@DPI" ignored), or None if it is not a custom name."""
    return _parse_custom(name.partition("@")[0])


def find_template(text: str, directories: Sequence[str] | None = None) -> LabelTemplate:
    """Return the product named "Brand:PART", "Brand PART" or by its slug, or raise UnknownLayout."""
    templates = load_templates(directories)
    found = templates.get(slug(text.replace(":", "-")))
    if found is None:
        raise UnknownLayout(
            N_("no label product '%(name)s' in the gLabels templates; give the brand and part, e.g. 'Avery:L7160'"),
            field="label_template",
            params={"name": text},
        )
    return found


def resolve_layout(name: str, dpi: int | None = None, directories: Sequence[str] | None = None) -> Layout:
    """Return the layout a stored name means (named, custom or gLabels product, "@DPI" optional); dpi overrides.

    Raise UnknownLayout for a name that is none of these, LayoutInvalid for impossible stock.
    """
    base, _, stated = name.partition("@")
    if stated:
        if not stated.isdigit():
            raise UnknownLayout(N_("'%(name)s' does not end in @ and a resolution in dpi"), params={"name": name})
        dpi = dpi or int(stated)
    layout = LAYOUTS.get(base)
    if layout is None:
        custom = _parse_custom(base)
        if custom is not None:
            layout = custom_layout(custom)
        elif base in (templates := load_templates(directories)):
            layout = template_layout(templates[base])
    if layout is None:
        raise UnknownLayout(
            N_("unknown layout '%(name)s'; choose one of: %(layouts)s, a gLabels product or a custom size"),
            field="layout",
            params={"name": name, "layouts": ", ".join(sorted(LAYOUTS))},
        )
    return layout.at_dpi(dpi)
