"""The 34 provinces a shopper may say they are in (2025 map), with a rough centre for distances. Pure.

Names and codes follow NQ 202/2025/QH15 and QĐ 19/2025/QĐ-TTg (a merged province keeps the code of the
province whose name it kept). Centres are approximate administrative centres: good to tens of kilometres,
which is all that "too far apart for the time between two scans" needs. No geolocation database is used:
a place is only ever what a shopper chose to tell us.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Final


@dataclass(frozen=True)
class ScanProvince:
    code: str
    name: str
    latitude: float
    longitude: float


_ROWS: Final = (
    ("01", "Hà Nội", 21.03, 105.85),
    ("04", "Cao Bằng", 22.67, 106.26),
    ("08", "Tuyên Quang", 21.82, 105.21),
    ("11", "Điện Biên", 21.39, 103.02),
    ("12", "Lai Châu", 22.40, 103.46),
    ("14", "Sơn La", 21.33, 103.91),
    ("15", "Lào Cai", 21.72, 104.90),
    ("19", "Thái Nguyên", 21.59, 105.85),
    ("20", "Lạng Sơn", 21.85, 106.76),
    ("22", "Quảng Ninh", 20.95, 107.08),
    ("24", "Bắc Ninh", 21.27, 106.19),
    ("25", "Phú Thọ", 21.32, 105.40),
    ("31", "Hải Phòng", 20.86, 106.68),
    ("33", "Hưng Yên", 20.65, 106.05),
    ("37", "Ninh Bình", 20.25, 105.97),
    ("38", "Thanh Hóa", 19.81, 105.78),
    ("40", "Nghệ An", 18.67, 105.68),
    ("42", "Hà Tĩnh", 18.34, 105.91),
    ("44", "Quảng Trị", 17.47, 106.62),
    ("46", "Huế", 16.46, 107.59),
    ("48", "Đà Nẵng", 16.05, 108.20),
    ("51", "Quảng Ngãi", 15.12, 108.80),
    ("52", "Gia Lai", 13.78, 109.22),
    ("56", "Khánh Hòa", 12.24, 109.19),
    ("66", "Đắk Lắk", 12.67, 108.04),
    ("68", "Lâm Đồng", 11.94, 108.44),
    ("75", "Đồng Nai", 10.95, 106.82),
    ("79", "TP. Hồ Chí Minh", 10.78, 106.70),
    ("80", "Tây Ninh", 10.54, 106.41),
    ("82", "Đồng Tháp", 10.36, 106.36),
    ("86", "Vĩnh Long", 10.25, 105.97),
    ("91", "An Giang", 10.01, 105.08),
    ("92", "Cần Thơ", 10.03, 105.78),
    ("96", "Cà Mau", 9.18, 105.15),
)

PROVINCES: Final[Mapping[str, ScanProvince]] = MappingProxyType({row[0]: ScanProvince(*row) for row in _ROWS})


def get_province(code: str | None) -> ScanProvince | None:
    """Return the province with this 2-digit code, or None."""
    return PROVINCES.get(code or "")


def distance_km(a: str, b: str) -> float:
    """Return the great-circle distance between two provinces' centres in kilometres."""
    first, second = PROVINCES[a], PROVINCES[b]
    lat1, lat2 = math.radians(first.latitude), math.radians(second.latitude)
    dlat, dlon = lat2 - lat1, math.radians(second.longitude - first.longitude)
    h = math.sin(dlat / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin(dlon / 2) ** 2
    return 2 * 6371.0 * math.asin(math.sqrt(h))
