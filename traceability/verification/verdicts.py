"""Verdicts on a scanned code, and the offline check that needs only published keys. Pure."""

from __future__ import annotations

import enum
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import date
from urllib.parse import urlsplit

from traceability.stamps import codec
from traceability.stamps.signing import KeyRing, SignatureCheck, check_signature


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


def check_offline(text: str, keys: KeyRing, today: date, prefixes: Collection[str] | None = None) -> Outcome:
    """Check a code with published keys only: format, signature, key status, certificate date and, given the
    service's own URL prefixes, where a URL points."""
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
    if signature is SignatureCheck.KEY_COMPROMISED:
        outcome.add(
            Verdict.REVOKED,
            f"key {parsed.body.key_id} was compromised; batch {parsed.body.batch_id} is after its last trusted batch",
        )
    if parsed.body.valid_until < today:
        outcome.add(
            Verdict.CERTIFICATE_EXPIRED,
            f"the OCOP certificate this stamp was issued under expired on {parsed.body.valid_until.isoformat()}",
        )
    return outcome
