"""A print run's files: where each format goes, and writing them under temporary names beside their targets.

Nothing appears under a target's name until the caller installs the files (each rename is atomic, after the
file's bytes reached the disk), and nothing is left behind when writing fails; what a killed process left
(`.NAME.*.part` beside the target, never under the target's name) the next run of the same files removes.
Each file signs the stamps again rather than keeping 100,000 tokens around: signing costs ~35 µs a stamp,
far less than the memory it would take to hold them.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, TypeVar

from traceability.errors import ValidationError
from traceability.i18n import N_
from traceability.printing.fonts import FontFiles
from traceability.printing.layouts import Layout
from traceability.printing.printerfiles import write_csv, write_hidden_codes, write_zip
from traceability.printing.services import PrintSource, check_code_fits, check_ecc_choice
from traceability.printing.sheets import PrintStats, write_pdf

# The order files are written in; "codes" is a scratch-off batch's hidden codes, a file of its own.
FORMATS = ("pdf", "csv", "zip-svg", "zip-png", "codes")
PROGRESS_STEP = 480  # stamps between progress calls while writing the CSV or ZIP

Progress = Callable[[int, int], None]  # (stamps done, stamps in all the files)
T = TypeVar("T")


class OutputNotWritable(ValidationError):
    code = "output_not_writable"


def check_formats(formats: Iterable[str]) -> tuple[str, ...]:
    """Return the formats in canonical order without repeats, or raise ValidationError."""
    wanted = set(formats)
    unknown = sorted(wanted - set(FORMATS))
    if unknown or not wanted:
        raise ValidationError(
            N_("formats must be some of %(formats)s; got %(unknown)s"),
            field="formats",
            params={"formats": ", ".join(FORMATS), "unknown": ", ".join(unknown) or "none"},
        )
    return tuple(f for f in FORMATS if f in wanted)


@dataclass(frozen=True)
class Outputs:
    """Where each requested file goes; None means the format is not wanted."""

    pdf: Path | None = None
    csv: Path | None = None
    zip: Path | None = None
    zip_format: str = "svg"
    codes: Path | None = None

    def targets(self) -> list[tuple[str, Path]]:
        """Return (format, path) for each wanted file, in the order they are written."""
        named = [("pdf", self.pdf), ("csv", self.csv), (f"zip-{self.zip_format}", self.zip), ("codes", self.codes)]
        return [(name, Path(path)) for name, path in named if path is not None]


def file_name(batch_id: int, layout: str, ecc: str, fmt: str) -> str:
    """Return the name under PRINT_DIR of one print file: the same request always maps to the same name."""
    extension = {"pdf": "pdf", "csv": "csv", "zip-svg": "svg.zip", "zip-png": "png.zip", "codes": "codes.csv"}[fmt]
    return f"batch-{batch_id}/batch-{batch_id}-{layout}-{ecc}.{extension}"


def outputs_under(directory: Path, batch_id: int, layout: str, ecc: str, formats: Iterable[str]) -> Outputs:
    """Return the outputs of a print job under PRINT_DIR."""
    wanted = check_formats(formats)
    zips = [f for f in wanted if f.startswith("zip-")]
    if len(zips) > 1:
        raise ValidationError(N_("ask for one ZIP format at a time (svg or png)"), field="formats")

    def path(fmt: str) -> Path:
        return directory / file_name(batch_id, layout, ecc, fmt)

    return Outputs(
        pdf=path("pdf") if "pdf" in wanted else None,
        csv=path("csv") if "csv" in wanted else None,
        zip=path(zips[0]) if zips else None,
        zip_format=zips[0].removeprefix("zip-") if zips else "svg",
        codes=path("codes") if "codes" in wanted else None,
    )


@dataclass(frozen=True)
class WrittenFile:
    format: str
    target: Path
    temporary: Path
    sha256: str
    size: int

    def record(self) -> dict[str, Any]:
        """Return what a print job keeps of the file."""
        return {"name": self.target.name, "sha256": self.sha256, "bytes": self.size}


@dataclass
class PendingFiles:
    """Finished files under temporary names beside their targets: install() or discard() them."""

    files: list[WrittenFile]
    stats: PrintStats | None  # of the PDF, if one was written

    def install(self) -> None:
        """Rename every file into place (each rename is atomic), then make the renames durable."""
        for written in self.files:
            os.replace(written.temporary, written.target)
        for directory in {written.target.parent for written in self.files}:
            _sync_directory(directory)

    def discard(self) -> None:
        """Remove the temporary files."""
        for written in self.files:
            written.temporary.unlink(missing_ok=True)

    def hashes(self) -> dict[str, str]:
        """Return format -> sha256."""
        return {w.format: w.sha256 for w in self.files}


def _distinct_targets(outputs: Outputs) -> list[tuple[str, Path]]:
    """Return the outputs' (format, path) pairs, or raise ValidationError if there are none or two share a file."""
    targets = outputs.targets()
    if not targets:
        raise ValidationError(N_("nothing to write: give at least one output file"))
    resolved = [path.resolve() for _, path in targets]
    if len(set(resolved)) != len(resolved):
        raise ValidationError(N_("each output needs its own file name"))
    return targets


TEMPORARY_SUFFIX = ".part"


def _temporary_prefix(target: Path) -> str:
    return f".{target.name}."


def remove_leftovers(outputs: Outputs) -> list[Path]:
    """Remove the temporary files a killed run of these outputs left beside their targets; return them."""
    removed = []
    for _, target in outputs.targets():
        if not target.parent.is_dir():
            continue
        prefix = _temporary_prefix(target)
        for path in target.parent.iterdir():
            if path.name.startswith(prefix) and path.name.endswith(TEMPORARY_SUFFIX):
                path.unlink(missing_ok=True)
                removed.append(path)
    return removed


def _sync_directory(directory: Path) -> None:
    """Flush a directory's entries (a rename) to disk, where the platform allows it."""
    try:
        descriptor = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(descriptor)
    except OSError:
        pass  # some file systems refuse fsync on a directory; the rename itself is still atomic
    finally:
        os.close(descriptor)


def _temporary_beside(target: Path) -> Path:
    """Create an empty temporary file in the target's directory, or raise OutputNotWritable."""
    try:
        handle, name = tempfile.mkstemp(dir=target.parent, prefix=_temporary_prefix(target), suffix=TEMPORARY_SUFFIX)
    except OSError as error:
        raise OutputNotWritable(
            N_("cannot write %(path)s: %(reason)s"),
            field=str(target),
            params={"path": str(target), "reason": error.strerror or str(error)},
        ) from None
    os.close(handle)
    return Path(name)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while block := handle.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


def _counted(stamps: Iterator[T], count: int, report: Progress) -> Iterator[T]:
    """Yield the stamps, reporting how many went by every PROGRESS_STEP and at the end."""
    done = 0
    for done, stamp in enumerate(stamps, start=1):
        yield stamp
        if done % PROGRESS_STEP == 0:
            report(done, count)
    report(done, count)


def _shifted(progress: Progress | None, offset: int, total: int) -> Progress:
    """Return one file's progress callback: its stamps counted after those of the files written before it."""

    def report(done: int, _count: int) -> None:
        if progress is not None:
            progress(offset + done, total)

    return report


@dataclass(frozen=True)
class _FileWriter:
    """Writes one format of a print source; the same for every file of a run."""

    source: PrintSource
    layout: Layout
    ecc: str
    workers: int
    fonts: FontFiles

    def write(self, fmt: str, out: BinaryIO, report: Progress) -> PrintStats | None:
        """Write the file of one format to out; return the PDF's statistics (None for the other formats)."""
        source, count = self.source, self.source.count
        if fmt == "pdf":
            return write_pdf(
                source.stamps(),
                out,
                layout=self.layout,
                fonts=self.fonts,
                batch_label=source.batch_label,
                count=count,
                ecc=self.ecc,
                workers=self.workers,
                creation_date=source.creation_date,
                progress=report,
                language=source.language,
            )
        if fmt == "codes":
            write_hidden_codes(_counted(source.hidden_codes(), count, report), out)
            return None
        stamps = _counted(source.stamps(), count, report)
        if fmt == "csv":
            write_csv(stamps, out, self.layout)
        else:
            plan = check_code_fits(self.layout, source.base_url, self.ecc)
            write_zip(
                stamps,
                out,
                "png" if fmt == "zip-png" else "svg",
                ecc=self.ecc,
                module_mm=plan.module_mm,
                module_px=max(1, round(plan.module_mm * 300 / 25.4)),  # the PNG says 300 dpi
            )
        return None


def write_files(
    source: PrintSource,
    outputs: Outputs,
    *,
    layout: Layout,
    fonts: FontFiles,
    ecc: str = "M",
    workers: int = 2,
    progress: Progress | None = None,
) -> PendingFiles:
    """Write the requested files under temporary names beside their targets; nothing is left on failure."""
    writer = _FileWriter(source, layout, check_ecc_choice(ecc), workers, fonts)
    targets = _distinct_targets(outputs)
    total = source.count * len(targets)
    temporaries: list[Path] = []
    written: list[WrittenFile] = []
    stats: PrintStats | None = None
    try:
        for _, target in targets:  # create all first: an unwritable path fails before seconds of work
            temporaries.append(_temporary_beside(target))
        for index, ((fmt, target), temporary) in enumerate(zip(targets, temporaries, strict=True)):
            with temporary.open("wb") as out:
                stats = writer.write(fmt, out, _shifted(progress, index * source.count, total)) or stats
                out.flush()
                os.fsync(out.fileno())  # the bytes are on disk before the rename can make the name point at them
            # mkstemp's 0600 stays: whoever holds these files can print genuine stamps, so they are
            # shared on purpose (download, copy), never left readable to every account on the machine.
            written.append(WrittenFile(fmt, target, temporary, _sha256(temporary), temporary.stat().st_size))
    except BaseException:
        for temporary in temporaries:
            temporary.unlink(missing_ok=True)
        raise
    return PendingFiles(written, stats)
