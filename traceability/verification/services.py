"""Online verification: the offline checks plus what only the registry knows about a stamp."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import Integer, Select, bindparam, case, func, select
from sqlalchemy.orm import Session

from traceability.config import normalise_base_url
from traceability.errors import NotFound, ValidationError
from traceability.i18n import N_
from traceability.ledger.models import LedgerCheckpoint, LedgerRecord
from traceability.registry import certification_rules
from traceability.registry.models import Certification, Product
from traceability.registry.services import current_certification
from traceability.stamps import serials
from traceability.stamps.batches import serial_of
from traceability.stamps.models import Batch, BatchStatus, RangeState, StampRange
from traceability.stamps.signing import TrustedKey
from traceability.verification import claims, clones, facts, scans
from traceability.verification.models import Channel, Scan
from traceability.verification.verdicts import NOT_ACTIVATED_REASON, Outcome, Verdict, check_signed

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


@dataclass(frozen=True, slots=True)
class StampRow:
    """What a verification reads fresh about one stamp, in one statement: never cached, it may change any time."""

    batch: Batch
    state: RangeState | None  # the state of the range holding the stamp (None: no range holds it)
    ledger: LedgerPosition | None
    summary: scans.ScanSummary  # the stamp's camera scans before this look-up
    claim: claims.ClaimRecord


def _stamp_statement() -> Select[Any]:
    """Build read_stamp's statement once, over the parameters batch_id and sequence."""
    batch_id, sequence = bindparam("batch_id", type_=Integer), bindparam("sequence", type_=Integer)
    held = (
        select(case((StampRange.end > sequence, StampRange.state)))
        .where(StampRange.batch_id == batch_id, StampRange.start <= sequence)
        .order_by(StampRange.start.desc())
        .limit(1)
        .scalar_subquery()
    )
    entry = select(LedgerRecord.leaf_index).where(LedgerRecord.batch_id == batch_id).scalar_subquery()
    tree_size = select(func.max(LedgerCheckpoint.tree_size)).scalar_subquery()
    claim = claims.ScratchClaim
    mine = (claim.batch_id == batch_id, claim.sequence == sequence)
    first_claim = select(claim).where(*mine).order_by(claim.claimed_at, claim.id).limit(1)
    return select(
        Batch,
        held,
        entry,
        tree_size,
        *scans.summary_columns(batch_id, sequence),
        select(func.count(claim.id)).where(*mine).scalar_subquery(),
        first_claim.with_only_columns(claim.claimed_at).scalar_subquery(),
        first_claim.with_only_columns(claim.province_code).scalar_subquery(),
    ).where(Batch.id == batch_id)


# Built once: building and keying a statement of a dozen subqueries costs more than running it.
STAMP_STATEMENT = _stamp_statement()


def read_stamp(session: Session, batch_id: int, sequence: int) -> StampRow | None:
    """Return a stamp's batch, range state, ledger position, scan summary and claims, or None for no batch.

    One round trip of indexed look-ups: the range holding the stamp by (batch_id, start) as range_at reads it,
    the batch's ledger entry and the latest checkpoint, the stamp's scans by ix_scans_stamp and its claims by
    ix_scratch_claims_stamp.
    """
    if batch_id > MAX_STORED_BATCH_ID:
        return None
    found = session.execute(STAMP_STATEMENT, {"batch_id": batch_id, "sequence": sequence}).first()
    if found is None:
        return None
    batch, state, index, size, *summary, claim_count, claimed_at, claim_province = found
    return StampRow(
        batch,
        state,
        LedgerPosition(index, size) if index is not None and size is not None else None,
        scans.summary_of(*summary),
        claims.ClaimRecord(claim_count or 0, claimed_at, claim_province),
    )


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
    read: StampRow | None = field(default=None, repr=False)  # what read_stamp found, for assess

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
    ring = facts.trusted_keys(session)
    outcome = check_signed(text, ring, today, prefixes)
    if not outcome.trusted:
        return Verification(outcome)
    assert outcome.parsed is not None
    body = outcome.parsed.body
    # The date in the stamp is what an offline verifier sees; online the registry knows better
    # (a renewed certificate keeps older stamps good), so the finding is decided again below.
    outcome.findings.pop(Verdict.CERTIFICATE_EXPIRED, None)
    row = read_stamp(session, body.batch_id, body.sequence)
    batch = row.batch if row is not None else None
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
    assert row is not None
    _check_compromise(outcome, ring[body.key_id], batch)
    return _found(session, outcome, row, body.sequence, today)


def verify_serial(session: Session, text: str, today: date) -> Verification:
    """Look up a typed serial: the stamp's status, without any proof that a label is genuine."""
    try:
        batch_id, sequence, check = serials.parse_serial(text)
    except ValueError as error:
        raise ValidationError(serials.SERIAL_FORMAT, field="serial") from error
    row = read_stamp(session, batch_id, sequence)
    batch = row.batch if row is not None else None
    if (
        batch is None
        or batch.secret is None
        or batch.status is BatchStatus.REQUESTED
        or not 0 <= sequence < batch.quantity
        or serials.check_code(batch.secret, sequence) != check
    ):
        raise SerialNotFound(N_("no stamp has this serial: check each character against the label"))
    assert row is not None
    outcome = Outcome()
    key = facts.trusted_keys(session).get(batch.key_id) if batch.key_id else None
    if key:
        _check_compromise(outcome, key, batch)
    return _found(session, outcome, row, sequence, today, by_serial=True)


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
    *,
    evidence: bool = True,
) -> Verification:
    """Add the scan summary, clone flags (with `evidence`: for inspectors) and record the scan if asked.

    Scan patterns never change the verdict: anyone can load a page from many networks or tell any province,
    so a pattern is evidence for inspectors, not an accusation a saboteur could raise against an honest
    producer. Only strong evidence speaks publicly (claims.repeat_claim: a scratch-off code claimed twice).
    Typed serials are recorded apart: never counted as scans of the label, but many devices typing one
    serial is a flag of its own (labels with a damaged QR and a copied serial). The public page and API never
    show clone flags, so they pass evidence=False and skip reading the stamp's scan history.
    """
    stamp = result.stamp
    read = result.read
    if stamp is not None:
        if evidence:
            seen = scans.history(session, *stamp)
            if record is not None:
                seen.append(
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
            result.clone_flags = clones.assess(seen, limits, activated=result.state is RangeState.ACTIVATED)
        if result.batch and result.batch.scratch_off:
            result.claim = read.claim if read is not None else claims.first_claims(session, *stamp)
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
        if read is None:
            result.scan_summary = scans.summary(session, *stamp)
        elif result.scan is not None and record is not None and record.channel is not Channel.SERIAL:
            result.scan_summary = scans.with_scan(read.summary, result.scan)  # what summary() would now read
        else:
            result.scan_summary = read.summary
    return result


def verify_and_assess(
    session: Session,
    text: str,
    today: date,
    limits: clones.Thresholds,
    record: ScanContext | None = None,
    prefixes: Collection[str] | None = None,
    *,
    evidence: bool = True,
) -> Verification:
    """Verify a code, summarise its scans (judging them for copies with `evidence`), record this scan if asked."""
    return assess(session, verify_code(session, text, today, prefixes), text, limits, record, evidence=evidence)


def _check_compromise(outcome: Outcome, key: TrustedKey, batch: Batch) -> None:
    """Revoke a compromised key's stamps unless their batch was issued strictly before the compromise.

    The batch's issue time (equal to its ledger entry's) decides, never its id: ids are given at request time.
    """
    if not key.trusts_issue(batch.issued_at):
        when = key.compromised_at.isoformat() if key.compromised_at else "an unknown time"
        reason = f"key {key.key_id} was compromised at {when}; batch {batch.id} was not issued before"
        outcome.add(Verdict.REVOKED, reason)


def _found(
    session: Session, outcome: Outcome, row: StampRow, sequence: int, today: date, *, by_serial: bool = False
) -> Verification:
    """Add what the registry says of an issued stamp to its outcome."""
    batch, state = row.batch, row.state
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
            NOT_ACTIVATED_REASON,
        )
    product = facts.product_facts(session, batch.product_id)
    assert product is not None  # batches.product_id is a foreign key
    certification = current_certification(product, today)
    issued_under = _issued_under(session, product, batch.certification_id)
    if certification is None:
        latest = issued_under
        status = certification_rules.effective_status(latest, today).value if latest else "missing"
        outcome.add(
            Verdict.CERTIFICATE_EXPIRED,
            f"the product no longer holds its OCOP certification (status: {status})",
        )
    return Verification(
        outcome,
        batch,
        product,
        certification or issued_under,
        state,
        sequence=sequence,
        by_serial=by_serial,
        ledger=row.ledger,
        read=row,
    )


def _issued_under(session: Session, product: Product, certification_id: int | None) -> Certification | None:
    """Return the certification a batch was issued under: one of its product's, already loaded."""
    if certification_id is None:
        return None
    for certification in product.certifications:
        if certification.id == certification_id:
            return certification
    return session.get(Certification, certification_id)  # another product's: not expected, still honoured
