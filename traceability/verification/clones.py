"""Clone flags: patterns of scans that suggest a genuine stamp was copied. Pure: facts in, flags out.

A signature cannot stop a photocopy; the scan history can hint at one. But every fact here comes from
anonymous requests (page loads, provinces told, serials typed), which anyone can send from many networks,
so flags are evidence for inspectors (office analytics, the operator's CLI), never a public verdict: no
sequence of requests may turn a genuine stamp "suspicious" for shoppers (issue 9). Flags are graded: a
*notice* can be normal; a *warning* is a strong pattern, listed first. A shopper scanning the same stamp
again, from the same device, never adds a device.

A device is a hash of address and user agent, and the user agent is the client's to choose: one client
could pose as any number of phones. So notices count devices, but warnings count *networks* (a hash of the
address's /24 or /48), and a network tells at most one province toward a warning. Scans recorded before
networks were (no network) count toward notices only.
"""

from __future__ import annotations

import enum
import itertools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from traceability.verification.provinces import PROVINCES, distance_km


class Level(enum.Enum):
    NOTICE = "notice"
    WARNING = "warning"


class Kind(enum.Enum):
    MANY_DEVICES = "many_devices"
    MANY_PROVINCES = "many_provinces"
    IMPOSSIBLE_TRAVEL = "impossible_travel"
    BEFORE_ACTIVATION = "scanned_before_activation"
    TYPED_SERIAL = "typed_serial"  # the serial typed in by many: labels with a damaged QR and a copied serial


@dataclass(frozen=True)
class Thresholds:
    """When a pattern becomes a notice and when a warning (settings CLONE_*)."""

    devices_notice: int = 4
    devices_warning: int = 10
    provinces_notice: int = 2
    provinces_warning: int = 3
    # Faster than this between two provinces' centres (after the slack) is not a journey but a copy.
    travel_kmh: float = 500.0
    travel_slack_km: float = 100.0
    before_activation_notice: int = 1  # devices that scanned the stamp before it was applied to goods
    before_activation_warning: int = 3
    typed_serial_notice: int = 2  # devices that typed the stamp's serial instead of scanning its QR
    typed_serial_warning: int = 4

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> Thresholds:
        """Read thresholds from an app configuration."""
        return cls(
            devices_notice=int(config["CLONE_DEVICES_NOTICE"]),
            devices_warning=int(config["CLONE_DEVICES_WARNING"]),
            provinces_notice=int(config["CLONE_PROVINCES_NOTICE"]),
            provinces_warning=int(config["CLONE_PROVINCES_WARNING"]),
            travel_kmh=float(config["CLONE_TRAVEL_KMH"]),
            travel_slack_km=float(config["CLONE_TRAVEL_SLACK_KM"]),
            before_activation_notice=int(config["CLONE_BEFORE_ACTIVATION_NOTICE"]),
            before_activation_warning=int(config["CLONE_BEFORE_ACTIVATION_WARNING"]),
            typed_serial_notice=int(config.get("CLONE_TYPED_SERIAL_NOTICE", cls.typed_serial_notice)),
            typed_serial_warning=int(config.get("CLONE_TYPED_SERIAL_WARNING", cls.typed_serial_warning)),
        )


@dataclass(frozen=True)
class ScanFact:
    """What clone detection may know about one earlier scan of a stamp."""

    at: datetime
    device: str  # salted hash, only comparable within one salt period
    period: str
    province: str | None = None
    before_activation: bool = False  # the stamp read "not activated" at the time
    network: str | None = None  # salted hash of the client's network, comparable within one period
    typed: bool = False  # a typed serial, not a scan of the label


@dataclass(frozen=True)
class CloneFlag:
    kind: Kind
    level: Level
    count: int = 0  # devices or provinces behind the flag
    provinces: tuple[str, ...] = field(default_factory=tuple)

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON form of a flag."""
        return {
            "kind": self.kind.value,
            "level": self.level.value,
            "count": self.count,
            "provinces": list(self.provinces),
        }


def _grade(devices: set[tuple[str, str]], networks: set[tuple[str, str]], notice: int, warning: int) -> Level | None:
    # Only distinct networks can make a warning: one client can vary its user agent at will.
    if len(networks) >= warning:
        return Level.WARNING
    if max(len(devices), len(networks)) >= notice:
        return Level.NOTICE
    return None


def _devices(facts: Iterable[ScanFact]) -> set[tuple[str, str]]:
    return {(s.period, s.device) for s in facts}


def _networks(facts: Iterable[ScanFact]) -> set[tuple[str, str]]:
    return {(s.period, s.network) for s in facts if s.network is not None}


def _one_place_per_network(facts: list[ScanFact]) -> list[ScanFact]:
    """Return the first scan with a known province of each network, oldest first."""
    seen: set[tuple[str, str]] = set()
    kept = []
    for fact in sorted(facts, key=lambda s: s.at):
        if fact.network is None or fact.province not in PROVINCES or (fact.period, fact.network) in seen:
            continue
        seen.add((fact.period, fact.network))
        kept.append(fact)
    return kept


def _impossible_pair(scans: list[ScanFact], limits: Thresholds) -> tuple[str, str] | None:
    placed = sorted((s for s in scans if s.province in PROVINCES), key=lambda s: s.at)
    for earlier, later in itertools.pairwise(placed):
        assert earlier.province is not None and later.province is not None
        if earlier.province == later.province:
            continue
        distance = distance_km(earlier.province, later.province) - limits.travel_slack_km
        hours = max((later.at - earlier.at).total_seconds() / 3600, 1 / 60)
        if distance > 0 and distance / hours > limits.travel_kmh:
            return earlier.province, later.province
    return None


def assess(scans: Iterable[ScanFact], limits: Thresholds, *, activated: bool) -> list[CloneFlag]:
    """Return the clone flags of a stamp's look-ups (including the current one), warnings first."""
    everything = list(scans)
    facts = [s for s in everything if not s.typed]
    flags: list[CloneFlag] = []
    devices, networks = _devices(facts), _networks(facts)
    level = _grade(devices, networks, limits.devices_notice, limits.devices_warning)
    if level is not None:
        flags.append(CloneFlag(Kind.MANY_DEVICES, level, max(len(devices), len(networks))))
    provinces = sorted({s.province for s in facts if s.province in PROVINCES}, key=str)
    placed = _one_place_per_network(facts)
    # Toward a warning, a network tells one province: the first it told for this stamp.
    if len({s.province for s in placed}) >= limits.provinces_warning:
        flags.append(CloneFlag(Kind.MANY_PROVINCES, Level.WARNING, len(provinces), tuple(p for p in provinces if p)))
    elif len(provinces) >= limits.provinces_notice:
        flags.append(CloneFlag(Kind.MANY_PROVINCES, Level.NOTICE, len(provinces), tuple(p for p in provinces if p)))
    pair = _impossible_pair(placed, limits)
    if pair is not None:
        flags.append(CloneFlag(Kind.IMPOSSIBLE_TRAVEL, Level.WARNING, 2, pair))
    if activated:
        early = [s for s in facts if s.before_activation]
        devices, networks = _devices(early), _networks(early)
        level = _grade(devices, networks, limits.before_activation_notice, limits.before_activation_warning)
        if level is not None:
            flags.append(CloneFlag(Kind.BEFORE_ACTIVATION, level, max(len(devices), len(networks))))
    typed = [s for s in everything if s.typed]
    devices, networks = _devices(typed), _networks(typed)
    level = _grade(devices, networks, limits.typed_serial_notice, limits.typed_serial_warning)
    if level is not None:
        flags.append(CloneFlag(Kind.TYPED_SERIAL, level, max(len(devices), len(networks))))
    return sorted(flags, key=lambda f: f.level is not Level.WARNING)


def is_suspicious(flags: Iterable[CloneFlag]) -> bool:
    """Say whether the flags hold a warning, the strong patterns inspectors look at first."""
    return any(flag.level is Level.WARNING for flag in flags)
