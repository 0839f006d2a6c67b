"""Clone flags are graded; a shopper scanning twice never looks like a copy. Pure."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from traceability.verification.clones import Kind, Level, ScanFact, Thresholds, assess, is_suspicious
from traceability.verification.provinces import PROVINCES, distance_km

T0 = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)
LIMITS = Thresholds()


SAME = "same"  # network=SAME: each device on its own network (a different client)


def scan(
    device: str,
    minutes: float = 0,
    province: str | None = None,
    *,
    early: bool = False,
    period: str = "p1",
    network: str | None = SAME,
    typed: bool = False,
) -> ScanFact:
    at = T0 + timedelta(minutes=minutes)
    return ScanFact(at, device, period, province, early, network=device if network is SAME else network, typed=typed)


def kinds(flags: list) -> dict[Kind, Level]:
    return {flag.kind: flag.level for flag in flags}


def test_one_shopper_scanning_many_times_is_normal() -> None:
    scans = [scan("phone", minutes=m, province="56") for m in range(0, 600, 10)]
    assert assess(scans, LIMITS, activated=True) == []


@pytest.mark.parametrize(
    ("devices", "expected"), [(3, None), (4, Level.NOTICE), (9, Level.NOTICE), (10, Level.WARNING)]
)
def test_distinct_devices_are_graded(devices: int, expected: Level | None) -> None:
    scans = [scan(f"d{n}", minutes=n) for n in range(devices)] + [scan("d0", minutes=99)]
    flags = assess(scans, LIMITS, activated=True)
    assert kinds(flags).get(Kind.MANY_DEVICES) == expected
    assert is_suspicious(flags) is (expected is Level.WARNING)


def test_a_device_is_only_comparable_within_its_salt_period() -> None:
    # The salt rotates, so one phone in two periods is two hashes: thresholds allow for it.
    scans = [scan("same", period="p1"), scan("same", minutes=60 * 24 * 8, period="p2")]
    assert assess(scans, Thresholds(devices_notice=2), activated=True)[0].count == 2


def test_one_client_posing_as_many_phones_is_only_a_notice() -> None:
    # One address, a new user agent each time: many device hashes, one network. It must not flip the verdict.
    scans = [scan(f"agent{n}", minutes=n, network="net1") for n in range(11)]
    flags = assess(scans, LIMITS, activated=True)
    assert kinds(flags) == {Kind.MANY_DEVICES: Level.NOTICE} and flags[0].count == 11
    assert not is_suspicious(flags)
    # Ten networks are ten clients: a warning.
    flags = assess([scan(f"agent{n}", minutes=n, network=f"net{n}") for n in range(10)], LIMITS, activated=True)
    assert kinds(flags) == {Kind.MANY_DEVICES: Level.WARNING}


def test_scans_recorded_before_networks_only_make_notices() -> None:
    scans = [scan(f"d{n}", n, ("01", "79", "56")[n % 3], network=None, early=True) for n in range(12)]
    flags = assess(scans, LIMITS, activated=True)
    assert {flag.level for flag in flags} == {Level.NOTICE}
    assert set(kinds(flags)) == {Kind.MANY_DEVICES, Kind.MANY_PROVINCES, Kind.BEFORE_ACTIVATION}


def test_a_network_tells_one_province_toward_a_warning() -> None:
    # One client scanning with three user agents and telling three provinces (far apart, minutes apart).
    one = [scan(f"agent{n}", 60 * n, p, network="net1") for n, p in enumerate(("01", "79", "56"))]
    assert kinds(assess(one, LIMITS, activated=True)) == {Kind.MANY_PROVINCES: Level.NOTICE}
    # A second network adds its first province only.
    two = [*one, scan("other", 500, "79", network="net2"), scan("other2", 510, "56", network="net2")]
    assert not is_suspicious(assess(two, LIMITS, activated=True))
    three = [*two, scan("third", 600, "56", network="net3")]
    assert kinds(assess(three, LIMITS, activated=True))[Kind.MANY_PROVINCES] is Level.WARNING


def test_typed_serials_are_graded_apart_from_scans() -> None:
    typed = [scan(f"t{n}", n, typed=True) for n in range(3)]
    flags = assess(typed, LIMITS, activated=True)
    assert kinds(flags) == {Kind.TYPED_SERIAL: Level.NOTICE} and flags[0].count == 3  # not phones scanning
    assert kinds(assess([*typed, scan("t3", 9, typed=True)], LIMITS, activated=True)) == {
        Kind.TYPED_SERIAL: Level.WARNING
    }
    one_client = [scan(f"agent{n}", n, typed=True, network="net1") for n in range(8)]
    assert kinds(assess(one_client, LIMITS, activated=True)) == {Kind.TYPED_SERIAL: Level.NOTICE}
    assert assess([scan("buyer", 0, typed=True), scan("buyer", 60, typed=True)], LIMITS, activated=True) == []


def test_provinces_are_graded_and_named() -> None:
    two = [scan("a", 0, "56"), scan("b", 60 * 24, "79")]
    assert kinds(assess(two, LIMITS, activated=True)) == {Kind.MANY_PROVINCES: Level.NOTICE}
    three = [*two, scan("c", 60 * 48, "01")]
    flags = assess(three, LIMITS, activated=True)
    assert kinds(flags)[Kind.MANY_PROVINCES] is Level.WARNING
    assert flags[0].provinces == ("01", "56", "79")


def test_unknown_places_are_ignored() -> None:
    assert assess([scan("a", 0, "99"), scan("b", 5, None)], LIMITS, activated=True) == []


def test_impossible_travel() -> None:
    hanoi_to_saigon = distance_km("01", "79")
    assert 1000 < hanoi_to_saigon < 1300
    quick = [scan("a", 0, "01"), scan("b", 30, "79")]
    assert kinds(assess(quick, LIMITS, activated=True))[Kind.IMPOSSIBLE_TRAVEL] is Level.WARNING
    # A flight and a taxi later is a journey, not a copy.
    flown = [scan("a", 0, "01"), scan("b", 4 * 60, "79")]
    assert Kind.IMPOSSIBLE_TRAVEL not in kinds(assess(flown, LIMITS, activated=True))
    # Neighbouring provinces are within the slack whatever the time.
    near = [scan("a", 0, "79"), scan("b", 1, "75")]
    assert Kind.IMPOSSIBLE_TRAVEL not in kinds(assess(near, LIMITS, activated=True))


def test_scans_before_activation() -> None:
    early = [scan("worker", 0, early=True), scan("shopper", 60 * 24 * 30)]
    assert kinds(assess(early, LIMITS, activated=True)) == {Kind.BEFORE_ACTIVATION: Level.NOTICE}
    assert assess(early, LIMITS, activated=False) == []  # still inactive: that verdict says it already
    many = [scan(f"w{n}", n, early=True) for n in range(3)]
    assert kinds(assess(many, LIMITS, activated=True))[Kind.BEFORE_ACTIVATION] is Level.WARNING


def test_warnings_come_first() -> None:
    scans = [scan("a", 0, "01"), scan("b", 30, "79"), scan("c", 40, "56")] + [scan(f"x{n}", 50) for n in range(2)]
    flags = assess(scans, LIMITS, activated=True)
    levels = [flag.level for flag in flags]
    assert levels == sorted(levels, key=lambda level: level is not Level.WARNING)
    assert flags[0].to_dict()["level"] == "warning"


def test_province_table_is_the_2025_map() -> None:
    assert len(PROVINCES) == 34
    assert {"56", "66", "75", "96", "04"} <= PROVINCES.keys()  # the seed provinces, as in registry/places.py
