"""The provinces a shopper may say they are in: the 2025 map of registry/places.py, and distances. Pure.

No geolocation database is used: a place is only ever what a shopper chose to tell us.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Final

from traceability.registry.places import PROVINCES_2025, Province

PROVINCES: Final[Mapping[str, Province]] = PROVINCES_2025


def get_province(code: str | None) -> Province | None:
    """Return the 2025 province with this 2-digit code, or None."""
    return PROVINCES.get(code or "")


def _centre(code: str) -> tuple[float, float]:
    province = PROVINCES[code]
    if province.latitude is None or province.longitude is None:
        raise ValueError(f"province {code} has no centre")  # every 2025 province has one (places.py)
    return math.radians(province.latitude), math.radians(province.longitude)


def distance_km(a: str, b: str) -> float:
    """Return the great-circle distance between two provinces' centres in kilometres."""
    (lat1, lon1), (lat2, lon2) = _centre(a), _centre(b)
    dlat, dlon = lat2 - lat1, lon2 - lon1
    h = math.sin(dlat / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin(dlon / 2) ** 2
    return 2 * 6371.0 * math.asin(math.sqrt(h))
