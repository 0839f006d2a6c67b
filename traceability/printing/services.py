"""Print an issued batch from the database: sign its stamps again, write the files atomically, record the print.

The pure core (sheets.py, printerfiles.py) turns PrintableStamps into bytes; this module feeds it from a
batch. Signing runs in this process as a generator while the worker processes encode and lay out sheets,
so it overlaps with encoding and no batch is ever held in memory whole. Printing never issues stamps: the
same batch gives the same serials, the same codes and byte-identical files every time.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy.orm import Session

from traceability.audit import services as audit
from traceability.errors import ConfigurationError, Conflict, ValidationError
from traceability.i18n import N_
from traceability.printing.layouts import LAYOUTS, Layout
from traceability.printing.printerfiles import write_csv, write_zip
from traceability.printing.qrbatch import min_version
from traceability.printing.qrspec import symbol_size
from traceability.printing.sheets import PrintableStamp, PrintStats, check_prefix, write_pdf
from traceability.registry.models import Producer
from traceability.stamps import batches
from traceability.stamps.codec import TOKEN_DIGITS, stamp_url
from traceability.stamps.keys import key_or_404
from traceability.stamps.keystore import KeyStore
from traceability.stamps.models import Batch, BatchStatus, KeyStatus, RangeState

DEFAULT_LAYOUT = "a4-30mm"
ECC_LEVELS = ("M", "Q")
FORMATS = ("pdf", "csv", "zip-svg", "zip-png")  # the order files are written in
MAX_LABEL = 24  # characters: longer names shrink below a readable size on a 20 mm stamp
PROGRESS_STEP = 480  # stamps between progress calls while writing the CSV or ZIP

Progress = Callable[[int, int], None]


class BatchNotPrintable(Conflict):
    code = "batch_not_printable"


class OutputNotWritable(ValidationError):
    code = "output_not_writable"


class PrintFileChanged(Conflict):
    """A reproduced file differs from the one first produced: refuse it rather than hand out another."""

    code = "print_file_changed"


def check_layout(name: str) -> Layout:
    """Return the layout called name, or raise ValidationError naming the valid ones."""
    layout = LAYOUTS.get(name)
    if layout is None:
        raise ValidationError(
            N_("unknown layout '%(name)s'; choose one of: %(layouts)s"),
            field="layout",
            params={"name": name, "layouts": ", ".join(sorted(LAYOUTS))},
        )
    return layout


def check_ecc(ecc: str) -> str:
    """Return the error-correction level, or raise ValidationError."""
    if ecc not in ECC_LEVELS:
        raise ValidationError(
            N_("error correction must be one of %(levels)s, not '%(ecc)s'"),
            field="ecc",
            params={"levels": ", ".join(ECC_LEVELS), "ecc": ecc},
        )
    return ecc


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


def layout_for(batch: Batch, requested: str | None = None) -> Layout:
    """Return the requested layout, else the one asked for with the batch, else the default."""
    return check_layout(requested or batch.layout or DEFAULT_LAYOUT)


def stamp_label(producer: Producer) -> str:
    """Return the line printed under the stars: the producer's short name, else the province."""
    for text in (producer.short_name, producer.province):
        text = " ".join((text or "").split())
        if 0 < len(text) <= MAX_LABEL:
            return text
    return " ".join(producer.short_name.split())[: MAX_LABEL - 1].rstrip() + "…"


def batch_label(batch: Batch) -> str:
    """Return the batch as the sheet margins and the run ticket name it: id, and lot if any."""
    return f"{batch.id} · lot {batch.lot}" if batch.lot else str(batch.id)


def require_printable(batch: Batch) -> None:
    """Raise BatchNotPrintable unless the batch is issued and not revoked."""
    reasons = {
        BatchStatus.REQUESTED: N_("batch %(batch)s has not been issued yet; approve the request first"),
        BatchStatus.REJECTED: N_("batch %(batch)s was rejected; it has no stamps"),
        BatchStatus.REVOKED: N_("batch %(batch)s is revoked; its stamps must not be printed"),
    }
    if batch.status in reasons:
        raise BatchNotPrintable(reasons[batch.status], params={"batch": batch.id})


def require_trusted_key(session: Session, batch: Batch) -> None:
    """Raise BatchNotPrintable if the key that signed the batch has since been marked compromised."""
    if batch.key_id is not None and key_or_404(session, batch.key_id).status is KeyStatus.COMPROMISED:
        raise BatchNotPrintable(
            N_("batch %(batch)s was signed by compromised key %(key)s; revoke and reissue it"),
            params={"batch": batch.id, "key": batch.key_id},
        )


def _detached(batch: Batch) -> Batch:
    """Return a copy of the batch's columns that belongs to no session.

    Printing 100,000 stamps takes seconds: the caller ends its transaction meanwhile (on SQLite an open one
    blocks every writer, progress updates included), and a copy can never lazy-load or expire mid-print.
    """
    return Batch(**{column.key: getattr(batch, column.key) for column in Batch.__table__.columns})


@dataclass(frozen=True)
class PrintSource:
    """An issued batch ready to print. The private key lives only in this object, in memory."""

    batch: Batch
    private_key: Ed25519PrivateKey = field(repr=False)
    base_url: str
    label: str
    batch_label: str
    creation_date: datetime | None

    @property
    def count(self) -> int:
        """Return the number of stamps in the batch."""
        return self.batch.quantity

    @property
    def url_prefix(self) -> str:
        """Return the part of every stamp's URL before its digits."""
        return stamp_url(self.base_url, "")

    def stamps(self, start: int = 0, end: int | None = None) -> Iterator[PrintableStamp]:
        """Sign and yield the stamps [start, end), lazily."""
        prefix, stars, label = self.url_prefix, self.batch.stars or 0, self.label
        for issued in batches.stamps(self.batch, self.private_key, self.base_url, start, end):
            yield PrintableStamp(issued.serial, prefix, issued.token, stars, label)


def open_source(session: Session, store: KeyStore, batch: Batch, base_url: str) -> PrintSource:
    """Check that the batch may be printed and load what signing needs; fail before any output."""
    require_printable(batch)
    private_key = batches.signing_key_for(session, store, batch)
    try:
        check_prefix(stamp_url(base_url, ""))
    except ValueError:
        raise ConfigurationError(
            f"PUBLIC_BASE_URL must be https:// (http:// only in development) with a lowercase host to print "
            f"stamps, not '{base_url}'"
        ) from None
    return PrintSource(
        batch=_detached(batch),
        private_key=private_key,
        base_url=base_url,
        label=stamp_label(batch.product.producer),
        batch_label=batch_label(batch),
        creation_date=batch.issued_at,  # fixed for the batch: a reprint is byte-identical
    )


@dataclass(frozen=True)
class Outputs:
    """Where each requested file goes; None means the format is not wanted."""

    pdf: Path | None = None
    csv: Path | None = None
    zip: Path | None = None
    zip_format: str = "svg"

    def targets(self) -> list[tuple[str, Path]]:
        """Return (format, path) for each wanted file, in the order they are written."""
        named = [("pdf", self.pdf), ("csv", self.csv), (f"zip-{self.zip_format}", self.zip)]
        return [(name, Path(path)) for name, path in named if path is not None]


def file_name(batch_id: int, layout: str, ecc: str, fmt: str) -> str:
    """Return the name under PRINT_DIR of one print file: the same request always maps to the same name."""
    extension = {"pdf": "pdf", "csv": "csv", "zip-svg": "svg.zip", "zip-png": "png.zip"}[fmt]
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
    stats: PrintStats | None
    layout: Layout
    ecc: str

    def install(self) -> None:
        """Rename every file into place (each rename is atomic)."""
        for written in self.files:
            os.replace(written.temporary, written.target)

    def discard(self) -> None:
        """Remove the temporary files."""
        for written in self.files:
            written.temporary.unlink(missing_ok=True)

    def hashes(self) -> dict[str, str]:
        """Return format -> sha256."""
        return {w.format: w.sha256 for w in self.files}


def _temporary_beside(target: Path) -> Path:
    """Create an empty temporary file in the target's directory, or raise OutputNotWritable."""
    try:
        handle, name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".part")
    except OSError as error:
        raise OutputNotWritable(f"cannot write {target}: {error.strerror or error}", field=str(target)) from None
    os.close(handle)
    return Path(name)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while block := handle.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


def _counted(stamps: Iterator[PrintableStamp], report: Callable[[int], None]) -> Iterator[PrintableStamp]:
    """Yield the stamps, reporting how many went by every PROGRESS_STEP and at the end."""
    count = 0
    for count, stamp in enumerate(stamps, start=1):
        yield stamp
        if count % PROGRESS_STEP == 0:
            report(count)
    report(count)


def write_files(
    source: PrintSource,
    outputs: Outputs,
    *,
    layout: Layout,
    ecc: str = "M",
    workers: int = 2,
    progress: Progress | None = None,
) -> PendingFiles:
    """Write the requested files under temporary names beside their targets; nothing is left on failure.

    Each file signs the stamps again rather than keeping 100,000 tokens around: signing costs ~35 µs a
    stamp, far less than the memory it would take to hold them.
    """
    ecc = check_ecc(ecc)
    targets = outputs.targets()
    if not targets:
        raise ValidationError(N_("nothing to write: give at least one output file"))
    resolved = [path.resolve() for _, path in targets]
    if len(set(resolved)) != len(resolved):
        raise ValidationError(N_("each output needs its own file name"))
    count, total = source.count, source.count * len(targets)
    temporaries: list[Path] = []
    written: list[WrittenFile] = []
    stats: PrintStats | None = None
    try:
        for _, target in targets:  # create all first: an unwritable path fails before seconds of work
            temporaries.append(_temporary_beside(target))
        for index, ((fmt, target), temporary) in enumerate(zip(targets, temporaries, strict=True)):
            offset = index * count

            def report(done: int, _total: int = count, offset: int = offset) -> None:
                if progress is not None:
                    progress(offset + done, total)

            with temporary.open("wb") as out:
                if fmt == "pdf":
                    stats = write_pdf(
                        source.stamps(),
                        out,
                        layout=layout,
                        batch_label=source.batch_label,
                        count=count,
                        ecc=ecc,
                        workers=workers,
                        creation_date=source.creation_date,
                        progress=report,
                    )
                elif fmt == "csv":
                    write_csv(_counted(source.stamps(), report), out, layout)
                else:
                    version = min_version(source.url_prefix.encode("ascii"), TOKEN_DIGITS, ecc)
                    module_mm = layout.module_mm_for(symbol_size(version))
                    stamps = _counted(source.stamps(), report)
                    if fmt == "zip-png":
                        write_zip(stamps, out, "png", ecc=ecc, module_mm=module_mm)
                    else:
                        write_zip(stamps, out, "svg", ecc=ecc, module_mm=module_mm)
            # mkstemp's 0600 stays: whoever holds these files can print genuine stamps, so they are
            # shared on purpose (download, copy), never left readable to every account on the machine.
            written.append(WrittenFile(fmt, target, temporary, _sha256(temporary), temporary.stat().st_size))
    except BaseException:
        for temporary in temporaries:
            temporary.unlink(missing_ok=True)
        raise
    return PendingFiles(written, stats, layout, ecc)


def record_printed(
    session: Session, batch: Batch, *, actor: str, layout: Layout, ecc: str, hashes: dict[str, str]
) -> int:
    """Mark the batch's issued stamps as printed and log the print; return how many stamps changed state.

    Activated, voided and already printed stamps keep their state: a reprint changes nothing but the log.
    """
    require_printable(batch)
    issued = [(r.start, r.end) for r in batch.ranges if r.state is RangeState.ISSUED]
    for start, end in issued:
        batch = batches.change_range(session, batch, start, end, RangeState.PRINTED, actor=actor, reason="printed")
    audit.record(
        session,
        actor,
        "batch.print_files",
        f"batch:{batch.id}",
        after={"layout": layout.name, "ecc": ecc, "sha256": hashes},
    )
    return sum(end - start for start, end in issued)
