"""Verdicts on a scanned code, and the offline check that needs only published keys and the ledger. Pure."""

from __future__ import annotations

import enum
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import date
from urllib.parse import urlsplit

from traceability.ledger.snapshot import LedgerSnapshot
from traceability.stamps import codec
from traceability.stamps.signing import KeyRing, SignatureCheck, TrustedKey, check_signature

# The reason a not-activated stamp gives online and offline. The usual cause is a producer who has not
# activated the stamps yet; a stamp taken from the print run unapplied is the rarer one, so both are said.
NOT_ACTIVATED_REASON = (
    "the producer has not activated this stamp yet: usually the goods are not on sale yet; on goods in a shop, "
    "it may have left the print run unapplied: report it"
)


class Verdict(enum.Enum):
    """What a code means for the shopper, worst first (the order is the severity order)."""

    MALFORMED = "malformed"
    FORGED = "forged"
    UNKNOWN_KEY = "unknown_key"
    REVOKED = "revoked"
    CERTIFICATE_EXPIRED = "certificate_expired"
    NOT_ACTIVATED = "not_activated"
    SUSPICIOUS = "suspicious"
    GENUINE = "genuine"

    @property
    def severity(self) -> int:
        """Return the rank of this verdict: 0 is the worst."""
        return list(Verdict).index(self)


# Verdicts after which nothing from the registry may be shown: the code proves nothing.
UNTRUSTED = frozenset({Verdict.MALFORMED, Verdict.FORGED, Verdict.UNKNOWN_KEY})


@dataclass
class Outcome:
    """Every finding on a code; `verdict` is the worst of them, or genuine when there are none."""

    findings: dict[Verdict, str] = field(default_factory=dict)
    parsed: codec.ParsedToken | None = None

    def add(self, verdict: Verdict, reason: str) -> None:
        """Record a finding (the first reason for a verdict wins)."""
        self.findings.setdefault(verdict, reason)

    @property
    def verdict(self) -> Verdict:
        """Return the worst finding."""
        return min(self.findings, key=lambda v: v.severity, default=Verdict.GENUINE)

    @property
    def flags(self) -> list[Verdict]:
        """Return all findings, worst first; [genuine] when there are none."""
        return sorted(self.findings, key=lambda v: v.severity) or [Verdict.GENUINE]

    @property
    def trusted(self) -> bool:
        """Say whether the code is our genuine signature, so registry data may be shown."""
        return self.parsed is not None and not (self.findings.keys() & UNTRUSTED)


def check_signed(text: str, keys: KeyRing, today: date, prefixes: Collection[str] | None = None) -> Outcome:
    """Check what a code proves by itself: format, signature, certificate date and, given the service's own URL
    prefixes, where a URL points. A compromised key's signature passes here: callers decide its trust from the
    batch's issue time (the registry online, the ledger offline)."""
    outcome = Outcome()
    try:
        parsed = codec.parse(text)
    except codec.TokenRejected as rejection:
        outcome.add(Verdict.MALFORMED, rejection.reason)
        return outcome
    signature = check_signature(parsed, keys)
    if signature is SignatureCheck.UNKNOWN_KEY:
        outcome.add(Verdict.UNKNOWN_KEY, f"key {parsed.body.key_id} is not one of the published stamp keys")
        return outcome
    if signature is SignatureCheck.FORGED:
        outcome.add(Verdict.FORGED, "the signature does not match: this code was not issued by the OCOP programme")
        return outcome
    outcome.parsed = parsed
    if prefixes is not None and parsed.url_prefix is not None and parsed.url_prefix not in prefixes:
        # A genuine token under someone else's address: the label's QR was likely replaced, and that
        # site can show anything when a phone opens it.
        host = urlsplit(parsed.url_prefix).netloc
        outcome.add(
            Verdict.SUSPICIOUS,
            f"this code points to {host}, not the OCOP service: the QR on the label may have been replaced",
        )
    if parsed.body.valid_until < today:
        outcome.add(
            Verdict.CERTIFICATE_EXPIRED,
            f"the OCOP certificate this stamp was issued under expired on {parsed.body.valid_until.isoformat()}",
        )
    return outcome


def check_offline(
    text: str,
    keys: KeyRing,
    today: date,
    prefixes: Collection[str] | None = None,
    ledger: LedgerSnapshot | None = None,
) -> Outcome:
    """Check a code with published material only: what it proves by itself, then its batch's ledger entry.

    Without a ledger nothing is known of issue times, so a compromised key's stamps all read revoked.
    """
    outcome = check_signed(text, keys, today, prefixes)
    if outcome.trusted and outcome.parsed is not None:
        check_ledger(outcome, keys[outcome.parsed.body.key_id], ledger)
    return outcome


def check_ledger(outcome: Outcome, key: TrustedKey, ledger: LedgerSnapshot | None) -> Outcome:
    """Refuse a signed code that its batch's ledger entry does not vouch for, and decide a compromised key's
    trust by the entry's issue time."""
    assert outcome.parsed is not None
    body = outcome.parsed.body
    if ledger is None:
        if key.compromised:
            outcome.add(
                Verdict.REVOKED,
                f"key {key.key_id} was compromised and, without the ledger, no stamp of it can be dated: "
                "none is trusted",
            )
        return outcome
    entry = ledger.entry(body.batch_id)
    if entry is None:
        _refuse(
            outcome,
            f"batch {body.batch_id} is not in the ledger ({ledger.size} batches): it was never issued, "
            "or was issued after this copy of the ledger was exported",
        )
        return outcome
    mismatches = entry.mismatches(body)
    if "sequence" in mismatches:
        _refuse(
            outcome,
            f"stamp #{body.sequence} lies beyond batch {body.batch_id}, which has {entry.stamp_count} stamps "
            "in the ledger",
        )
        return outcome
    if mismatches:
        names = ", ".join(_FIELD_NAMES.get(name, name) for name in mismatches)
        _refuse(outcome, f"the stamp's {names} differ from batch {body.batch_id}'s ledger entry")
        return outcome
    if not key.trusts_issue(entry.issued_at):
        when = key.compromised_at.isoformat() if key.compromised_at else "an unknown time"
        outcome.add(
            Verdict.REVOKED,
            f"key {key.key_id} was compromised at {when}; batch {body.batch_id} was issued "
            f"{entry.issued_at.isoformat()}, not before",
        )
    return outcome


_FIELD_NAMES = {
    "batch": "batch",
    "key": "key",
    "product": "product",
    "stars": "stars",
    "valid_until": "certificate valid-until month",
}


def _refuse(outcome: Outcome, reason: str) -> None:
    """Mark a validly signed code the ledger does not vouch for as forged: the key signed what was never issued."""
    outcome.add(Verdict.FORGED, f"this code carries a valid signature but the ledger does not vouch for it: {reason}")
    outcome.parsed = None
