"""`traceability batch print`: a batch's print-ready PDF and printer files, written atomically."""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

from traceability.console import fail, operator
from traceability.db import get_session, transaction
from traceability.errors import DomainError
from traceability.printing import services
from traceability.printing.layouts import LAYOUTS
from traceability.stamps import batches
from traceability.stamps.keystore import store_from_config


@contextmanager
def _progress_bar(label: str) -> Iterator[services.Progress | None]:
    """Yield a progress callback drawing a bar on a terminal, or None when stdout is not one."""
    if not sys.stdout.isatty():
        yield None
        return
    with click.progressbar(length=1, label=label, show_eta=True, show_percent=True) as bar:
        shown = 0

        def update(done: int, total: int) -> None:
            nonlocal shown
            bar.length = total
            bar.update(done - shown)
            shown = done

        yield update


@click.command("print")
@click.argument("batch_id", type=int)
@click.option("--out", "pdf_path", required=True, type=click.Path(dir_okay=False), help="The PDF to write.")
@click.option(
    "--layout",
    type=click.Choice(sorted(LAYOUTS)),
    help="Sheet layout (default: the one asked for with the batch, else a4-30mm).",
)
@click.option("--csv", "csv_path", type=click.Path(dir_okay=False), help="Also write serial,url,sheet,position.")
@click.option("--zip", "zip_path", type=click.Path(dir_okay=False), help="Also write one QR image per stamp.")
@click.option("--zip-format", type=click.Choice(["svg", "png"]), default="svg", show_default=True)
@click.option("--ecc", type=click.Choice(services.ECC_LEVELS), default="M", show_default=True, help="QR level.")
@with_appcontext
def print_command(
    batch_id: int,
    pdf_path: str,
    layout: str | None,
    csv_path: str | None,
    zip_path: str | None,
    zip_format: str,
    ecc: str,
) -> None:
    """Write an issued batch's stamps as a print-ready PDF (and printer files); mark issued stamps printed.

    Printing never issues stamps: a reprint gives the same stamps and byte-identical files.
    """
    config = current_app.config
    started = time.perf_counter()
    outputs = services.Outputs(
        pdf=Path(pdf_path),
        csv=Path(csv_path) if csv_path else None,
        zip=Path(zip_path) if zip_path else None,
        zip_format=zip_format,
    )
    session = get_session()
    try:
        batch = batches.batch_or_404(session, batch_id)
        chosen = services.layout_for(batch, layout)
        source = services.open_source(session, store_from_config(config), batch, config["PUBLIC_BASE_URL"])
        session.commit()  # end the read transaction: on SQLite it would hold off every writer while we print
        with _progress_bar(f"Batch {batch_id}") as progress:
            pending = services.write_files(
                source, outputs, layout=chosen, ecc=ecc, workers=int(config["PRINT_WORKERS"]), progress=progress
            )
        try:
            with transaction() as session:
                marked = services.record_printed(
                    session,
                    batches.batch_or_404(session, batch_id),
                    actor=operator(),
                    layout=chosen,
                    ecc=ecc,
                    hashes=pending.hashes(),
                )
        except BaseException:
            pending.discard()
            raise
        pending.install()
    except DomainError as error:
        session.rollback()
        fail(error)
    stats = pending.stats
    assert stats is not None
    sheets = f"{stats.sheets:,} sheet" + ("" if stats.sheets == 1 else "s")
    click.echo(
        f"Printed batch {batch_id}: {stats.stamps:,} stamps on {sheets} ({chosen.name}, "
        f"QR version {stats.qr_version}-{stats.ecc}, {stats.module_mm:.2f} mm modules) in "
        f"{time.perf_counter() - started:.2f} s."
    )
    for written in pending.files:
        click.echo(f"  {written.format:<8} {written.target}  sha256 {written.sha256}")
    click.echo(
        f"{marked:,} stamps marked printed."
        if marked
        else "No stamp changed state (already printed, activated or voided)."
    )
