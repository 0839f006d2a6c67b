"""Print files a producer can download for an issued batch, as a small registry of formats.

The CSV of serials and URLs is built in. The printing package adds its PDF and printer files with
`register_format(app, DownloadFormat(...))` from its own init_app; the download page lists whatever is
registered, so nothing here changes when it does.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

from flask import Flask, current_app

from traceability.i18n import N_
from traceability.stamps.batches import IssuedStamp
from traceability.stamps.export import stamp_csv_chunks
from traceability.stamps.models import Batch

EXTENSION_KEY = "batch_download_formats"


@dataclass(frozen=True)
class DownloadJob:
    """What a format needs: the batch, its signed stamps (lazily, in order) and the chosen sheet layout."""

    batch: Batch
    stamps: Callable[[], Iterator[IssuedStamp]]
    layout: str | None


@dataclass(frozen=True)
class DownloadFormat:
    name: str  # the URL segment: /portal/batches/<id>/download/<name>
    label: str  # English msgid, translated when shown
    description: str  # English msgid
    media_type: str
    extension: str
    render: Callable[[DownloadJob], Iterable[bytes]]


def render_csv(job: DownloadJob) -> Iterator[bytes]:
    """Yield the CSV of serials and URLs, signing as it goes: the same bytes as `traceability batch export`."""
    for text in stamp_csv_chunks(job.stamps()):
        yield text.encode("utf-8")


CSV_FORMAT = DownloadFormat(
    name="csv",
    label=N_("Serials and URLs (CSV)"),
    description=N_("One line per stamp: serial, verification URL and stamp number, for your own printing or labels."),
    media_type="text/csv; charset=utf-8",
    extension="csv",
    render=render_csv,
)


def register_format(app: Flask, download_format: DownloadFormat) -> None:
    """Offer another download for issued batches (the printing package registers its PDF here)."""
    app.extensions.setdefault(EXTENSION_KEY, {"csv": CSV_FORMAT})[download_format.name] = download_format


def formats() -> dict[str, DownloadFormat]:
    """Return the formats the current app offers, the CSV first."""
    registered: dict[str, DownloadFormat] = current_app.extensions.get(EXTENSION_KEY, {})
    return {"csv": CSV_FORMAT, **registered}


# Sheet layouts a producer may ask for; the names are the printing package's (traceability/printing/layouts.py).
# It may replace the list with app.extensions["sheet_layouts"] = [(name, label), ...].
DEFAULT_LAYOUTS: tuple[tuple[str, str], ...] = (
    ("a4-30mm", N_("A4 sheet, 48 stamps of 30 mm")),
    ("a4-20mm", N_("A4 sheet, 96 stamps of 20 mm")),
    ("roll-30mm", N_("Label printer roll, 30 mm labels")),
)


def layouts() -> list[tuple[str, str]]:
    """Return the (name, label) of each sheet layout offered in the batch request form."""
    return list(current_app.extensions.get("sheet_layouts", DEFAULT_LAYOUTS))
