"""`traceability batch print`: a batch's print-ready PDF and printer files, written atomically; `traceability
worker`: the process that runs the web's print jobs when QUEUE_URL is set."""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
from flask import current_app
from flask.cli import with_appcontext

from traceability.console import fail, operator
from traceability.db import transaction
from traceability.errors import DomainError
from traceability.printing import runs
from traceability.printing.fontfiles import find_fonts
from traceability.printing.layouts import LAYOUTS
from traceability.printing.outputs import Outputs, Progress
from traceability.printing.services import ECC_CHOICES
from traceability.printing.sheettext import DEFAULT_LANGUAGE, LANGUAGES
from traceability.printing.stock import PAGES_MM, ROLL, CustomStock, find_template, list_templates, resolve_layout
from traceability.stamps.keystore import store_from_config

if TYPE_CHECKING:
    from click._termui_impl import ProgressBar  # what click.progressbar returns


@contextmanager
def _progress_bar(label: str) -> Iterator[Progress | None]:
    """Yield a progress callback drawing a bar on a terminal once writing starts, or None off a terminal."""
    if not sys.stdout.isatty():
        yield None
        return
    with ExitStack() as stack:
        bar: ProgressBar[int] | None = None
        shown = 0

        def update(done: int, total: int) -> None:
            nonlocal bar, shown
            if bar is None:  # drawn at the first stamp, so that a refusal is not preceded by an empty bar
                bar = stack.enter_context(
                    click.progressbar(length=total, label=label, show_eta=True, show_percent=True)
                )
            bar.length = total
            bar.update(done - shown)
            shown = done

        yield update


def _settings(config: Mapping[str, Any]) -> runs.PrintSettings:
    """Return the run's settings from the app's configuration, finding the fonts (PRINT_FONT, else fontconfig)."""
    fonts = find_fonts(config.get("PRINT_FONT"))
    return runs.PrintSettings(config["PUBLIC_BASE_URL"], int(config["PRINT_WORKERS"]), fonts)


def _report(printed: runs.PrintedBatch, seconds: float) -> None:
    """Print what the run wrote and how many stamps changed state."""
    stats = printed.stats
    assert stats is not None  # --out is required: there is always a PDF
    sheets = f"{stats.sheets:,} sheet" + ("" if stats.sheets == 1 else "s")
    click.echo(
        f"Printed batch {printed.batch_id}: {stats.stamps:,} stamps on {sheets} ({printed.layout.name}, "
        f"QR version {stats.qr_version}-{stats.ecc}, {stats.module_mm:.3f} mm modules = {stats.module_dots} dots at "
        f"{stats.dpi} dpi) in {seconds:.2f} s."
    )
    for written in printed.files:
        click.echo(f"  {written.format:<8} {written.target}  sha256 {written.sha256}")
    click.echo(
        f"{printed.marked:,} stamps marked printed."
        if printed.marked
        else "No stamp changed state (already printed, activated or voided)."
    )


def _pair(text: str | None, name: str, kind: type[float] | type[int]) -> tuple[Any, Any] | None:
    """Parse "AxB" (numbers of a kind), or raise click.BadParameter."""
    if text is None:
        return None
    first, sep, second = text.lower().partition("x")
    try:
        pair = (kind(first), kind(second))
    except ValueError:
        pair = None
    if not sep or pair is None or min(pair) <= 0:
        raise click.BadParameter(f"expected two positive numbers as AxB, got {text!r}", param_hint=name)
    return pair


def _layout_name(layout: str | None, template: str | None, custom: CustomStock | None, dpi: int | None) -> str | None:
    """Return the name of the stock asked for (one way at most), at dpi; None keeps the batch's own layout."""
    if sum(x is not None for x in (layout, template, custom)) > 1:
        raise click.UsageError("give one of --layout, --label-template and --label")
    if template is not None:
        layout = find_template(template).name
    elif custom is not None:
        layout = custom.name
    return None if layout is None else resolve_layout(layout, dpi).name


def _custom(label: str | None, grid: str | None, gap: float, page: str | None, **rest: Any) -> CustomStock | None:
    """Return the custom stock of --label and its companions, or None without --label."""
    size = _pair(label, "--label", float)
    if size is None:
        if grid is not None or page is not None:
            raise click.UsageError("--grid and --page describe custom labels: give --label WxH too")
        return None
    columns, rows = _pair(grid, "--grid", int) or (1, 1)
    chosen = page or (ROLL if grid is None else "a4")
    return CustomStock(size[0], size[1], columns, rows, gap, chosen, **rest)


@click.command("print")
@click.argument("batch_id", type=int)
@click.option("--out", "pdf_path", required=True, type=click.Path(dir_okay=False), help="The PDF to write.")
@click.option(
    "--layout",
    help=f"Stock by name: {', '.join(sorted(LAYOUTS))}, a gLabels product's name or a custom one, as printed "
    "(default: the one asked for with the batch, else a4-30mm).",
)
@click.option("--label-template", "template", metavar="BRAND:PART", help="A gLabels label product, e.g. Avery:L7160.")
@click.option("--label", metavar="WxH", help="Custom labels, width x height in mm, e.g. 40x30.")
@click.option("--grid", metavar="CxR", help="Custom labels: columns x rows on each page (default: one, a roll).")
@click.option("--gap", type=click.FloatRange(min=0), default=2.0, show_default=True, help="Custom labels: gap, mm.")
@click.option("--page", type=click.Choice([*PAGES_MM, ROLL]), help="Custom labels: the page (default a4 with --grid).")
@click.option("--landscape", is_flag=True, help="Custom labels: turn the page.")
@click.option("--corner-radius", type=click.FloatRange(min=0), default=0.0, help="Custom labels: corner radius, mm.")
@click.option("--margins", metavar="LxT", help="Custom labels: left x top page margin, mm (default: centred).")
@click.option(
    "--dpi",
    type=click.IntRange(100, 4800),
    help="The printer's resolution (default: 300, whole dots at 600, 1,200 and 2,400 too; 203 for rolls).",
)
@click.option("--language", type=click.Choice(LANGUAGES), default=DEFAULT_LANGUAGE, show_default=True)
@click.option("--csv", "csv_path", type=click.Path(dir_okay=False), help="Also write serial,url,sheet,position.")
@click.option("--zip", "zip_path", type=click.Path(dir_okay=False), help="Also write one QR image per stamp.")
@click.option("--zip-format", type=click.Choice(["svg", "png"]), default="svg", show_default=True)
@click.option(
    "--codes",
    "codes_path",
    type=click.Path(dir_okay=False),
    help="Scratch-off batches: also write serial,hidden_code to this file of its own (never in the PDF).",
)
@click.option("--ecc", type=click.Choice(ECC_CHOICES), default="M", show_default=True, help="QR level.")
@with_appcontext
def print_command(
    batch_id: int,
    pdf_path: str,
    layout: str | None,
    template: str | None,
    label: str | None,
    grid: str | None,
    gap: float,
    page: str | None,
    landscape: bool,
    corner_radius: float,
    margins: str | None,
    dpi: int | None,
    language: str,
    csv_path: str | None,
    zip_path: str | None,
    zip_format: str,
    codes_path: str | None,
    ecc: str,
) -> None:
    """Write an issued batch's stamps as a print-ready PDF/X-4 (and printer files); mark issued stamps printed.

    Printing never issues stamps: a reprint gives the same stamps and byte-identical files.
    """
    config = current_app.config
    started = time.perf_counter()
    outputs = Outputs(
        pdf=Path(pdf_path),
        csv=Path(csv_path) if csv_path else None,
        zip=Path(zip_path) if zip_path else None,
        zip_format=zip_format,
        codes=Path(codes_path) if codes_path else None,
    )
    try:
        custom = _custom(
            label,
            grid,
            gap,
            page,
            landscape=landscape,
            corner_radius_mm=corner_radius,
            margins_mm=_pair(margins, "--margins", float),
        )
        chosen = _layout_name(layout, template, custom, dpi)
        settings = _settings(config)
        with _progress_bar(f"Batch {batch_id}") as progress:
            printed = runs.print_batch(
                transaction,
                store_from_config(config),
                batch_id,
                outputs,
                settings=settings,
                actor=operator(),
                layout=chosen,
                dpi=dpi,
                ecc=ecc,
                language=language,
                progress=progress,
            )
    except DomainError as error:
        fail(error)
    _report(printed, time.perf_counter() - started)


@click.command("label-templates")
@click.argument("search", required=False, default="")
@with_appcontext
def label_templates_command(search: str) -> None:
    """List the gLabels label products stamps can be printed on (a version-6 code at 0.5 mm modules or more)."""
    needle = search.lower()
    for template in list_templates(41):
        if needle in template.title.lower():
            click.echo(f"{template.brand}:{template.part:<16} {template.name:<28} {template.title}")


@click.command("worker")
@click.option("--burst", is_flag=True, help="Run the jobs waiting now, then exit (tests, cron).")
@with_appcontext
def worker_command(burst: bool) -> None:
    """Run the web's print jobs from the queue at QUEUE_URL, one at a time, until stopped.

    Jobs whose process died are run again, and queued jobs that never reached the queue are put on it.
    """
    from traceability.printing import jobs
    from traceability.printing.worker import PrintWorker

    queue = jobs.print_queue(current_app)
    if queue is None:
        fail("QUEUE_URL is not set: print jobs run in the web processes themselves; set it to use a worker")
    PrintWorker(queue, jobs.runner(current_app)).work(burst=burst, logging_level=current_app.config["LOG_LEVEL"])
