"""Online verification: the offline checks plus what only the registry knows about a stamp."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy.orm import Session

from traceability.registry import certification_rules
from traceability.registry.models import Certification, Product
from traceability.registry.services import current_certification
from traceability.stamps import serials
from traceability.stamps.batches import state_of
from traceability.stamps.keys import keyring
from traceability.stamps.models import Batch, BatchStatus, RangeState
from traceability.verification.verdicts import Outcome, Verdict, check_offline


@dataclass
class Verification:
    """An outcome with the registry records behind a trusted code (None for untrusted ones)."""

    outcome: Outcome
    batch: Batch | None = None
    product: Product | None = None
    certification: Certification | None = None
    state: RangeState | None = None

    @property
    def verdict(self) -> Verdict:
        """Return the worst finding."""
        return self.outcome.verdict


def verify_code(session: Session, text: str, today: date) -> Verification:
    """Verify a scanned or typed code against the published keys and the registry."""
    outcome = check_offline(text, keyring(session), today)
    if not outcome.trusted:
        return Verification(outcome)
    assert outcome.parsed is not None
    body = outcome.parsed.body
    # The date in the stamp is what an offline verifier sees; online the registry knows better
    # (a renewed certificate keeps older stamps good), so the finding is decided again below.
    outcome.findings.pop(Verdict.CERTIFICATE_EXPIRED, None)
    batch = session.get(Batch, body.batch_id)
    if (
        batch is None
        or batch.secret is None
        or batch.status is BatchStatus.REQUESTED
        or body.sequence >= batch.quantity
        or body.product_ref != batch.product_id
        or body.key_id != batch.key_id
        or body.nonce != serials.nonce(batch.secret, body.sequence)
    ):
        # A valid signature over a stamp we never issued means the key was misused.
        outcome.add(Verdict.FORGED, "this code carries a valid signature but was never issued: report it")
        outcome.parsed = None
        return Verification(outcome)
    return Verification(outcome, *_registry_findings(outcome, batch, body.sequence, today))


def _registry_findings(
    outcome: Outcome, batch: Batch, sequence: int, today: date
) -> tuple[Batch, Product, Certification | None, RangeState | None]:
    state = state_of(batch, sequence)
    if batch.status is BatchStatus.REVOKED:
        outcome.add(Verdict.REVOKED, f"the whole batch was withdrawn: {batch.revocation_reason or 'no reason given'}")
    if state is RangeState.REVOKED:
        outcome.add(Verdict.REVOKED, "this stamp was revoked by the programme office")
    elif state is RangeState.VOIDED:
        outcome.add(Verdict.REVOKED, "this stamp was voided (reported damaged or lost before use)")
    elif state in (RangeState.ISSUED, RangeState.PRINTED):
        outcome.add(
            Verdict.NOT_ACTIVATED,
            "this stamp was never applied to goods by the producer: it may have been stolen from the print run",
        )
    product = batch.product
    certification = current_certification(product, today)
    if certification is None:
        latest = batch.certification
        status = certification_rules.effective_status(latest, today).value if latest else "missing"
        outcome.add(
            Verdict.CERTIFICATE_EXPIRED,
            f"the product no longer holds its OCOP certification (status: {status})",
        )
    return batch, product, certification or batch.certification, state
