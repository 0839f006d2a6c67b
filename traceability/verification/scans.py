"""Scan records: the salted device fingerprint, appending a scan, and a stamp's scan history.

Personal-data rule: no IP address or user agent is ever stored. A device is HMAC(salt, ip + agent), where
the salt is derived from a server secret and the current period (a week by default), so the same phone
gets an unrelated value next period and nobody can reverse a stored value into an address.

The user agent is chosen by the client, so one client can pose as any number of devices: the device hash
only recognises the same phone scanning again. Clone *warnings* (evidence for inspectors) count networks
instead: a keyed hash of the address's /24 (IPv4) or /48 (IPv6) under the same salt.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, func, insert, select
from sqlalchemy.orm import Session

from traceability.errors import ValidationError
from traceability.i18n import N_
from traceability.verification.clones import ScanFact
from traceability.verification.models import Channel, Scan
from traceability.verification.provinces import get_province
from traceability.verification.verdicts import Verdict

DEVICE_HEX = 32  # 128 bits: collisions between two real devices are out of the question
NETWORK_PREFIX = {4: 24, 6: 48}  # what one client can easily vary its address within
HISTORY_LIMIT = 2000  # a stamp scanned more often than this is flagged long before


@dataclass(frozen=True)
class Device:
    """A device as the service may know it: salted hashes of the client and of its network, and the period."""

    fingerprint: str
    period: str
    network: str | None = None  # None only for scans recorded before networks were (migration 0006)


def salt_period(at: datetime, days: int) -> str:
    """Return the name of the salt period containing `at` (periods are `days` long, counted from day 1)."""
    return f"{days}d{at.date().toordinal() // days}"


def network_prefix(address: str) -> str:
    """Return the network an address belongs to (/24 IPv4, /48 IPv6), or the address if it is not an IP."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return str(ipaddress.ip_network(f"{ip}/{NETWORK_PREFIX[ip.version]}", strict=False))


def device_of(secret: str, at: datetime, address: str, agent: str, *, days: int = 7) -> Device:
    """Return the salted fingerprints of a client (address and user agent) and its network for `at`'s period."""
    period = salt_period(at, days)
    salt = hmac.new(secret.encode(), b"ocop-scan-salt|" + period.encode(), hashlib.sha256).digest()
    digest = hmac.new(salt, address.encode() + b"\x00" + agent.encode(errors="replace"), hashlib.sha256)
    network = hmac.new(salt, b"network|" + network_prefix(address).encode(), hashlib.sha256)
    return Device(digest.hexdigest()[:DEVICE_HEX], period, network.hexdigest()[:DEVICE_HEX])


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
    """Append one scan (the worst flag is its verdict) in one INSERT; return it, apart from any session.

    A Core INSERT .. RETURNING id, not the unit of work: the row is written before the answer leaves, and the
    ORM's flush bookkeeping would only cost time. The Scan returned is transient: read it, do not change it.
    """
    ordered = sorted(flags, key=lambda v: v.severity) or [Verdict.GENUINE]
    values = {
        "scanned_at": at,
        "channel": channel,
        "verdict": ordered[0],
        "flags": ",".join(v.value for v in ordered),
        "batch_id": stamp[0] if stamp else None,
        "sequence": stamp[1] if stamp else None,
        "code_hash": code_hash(text),
        "device": device.fingerprint,
        "network_hash": device.network,
        "salt_period": device.period,
        "province_code": province,
    }
    scan_id = session.connection().execute(SCAN_INSERT, values).scalar_one()
    return Scan(id=scan_id, **values)


# Built once and run on the connection: a statement built per scan, or the ORM's bulk path, costs more Python
# per request than the INSERT costs PostgreSQL (measured with cProfile under benchmarks/load.py's traffic).
SCAN_INSERT = insert(Scan).returning(Scan.id)


def _stamp_scans(batch_id: int | ColumnElement[int], sequence: int | ColumnElement[int]) -> tuple[object, ...]:
    return (Scan.batch_id == batch_id, Scan.sequence == sequence, Scan.channel != Channel.SERIAL)


def history(session: Session, batch_id: int, sequence: int) -> list[ScanFact]:
    """Return the stamp's look-ups as facts, oldest first: camera scans, and typed serials marked as such."""
    rows = session.execute(
        select(
            Scan.scanned_at,
            Scan.device,
            Scan.salt_period,
            Scan.province_code,
            Scan.flags,
            Scan.network_hash,
            Scan.channel,
        )
        .where(Scan.batch_id == batch_id, Scan.sequence == sequence)
        .order_by(Scan.scanned_at.desc())
        .limit(HISTORY_LIMIT)
    ).all()
    return [
        ScanFact(
            at,
            device,
            period,
            province,
            Verdict.NOT_ACTIVATED.value in flags.split(","),
            network=network,
            typed=channel is Channel.SERIAL,
        )
        for at, device, period, province, flags, network, channel in reversed(rows)
    ]


@dataclass(frozen=True)
class ScanSummary:
    """What a shopper is told about a stamp's scans."""

    count: int
    first_at: datetime | None
    first_province: str | None
    # The first scan whose shopper told a province, when the very first scan's did not.
    placed_at: datetime | None = None
    placed_province: str | None = None


def summary_columns(batch_id: int | ColumnElement[int], sequence: int | ColumnElement[int]) -> list[ColumnElement[Any]]:
    """Return the scalar subqueries of a stamp's summary, for summary_of, to read it inside another statement."""
    mine = _stamp_scans(batch_id, sequence)
    first = select(Scan).where(*mine).order_by(Scan.scanned_at, Scan.id).limit(1)  # type: ignore[arg-type]
    placed = first.where(Scan.province_code.is_not(None))
    return [
        select(func.count(Scan.id)).where(*mine).scalar_subquery(),  # type: ignore[arg-type]
        first.with_only_columns(Scan.scanned_at).scalar_subquery(),
        first.with_only_columns(Scan.province_code).scalar_subquery(),
        placed.with_only_columns(Scan.scanned_at).scalar_subquery(),
        placed.with_only_columns(Scan.province_code).scalar_subquery(),
    ]


def summary_of(
    count: int | None,
    first_at: datetime | None,
    first_province: str | None,
    placed_at: datetime | None,
    placed_province: str | None,
) -> ScanSummary:
    """Return the summary the columns of summary_columns hold."""
    if first_at is None:
        return ScanSummary(0, None, None)
    if first_province is not None:
        return ScanSummary(count or 0, first_at, first_province)
    return ScanSummary(count or 0, first_at, None, placed_at, placed_province)


def summary(session: Session, batch_id: int, sequence: int) -> ScanSummary:
    """Return how often the stamp was scanned, when first, and where first (the earliest scan with a place)."""
    row = session.execute(select(*summary_columns(batch_id, sequence))).one()
    return summary_of(*row)


def with_scan(before: ScanSummary, scan: Scan) -> ScanSummary:
    """Return the summary once a new camera scan (the newest row: ties in time go to older rows) is added.

    What summary() would read after the insert, without reading it again.
    """
    at, province = scan.scanned_at, scan.province_code
    count = before.count + 1
    if before.first_at is None or at < before.first_at:
        if province is not None:
            return ScanSummary(count, at, province)
        if before.first_province is not None:  # the former first scan is the earliest with a place
            return ScanSummary(count, at, None, before.first_at, before.first_province)
        return ScanSummary(count, at, None, before.placed_at, before.placed_province)
    if before.first_province is not None:
        return ScanSummary(count, before.first_at, before.first_province)
    if province is not None and (before.placed_at is None or at < before.placed_at):
        return ScanSummary(count, before.first_at, None, at, province)
    return ScanSummary(count, before.first_at, None, before.placed_at, before.placed_province)


def own_scan(session: Session, scan_id: int, device: Device) -> Scan | None:
    """Return the scan if this device made it in this salt period, or None."""
    scan = session.get(Scan, scan_id)
    if scan is None or scan.device != device.fingerprint or scan.salt_period != device.period:
        return None
    return scan


def tell_province(scan: Scan | None, province: str) -> None:
    """Record the province a shopper chose to tell on their own scan (kept if one was told already)."""
    if get_province(province) is None:
        raise ValidationError(N_("choose a province from the list"), field="province")
    if scan is None:
        raise ValidationError(N_("this form has expired: scan the code again"), field="ref")
    if scan.province_code is None:
        scan.province_code = province
