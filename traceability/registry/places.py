"""Provinces before and after the 2025 reorganisation: the one list of provinces in the service.

NQ 202/2025/QH15 merged provinces and abolished districts from 2025-07-01; codes follow QĐ 19/2025/QĐ-TTg
(a merged province keeps the code of the province whose name it kept). The rule: store an address exactly
as it was issued, with its scheme ("pre2025" or "2025") and date, and map it to today's province here,
separately. Never rewrite a stored address, certificate or growing-area code to the new map: those
documents were issued under the old one.

All 34 provinces of the 2025 map are listed, each with a rough centre (the administrative centre, good to
tens of kilometres: enough for "too far apart for the time between two scans"). Of the 63 pre-2025
provinces only the seed provinces' are listed, with the 2025 province each became part of; any other
pre-2025 code is unknown (None), never guessed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Final

PRE_2025: Final = "pre2025"
Y2025: Final = "2025"
SCHEMES: Final = (PRE_2025, Y2025)


@dataclass(frozen=True)
class Province:
    """A province under one scheme: its 2-digit official code, its name and (2025 map) its rough centre."""

    code: str
    name: str
    latitude: float | None = None
    longitude: float | None = None


PRE_2025_PROVINCES: Final[Mapping[str, Province]] = MappingProxyType(
    {
        p.code: p
        for p in (
            Province("04", "Cao Bằng"),
            Province("54", "Phú Yên"),
            Province("56", "Khánh Hòa"),
            Province("58", "Ninh Thuận"),
            Province("66", "Đắk Lắk"),
            Province("70", "Bình Phước"),
            Province("75", "Đồng Nai"),
            Province("95", "Bạc Liêu"),
            Province("96", "Cà Mau"),
        )
    }
)

PROVINCES_2025: Final[Mapping[str, Province]] = MappingProxyType(
    {
        p.code: p
        for p in (
            Province("01", "Hà Nội", 21.03, 105.85),
            Province("04", "Cao Bằng", 22.67, 106.26),
            Province("08", "Tuyên Quang", 21.82, 105.21),
            Province("11", "Điện Biên", 21.39, 103.02),
            Province("12", "Lai Châu", 22.40, 103.46),
            Province("14", "Sơn La", 21.33, 103.91),
            Province("15", "Lào Cai", 21.72, 104.90),
            Province("19", "Thái Nguyên", 21.59, 105.85),
            Province("20", "Lạng Sơn", 21.85, 106.76),
            Province("22", "Quảng Ninh", 20.95, 107.08),
            Province("24", "Bắc Ninh", 21.27, 106.19),
            Province("25", "Phú Thọ", 21.32, 105.40),
            Province("31", "Hải Phòng", 20.86, 106.68),
            Province("33", "Hưng Yên", 20.65, 106.05),
            Province("37", "Ninh Bình", 20.25, 105.97),
            Province("38", "Thanh Hóa", 19.81, 105.78),
            Province("40", "Nghệ An", 18.67, 105.68),
            Province("42", "Hà Tĩnh", 18.34, 105.91),
            Province("44", "Quảng Trị", 17.47, 106.62),
            Province("46", "Huế", 16.46, 107.59),
            Province("48", "Đà Nẵng", 16.05, 108.20),
            Province("51", "Quảng Ngãi", 15.12, 108.80),
            Province("52", "Gia Lai", 13.78, 109.22),
            Province("56", "Khánh Hòa", 12.24, 109.19),
            Province("66", "Đắk Lắk", 12.67, 108.04),
            Province("68", "Lâm Đồng", 11.94, 108.44),
            Province("75", "Đồng Nai", 10.95, 106.82),
            Province("79", "TP. Hồ Chí Minh", 10.78, 106.70),
            Province("80", "Tây Ninh", 10.54, 106.41),
            Province("82", "Đồng Tháp", 10.36, 106.36),
            Province("86", "Vĩnh Long", 10.25, 105.97),
            Province("91", "An Giang", 10.01, 105.08),
            Province("92", "Cần Thơ", 10.03, 105.78),
            Province("96", "Cà Mau", 9.18, 105.15),
        )
    }
)

# Pre-2025 province code -> the 2025 province it became part of (NQ 202/2025/QH15).
MERGED_INTO: Final[Mapping[str, str]] = MappingProxyType(
    {
        "04": "04",  # Cao Bằng: unchanged
        "54": "66",  # Phú Yên -> Đắk Lắk
        "56": "56",  # Khánh Hòa (absorbs Ninh Thuận)
        "58": "56",  # Ninh Thuận -> Khánh Hòa
        "66": "66",  # Đắk Lắk (absorbs Phú Yên)
        "70": "75",  # Bình Phước -> Đồng Nai
        "75": "75",  # Đồng Nai (absorbs Bình Phước)
        "95": "96",  # Bạc Liêu -> Cà Mau
        "96": "96",  # Cà Mau (absorbs Bạc Liêu)
    }
)

# The 2025 provinces the demo registry is drawn from: those whose pre-2025 provinces are listed above.
SEED_PROVINCES: Final = frozenset(MERGED_INTO.values())


def _check_scheme(scheme: str) -> None:
    # A wrong scheme is a programming error, not an unknown place: fail loudly rather than return None.
    if scheme not in SCHEMES:
        raise ValueError(f"unknown address scheme {scheme!r}: use one of {', '.join(SCHEMES)}")


def current_province(scheme: str, code: str) -> Province | None:
    """Return the 2025 province an address written under `scheme` with this province code belongs to now."""
    _check_scheme(scheme)
    if scheme == Y2025:
        return PROVINCES_2025.get(code)
    merged = MERGED_INTO.get(code)
    return PROVINCES_2025[merged] if merged is not None else None


def province_name(scheme: str, code: str) -> str | None:
    """Return the name a province code had under `scheme`, or None if the code is not known."""
    _check_scheme(scheme)
    provinces = PROVINCES_2025 if scheme == Y2025 else PRE_2025_PROVINCES
    province = provinces.get(code)
    return province.name if province is not None else None
