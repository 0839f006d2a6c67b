"""An issued batch as the printer sees it: the checks before printing, its stamps signed again, the print recorded.

The pure core (sheets.py, printerfiles.py) turns PrintableStamps into bytes; open_source feeds it from a
batch. Signing runs in this process as a generator while the worker processes encode and lay out sheets,
so it overlaps with encoding and no batch is ever held in memory whole. Printing never issues stamps: the
same batch gives the same serials, the same codes and byte-identical files every time. runs.py puts the
steps together; outputs.py writes the files.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy.orm import Session

from traceability.audit import services as audit
from traceability.errors import ConfigurationError, Conflict, ValidationError
from traceability.i18n import N_
from traceability.printing.layouts import Layout
from traceability.printing.qrbatch import min_version
from traceability.printing.qrspec import symbol_size
from traceability.printing.sheets import PrintableStamp, check_prefix
from traceability.printing.sheettext import DEFAULT_LANGUAGE, check_language, sheet_text
from traceability.printing.sizing import LabelPlan, plan_label, with_scratch_box
from traceability.printing.stock import resolve_layout
from traceability.registry.models import Producer
from traceability.stamps import batches, scratch, serials
from traceability.stamps.codec import MAX_PREFIX_FOR_VERSION_6, TOKEN_DIGITS, URL_PATH, stamp_url
from traceability.stamps.export import NoScratchCodes
from traceability.stamps.keys import key_or_404
from traceability.stamps.keystore import KeyStore
from traceability.stamps.models import Batch, BatchStatus, KeyStatus, RangeState

DEFAULT_LAYOUT = "a4-30mm"
ECC_CHOICES = ("M", "Q")  # the levels a print may ask for; qrspec.ECC_LEVELS are all the standard defines
MAX_LABEL = 24  # characters: longer names shrink below a readable size on a 20 mm stamp


class BatchNotPrintable(Conflict):
    code = "batch_not_printable"


def check_layout(name: str, dpi: int | None = None) -> Layout:
    """Return the layout a name means (named, gLabels product or custom; dpi overrides), or raise UnknownLayout."""
    return resolve_layout(name, dpi)


def check_code_fits(layout: Layout, base_url: str | None, ecc: str = "M") -> LabelPlan:
    """Return where the batch's code goes on the layout's labels, or raise LabelTooSmall before anything is written.

    Without a base URL, the longest prefix that stamps allow stands for it (the largest code any of them makes).
    """
    prefix = stamp_url(base_url, "") if base_url else "https://" + "x" * (MAX_PREFIX_FOR_VERSION_6 - 11) + URL_PATH
    version = min_version(prefix.encode("ascii"), TOKEN_DIGITS, ecc)
    return plan_label(layout, symbol_size(version))


def check_ecc_choice(ecc: str) -> str:
    """Return the error-correction level asked for, or raise ValidationError unless it is one of ECC_CHOICES."""
    if ecc not in ECC_CHOICES:
        raise ValidationError(
            N_("error correction must be one of %(levels)s, not '%(ecc)s'"),
            field="ecc",
            params={"levels": ", ".join(ECC_CHOICES), "ecc": ecc},
        )
    return ecc


def stock_for(name: str, dpi: int | None = None, *, scratch_off: bool = False) -> Layout:
    """Return the layout a name means at dpi; a scratch-off batch's labels keep a scratch box free on every label.

    The box follows from the batch, not from the stored name, so a reprint draws it again.
    """
    layout = check_layout(name, dpi)
    return with_scratch_box(layout) if scratch_off else layout


def checked_stock(name: str, scratch_off: bool, base_url: str | None, dpi: int | None = None) -> str:
    """Return the name to store for stock a batch or job asks for, once its labels are known to hold the code.

    Raise UnknownLayout, LayoutInvalid or LabelTooSmall (field "layout") otherwise.
    """
    layout = stock_for(name, dpi, scratch_off=scratch_off)
    check_code_fits(layout, base_url)
    return layout.name


def layout_for(batch: Batch, requested: str | None = None, dpi: int | None = None) -> Layout:
    """Return the requested layout, else the one asked for with the batch, else the default; dpi overrides."""
    return stock_for(requested or batch.layout or DEFAULT_LAYOUT, dpi, scratch_off=batch.scratch_off)


def require_hidden_codes(batch: Batch) -> None:
    """Raise NoScratchCodes unless the batch was issued with scratch-off codes."""
    if not batch.scratch_off or batch.secret is None:
        raise NoScratchCodes(N_("batch %(batch)s has no scratch-off codes"), params={"batch": batch.id})


def stamp_label(producer: Producer) -> str:
    """Return the line printed under the stars: the producer's short name, else the province."""
    for text in (producer.short_name, producer.province):
        text = " ".join((text or "").split())
        if 0 < len(text) <= MAX_LABEL:
            return text
    return " ".join(producer.short_name.split())[: MAX_LABEL - 1].rstrip() + "…"


def batch_label(batch: Batch, language: str = DEFAULT_LANGUAGE) -> str:
    """Return the batch as the sheet margins and the run ticket name it: id, and lot if any."""
    return sheet_text(language, "lot", batch=batch.id, lot=batch.lot) if batch.lot else str(batch.id)


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
    language: str = DEFAULT_LANGUAGE

    @property
    def count(self) -> int:
        """Return the number of stamps in the batch."""
        return self.batch.quantity

    @property
    def url_prefix(self) -> str:
        """Return the part of every stamp's URL before its digits."""
        return stamp_url(self.base_url, "")

    def hidden_codes(self) -> Iterator[tuple[str, str]]:
        """Yield (serial, printed scratch-off code) of every stamp, or raise NoScratchCodes; for the printer only."""
        require_hidden_codes(self.batch)
        secret, batch_id = self.batch.secret or b"", self.batch.id
        for sequence in range(self.batch.quantity):
            code = scratch.printed(scratch.scratch_code(secret, sequence))
            yield serials.serial(batch_id, sequence, secret), code

    def stamps(self, start: int = 0, end: int | None = None) -> Iterator[PrintableStamp]:
        """Sign and yield the stamps [start, end), lazily."""
        prefix, stars, label = self.url_prefix, self.batch.stars or 0, self.label
        for issued in batches.stamps(self.batch, self.private_key, self.base_url, start, end):
            yield PrintableStamp(issued.serial, prefix, issued.token, stars, label)


def open_source(
    session: Session, store: KeyStore, batch: Batch, base_url: str, language: str = DEFAULT_LANGUAGE
) -> PrintSource:
    """Check that the batch may be printed and load what signing needs; fail before any output."""
    require_printable(batch)
    check_language(language)
    private_key = batches.signing_key_for(session, store, batch)
    try:
        check_prefix(stamp_url(base_url, ""))
    except ValueError:
        raise ConfigurationError(
            N_(
                "PUBLIC_BASE_URL must be https:// (http:// only in development) with a lowercase host to print"
                " stamps, not '%(url)s'"
            ),
            params={"url": base_url},
        ) from None
    return PrintSource(
        batch=_detached(batch),
        private_key=private_key,
        base_url=base_url,
        label=stamp_label(batch.product.producer),
        batch_label=batch_label(batch, language),
        creation_date=batch.issued_at,  # fixed for the batch: a reprint is byte-identical
        language=language,
    )


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
