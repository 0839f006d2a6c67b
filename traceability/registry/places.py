"""Provinces before and after the 2025 reorganisation, for the provinces the service has data for.

NQ 202/2025/QH15 merged provinces and abolished districts from 2025-07-01; codes follow QĐ 19/2025/QĐ-TTg.
The rule: store an address exactly as it was issued, with its scheme ("pre2025" or "2025") and date, and
map it to today's province here, separately. Never rewrite a stored address, certificate or growing-area
code to the new map: those documents were issued under the old one.

Only provinces with a known mapping are listed; anything else is unknown (None), never guessed.
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
    """A province under one scheme: its 2-digit official code and its name."""

    code: str
    name: str


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
            Province("04", "Cao Bằng"),
            Province("56", "Khánh Hòa"),
            Province("66", "Đắk Lắk"),
            Province("75", "Đồng Nai"),
            Province("96", "Cà Mau"),
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
