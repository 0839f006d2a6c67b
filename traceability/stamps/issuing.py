"""The programme office's direct issue from the command line: a batch for a product code, signed at once, and
the CSV of its stamps staged until the caller commits."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy.orm import Session

from traceability.registry.services import product_or_404
from traceability.stamps import batches, export
from traceability.stamps.batches import BatchOptions
from traceability.stamps.keystore import KeyStore
from traceability.stamps.models import Batch


@dataclass(frozen=True)
class DirectIssue:
    batch: Batch
    csv: export.StagedCsv | None  # None when no CSV was asked for


def issue_batch(
    session: Session,
    store: KeyStore,
    product_code: str,
    quantity: int,
    options: BatchOptions,
    *,
    actor: str,
    maximum: int,
    today: date,
    activate: bool,
    base_url: str,
    csv_path: str | None,
    ledger_origin: str | None = None,
) -> DirectIssue:
    """Request, issue and sign a batch of a certified product; stage its CSV at csv_path if one is given."""
    product = product_or_404(session, product_code)
    batch = batches.issue_direct(
        session,
        store,
        product,
        quantity,
        options,
        actor=actor,
        maximum=maximum,
        today=today,
        activate=activate,
        ledger_origin=ledger_origin,
    )
    staged = export.stage_csv(session, store, batch, base_url, csv_path) if csv_path else None
    return DirectIssue(batch, staged)
