"""Online verification: the offline checks plus what only the registry knows about a stamp."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy.orm import Session

from traceability.config import normalise_base_url
from traceability.errors import NotFound, ValidationError
from traceability.i18n import N_
from traceability.ledger import services as ledger
from traceability.registry import certification_rules
from traceability.registry.models import Certification, Product
from traceability.registry.services import current_certification
from traceability.stamps import serials
from traceability.stamps.batches import serial_of
from traceability.stamps.keys import keyring, trusted_key
from traceability.stamps.models import Batch, BatchStatus, RangeState, SigningKey
from traceability.stamps.range_rows import range_at
from traceability.stamps.signing import TrustedKey
from traceability.verification import claims, clones, scans
from traceability.verification.models import Channel, Scan
from traceability.verification.verdicts import Outcome, Verdict, check_signed

# A stamp's u32 may name batch ids no database row can have: PostgreSQL's INTEGER stops at 2**31 - 1, and
# asking it for more is an error (a 500), not "no such batch".
MAX_STORED_BATCH_ID = 2**31 - 1


class SerialNotFound(NotFound):
    """No issued stamp has this serial (a wrong check code reads the same, so serials cannot be probed)."""

    code = "serial_not_found"


def own_prefixes(config: Mapping[str, Any]) -> frozenset[str]:
    """Return the URL prefixes of our stamps: PUBLIC_BASE_URL and the former ones in STAMP_URL_PREFIXES."""
    base = str(config["PUBLIC_BASE_URL"])
    former = config.get("STAMP_URL_PREFIXES", [base])
    former = [former] if isinstance(former, str) else former  # one prefix given as a plain string
    return frozenset(normalise_base_url(str(prefix)) for prefix in [base, *former])


@dataclass(frozen=True, slots=True)
class LedgerPosition:
    """Where a batch sits in the public ledger: its entry's index and the size of the latest checkpoint."""

    index: int
    tree_size: int


def ledger_position(session: Session, batch_id: int) -> LedgerPosition | None:
    """Return a batch's ledger entry index and the current tree size, or None if the batch has no entry."""
    record = ledger.entry_for_batch(session, batch_id)
    checkpoint = ledger.latest_checkpoint(session) if record is not None else None
    if record is None or checkpoint is None:
        return None
    return LedgerPosition(record.leaf_index, checkpoint.tree_size)


@dataclass
class Verification:
    """An outcome with the registry records behind a trusted code (None for untrusted ones)."""

    outcome: Outcome
    batch: Batch | None = None
    product: Product | None = None
    certification: Certification | None = None
    state: RangeState | None = None
    sequence: int | None = None
    by_serial: bool = False  # looked up from a typed serial: the label itself proved nothing
    clone_flags: list[clones.CloneFlag] = field(default_factory=list)
    scan_summary: scans.ScanSummary | None = None
    scan: Scan | None = None  # the scan this look-up recorded, if it recorded one
    claim: claims.ClaimRecord | None = None  # a scratch-off stamp's claims (None: no scratch-off code)
    ledger: LedgerPosition | None = None  # the batch's entry in the public ledger (None: not in it)

    @property
    def stamp(self) -> tuple[int, int] | None:
        """Return (batch id, sequence) of an issued stamp, or None."""
        return (self.batch.id, self.sequence) if self.batch is not None and self.sequence is not None else None

    @property
    def serial(self) -> str | None:
        """Return the printed serial of an issued stamp."""
        if self.batch is None or self.sequence is None:
            return None
        return serial_of(self.batch, self.sequence)

    @property
    def verdict(self) -> Verdict:
        """Return the worst finding."""
        return self.outcome.verdict


def verify_code(session: Session, text: str, today: date, prefixes: Collection[str] | None = None) -> Verification:
    """Verify a scanned or typed code against the published keys and the registry.

    A URL is checked against `prefixes`, the service's own addresses (None: not checked).
    """
    ring = keyring(session)
    outcome = check_signed(text, ring, today, prefixes)
    if not outcome.trusted:
        return Verification(outcome)
    assert outcome.parsed is not None
    body = outcome.parsed.body
    # The date in the stamp is what an offline verifier sees; online the registry knows better
    # (a renewed certificate keeps older stamps good), so the finding is decided again below.
    outcome.findings.pop(Verdict.CERTIFICATE_EXPIRED, None)
    batch = session.get(Batch, body.batch_id) if body.batch_id <= MAX_STORED_BATCH_ID else None
    if (
        batch is None
        or batch.secret is None
        or batch.status is BatchStatus.REQUESTED
        or body.sequence >= batch.quantity
        or body.product_ref != batch.product_id
        or body.key_id != batch.key_id
        or body.stars != batch.stars
        or body.valid_until_month != batch.valid_until_month
        or body.nonce != serials.nonce(batch.secret, body.sequence)
    ):
        # A valid signature over a stamp we never issued means the key was misused.
        outcome.add(Verdict.FORGED, "this code carries a valid signature but was never issued: report it")
        outcome.parsed = None
        return Verification(outcome)
    _check_compromise(outcome, ring[body.key_id], batch)
    found = _registry_findings(session, outcome, batch, body.sequence, today)
    return Verification(outcome, *found, sequence=body.sequence, ledger=ledger_position(session, batch.id))


def verify_serial(session: Session, text: str, today: date) -> Verification:
    """Look up a typed serial: the stamp's status, without any proof that a label is genuine."""
    try:
        batch_id, sequence, check = serials.parse_serial(text)
    except ValueError as error:
        raise ValidationError(serials.SERIAL_FORMAT, field="serial") from error
    batch = session.get(Batch, batch_id) if batch_id <= MAX_STORED_BATCH_ID else None
    if (
        batch is None
        or batch.secret is None
        or batch.status is BatchStatus.REQUESTED
        or not 0 <= sequence < batch.quantity
        or serials.check_code(batch.secret, sequence) != check
    ):
        raise SerialNotFound(N_("no stamp has this serial: check each character against the label"))
    outcome = Outcome()
    key = batch.key_id and session.get(SigningKey, batch.key_id)
    if key:
        _check_compromise(outcome, trusted_key(key), batch)
    found = _registry_findings(session, outcome, batch, sequence, today)
    return Verification(outcome, *found, sequence=sequence, by_serial=True, ledger=ledger_position(session, batch.id))


@dataclass(frozen=True)
class ScanContext:
    """Who is looking (a salted device hash), how and when: given when the look-up is to be recorded."""

    channel: Channel
    device: scans.Device
    at: datetime


def assess(
    session: Session,
    result: Verification,
    text: str,
    limits: clones.Thresholds,
    record: ScanContext | None = None,
) -> Verification:
    """Add clone flags (evidence for inspectors) and the scan summary; record the scan if asked.

    Scan patterns never change the verdict: anyone can load a page from many networks or tell any province,
    so a pattern is evidence for inspectors, not an accusation a saboteur could raise against an honest
    producer. Only strong evidence speaks publicly (claims.repeat_claim: a scratch-off code claimed twice).
    Typed serials are recorded apart: never counted as scans of the label, but many devices typing one
    serial is a flag of its own (labels with a damaged QR and a copied serial).
    """
    stamp = result.stamp
    if stamp is not None:
        facts = scans.history(session, *stamp)
        if record is not None:
            facts.append(
                clones.ScanFact(
                    record.at,
                    record.device.fingerprint,
                    record.device.period,
                    None,
                    Verdict.NOT_ACTIVATED in result.outcome.findings,
                    network=record.device.network,
                    typed=result.by_serial,
                )
            )
        result.clone_flags = clones.assess(facts, limits, activated=result.state is RangeState.ACTIVATED)
        result.claim = claims.first_claims(session, *stamp) if result.batch and result.batch.scratch_off else None
        if result.claim is not None and result.claim.repeated:
            result.outcome.add(Verdict.SUSPICIOUS, "this stamp's scratch-off code was claimed more than once")
    if record is not None:
        result.scan = scans.record_scan(
            session,
            channel=record.channel,
            flags=result.outcome.flags,
            device=record.device,
            at=record.at,
            text=text,
            stamp=stamp,
        )
    if stamp is not None:
        result.scan_summary = scans.summary(session, *stamp)
    return result


def verify_and_assess(
    session: Session,
    text: str,
    today: date,
    limits: clones.Thresholds,
    record: ScanContext | None = None,
    prefixes: Collection[str] | None = None,
) -> Verification:
    """Verify a code, judge its scan history for copies, and record this scan if `record` is given."""
    return assess(session, verify_code(session, text, today, prefixes), text, limits, record)


def _check_compromise(outcome: Outcome, key: TrustedKey, batch: Batch) -> None:
    """Revoke a compromised key's stamps unless their batch was issued strictly before the compromise.

    The batch's issue time (equal to its ledger entry's) decides, never its id: ids are given at request time.
    """
    if not key.trusts_issue(batch.issued_at):
        when = key.compromised_at.isoformat() if key.compromised_at else "an unknown time"
        reason = f"key {key.key_id} was compromised at {when}; batch {batch.id} was not issued before"
        outcome.add(Verdict.REVOKED, reason)


def _registry_findings(
    session: Session, outcome: Outcome, batch: Batch, sequence: int, today: date
) -> tuple[Batch, Product, Certification | None, RangeState | None]:
    held = range_at(session, batch.id, sequence)  # the one range holding the stamp, not all of the batch's
    state = held.state if held is not None else None
    if batch.status is BatchStatus.REVOKED:
        # The reason given is staff-only: it may name people, shops or suspicions.
        outcome.add(Verdict.REVOKED, "the whole batch was withdrawn by the programme office")
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
