"""Scan records: the salted device fingerprint, appending a scan, and a stamp's scan history.

Personal-data rule: no IP address or user agent is ever stored. A device is HMAC(salt, ip + agent), where
the salt is derived from a server secret and the current period (a week by default), so the same phone
gets an unrelated value next period and nobody can reverse a stored value into an address.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from traceability.verification.clones import ScanFact
from traceability.verification.models import Channel, Scan
from traceability.verification.verdicts import Verdict

DEVICE_HEX = 32  # 128 bits: collisions between two real devices are out of the question
HISTORY_LIMIT = 2000  # a stamp scanned more often than this is flagged long before


@dataclass(frozen=True)
class Device:
    """A device as the service may know it: a salted hash and the salt period it belongs to."""

    fingerprint: str
    period: str


def salt_period(at: datetime, days: int) -> str:
    """Return the name of the salt period containing `at` (periods are `days` long, counted from day 1)."""
    return f"{days}d{at.date().toordinal() // days}"


def device_of(secret: str, at: datetime, address: str, agent: str, *, days: int = 7) -> Device:
    """Return the salted fingerprint of a client (address and user agent) for the period of `at`."""
    period = salt_period(at, days)
    salt = hmac.new(secret.encode(), b"ocop-scan-salt|" + period.encode(), hashlib.sha256).digest()
    digest = hmac.new(salt, address.encode() + b"\x00" + agent.encode(errors="replace"), hashlib.sha256)
    return Device(digest.hexdigest()[:DEVICE_HEX], period)


def code_hash(text: str) -> str:
    """Return a short hash of what was scanned, so scans of one forged code can be counted together."""
    return hashlib.sha256(text.strip()[:2048].encode(errors="replace")).hexdigest()[:32]


def record_scan(
    session: Session,
    *,
    channel: Channel,
    flags: Sequence[Verdict],
    device: Device,
    at: datetime,
    text: str,
    stamp: tuple[int, int] | None,
    province: str | None = None,
) -> Scan:
    """Append one scan (the worst flag is its verdict)."""
    ordered = sorted(flags, key=lambda v: v.severity) or [Verdict.GENUINE]
    scan = Scan(
        scanned_at=at,
        channel=channel,
        verdict=ordered[0],
        flags=",".join(v.value for v in ordered),
        batch_id=stamp[0] if stamp else None,
        sequence=stamp[1] if stamp else None,
        code_hash=code_hash(text),
        device=device.fingerprint,
        salt_period=device.period,
        province_code=province,
    )
    session.add(scan)
    session.flush()
    return scan


def _stamp_scans(batch_id: int, sequence: int) -> tuple[object, ...]:
    return (Scan.batch_id == batch_id, Scan.sequence == sequence, Scan.channel != Channel.SERIAL)


def history(session: Session, batch_id: int, sequence: int) -> list[ScanFact]:
    """Return the stamp's camera scans (page and API, not typed serials) as facts, oldest first."""
    rows = session.execute(
        select(Scan.scanned_at, Scan.device, Scan.salt_period, Scan.province_code, Scan.flags)
        .where(*_stamp_scans(batch_id, sequence))  # type: ignore[arg-type]
        .order_by(Scan.scanned_at.desc())
        .limit(HISTORY_LIMIT)
    ).all()
    return [
        ScanFact(at, device, period, province, Verdict.NOT_ACTIVATED.value in flags.split(","))
        for at, device, period, province, flags in reversed(rows)
    ]


@dataclass(frozen=True)
class ScanSummary:
    """What a shopper is told about a stamp's scans."""

    count: int
    first_at: datetime | None
    first_province: str | None


def summary(session: Session, batch_id: int, sequence: int) -> ScanSummary:
    """Return how often the stamp was scanned, and when and where first (where a place is known)."""
    count = session.scalar(select(func.count(Scan.id)).where(*_stamp_scans(batch_id, sequence))) or 0  # type: ignore[arg-type]
    first = session.execute(
        select(Scan.scanned_at, Scan.province_code)
        .where(*_stamp_scans(batch_id, sequence))  # type: ignore[arg-type]
        .order_by(Scan.scanned_at, Scan.id)
        .limit(1)
    ).first()
    if first is None:
        return ScanSummary(0, None, None)
    return ScanSummary(count, first[0], first[1])


def scan_for_place(session: Session, scan_id: int, device: Device) -> Scan | None:
    """Return a scan this device made in this salt period and that has no place yet, or None."""
    scan = session.get(Scan, scan_id)
    if scan is None or scan.device != device.fingerprint or scan.salt_period != device.period:
        return None
    return scan if scan.province_code is None else None
