"""Print an issued batch: the one print path behind `traceability batch print`, the web's print jobs and the benchmark.

A run spans transactions, so unlike the services it takes a way to open them rather than a session: one
reads the batch and its signing key, and ends before seconds of printing (on SQLite an open transaction
holds off every writer, a job's progress updates included); the next marks the stamps printed and logs the
print with the files' sha256. The files are written under temporary names and renamed into place just
before that commit: if the commit fails, they are exactly what a retry writes, and if writing or recording
fails, no file appears and no stamp changes state.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass

from sqlalchemy.orm import Session

from traceability.errors import Conflict
from traceability.i18n import N_
from traceability.printing.fonts import FontFiles
from traceability.printing.layouts import Layout
from traceability.printing.outputs import Outputs, PendingFiles, Progress, WrittenFile, write_files
from traceability.printing.services import (
    check_code_fits,
    layout_for,
    open_source,
    record_printed,
    require_hidden_codes,
)
from traceability.printing.sheets import PrintStats
from traceability.printing.sheettext import DEFAULT_LANGUAGE
from traceability.stamps import batches
from traceability.stamps.keystore import KeyStore

# Opens a transaction: yields a session, commits when the block ends cleanly and rolls back on an error
# (db.transaction for the command's session, sessionmaker.begin for a job's own sessions).
Transactions = Callable[[], AbstractContextManager[Session]]
# Called in the transaction that marks the stamps printed, before it commits (a job records its files).
OnRecorded = Callable[[Session, list[WrittenFile]], None]


class PrintFileChanged(Conflict):
    """A reproduced file differs from the one first produced: refuse it rather than hand out another."""

    code = "print_file_changed"


@dataclass(frozen=True)
class PrintSettings:
    """What a run takes from the configuration: the URL on the stamps, the worker processes, the fonts."""

    base_url: str
    workers: int
    fonts: FontFiles


@dataclass(frozen=True)
class PrintedBatch:
    """What a run produced: the files (installed), the PDF's statistics, how many stamps became printed."""

    batch_id: int
    layout: Layout
    ecc: str
    files: list[WrittenFile]
    stats: PrintStats | None
    marked: int


def _check_reproduced(batch_id: int, pending: PendingFiles, expected: Mapping[str, str]) -> None:
    """Raise PrintFileChanged if a file's sha256 differs from the one recorded when it was first produced."""
    changed = sorted(fmt for fmt, sha in pending.hashes().items() if expected.get(fmt, sha) != sha)
    if changed:
        raise PrintFileChanged(
            N_(
                "reproducing batch %(batch)s gave a different %(formats)s file than the first time; the kept file"
                " was not replaced (report this)"
            ),
            params={"batch": batch_id, "formats": ", ".join(changed)},
        )


def print_batch(
    transactions: Transactions,
    store: KeyStore,
    batch_id: int,
    outputs: Outputs,
    *,
    settings: PrintSettings,
    actor: str,
    layout: str | None = None,
    dpi: int | None = None,
    ecc: str = "M",
    language: str = DEFAULT_LANGUAGE,
    progress: Progress | None = None,
    expected: Mapping[str, str] | None = None,
    on_recorded: OnRecorded | None = None,
) -> PrintedBatch:
    """Write an issued batch's files, mark its issued stamps printed and install the files; nothing on failure.

    layout None means the one asked for with the batch (a name may end in "@DPI"; dpi overrides); expected maps formats
    to the sha256 a reproduction must have; language is the sheets' (sheettext.LANGUAGES).
    """
    with transactions() as session:
        batch = batches.batch_or_404(session, batch_id)
        chosen = layout_for(batch, layout, dpi)
        if outputs.pdf is not None or outputs.zip is not None:  # a CSV of placements needs no room for the code
            check_code_fits(chosen, settings.base_url, ecc)
        if outputs.codes is not None:  # refused before anything is written, not half-way
            require_hidden_codes(batch)
        source = open_source(session, store, batch, settings.base_url, language)
    pending = write_files(
        source, outputs, layout=chosen, fonts=settings.fonts, ecc=ecc, workers=settings.workers, progress=progress
    )
    try:
        _check_reproduced(batch_id, pending, expected or {})
        with transactions() as session:
            batch = batches.batch_or_404(session, batch_id)
            marked = record_printed(session, batch, actor=actor, layout=chosen, ecc=ecc, hashes=pending.hashes())
            if on_recorded is not None:
                on_recorded(session, pending.files)
            pending.install()
    except BaseException:
        pending.discard()
        raise
    return PrintedBatch(batch_id, chosen, ecc, pending.files, pending.stats, marked)
