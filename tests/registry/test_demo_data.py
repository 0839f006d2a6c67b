"""The demo registry is internally consistent and obeys the OCOP rules it is meant to demonstrate."""

from __future__ import annotations

import json
import re
import unicodedata
from collections import Counter
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from stdnum import ean
from stdnum.vn import mst

from traceability.registry.classification import is_product_set
from traceability.registry.models import (
    AddressScheme,
    ApplicationType,
    AuthorityLevel,
    CodeScope,
    CodeStatus,
    ProducerType,
)
from traceability.registry.places import PRE_2025_PROVINCES, PROVINCES_2025, SEED_PROVINCES, current_province

DEMO_PATH = Path(__file__).resolve().parents[2] / "traceability" / "registry" / "demo_data.json"
DEMO: dict[str, Any] = json.loads(DEMO_PATH.read_text(encoding="utf-8"))
PRODUCERS: dict[str, dict[str, Any]] = {p["code"]: p for p in DEMO["producers"]}
AREAS: dict[str, dict[str, Any]] = {a["code"]: a for a in DEMO["areas"]}
PRODUCTS: dict[str, dict[str, Any]] = {p["code"]: p for p in DEMO["products"]}

# The data was written on this day; a fixed date keeps "which certificates have expired" stable.
WRITTEN_ON = date(2026, 11, 23)
REORGANISED = date(2025, 7, 1)  # NQ 202/2025/QH15
DISTRICT_CERTIFICATION_ENDED = date(2025, 7, 6)  # QĐ 1489/QĐ-TTg

PRODUCER_KEYS = {
    "code", "name", "short_name", "type", "tax_code", "address", "commune", "district", "province",
    "province_code", "address_scheme", "address_as_of", "phone", "email",
}  # fmt: skip
AREA_KEYS = {
    "code", "name", "material", "growing_area_code", "code_issuer", "code_scope", "code_issued_on",
    "code_status", "commune", "district", "province", "province_code", "address_scheme", "latitude",
    "longitude", "size_ha", "certifications", "producers",
}  # fmt: skip
PRODUCT_KEYS = {"code", "name", "producer", "product_set", "gtin", "description", "areas", "certification"}
CERTIFICATION_KEYS = {
    "stars", "score", "application_type", "decision_number", "decision_date", "authority", "authority_level",
}  # fmt: skip

# Rough boxes around each 2025 province: enough to catch swapped coordinates or a wrong province.
BOUNDS = {
    "56": ((11.2, 12.9), (108.6, 109.5)),
    "75": ((10.5, 12.3), (106.4, 107.6)),
    "66": ((12.1, 13.8), (107.4, 109.5)),
    "96": ((8.5, 9.7), (104.7, 105.9)),
    "04": ((22.3, 23.2), (105.2, 106.9)),
}
SEED_DOCUMENTS = ["262/KH-UBND", "656/QĐ-UBND", "706/KH-UBND", "47/KH-UBND", "2112/QĐ-UBND"]


def _day(value: str) -> date:
    return date.fromisoformat(value)


def _valid_until(decided: date) -> date:
    try:
        anniversary = decided.replace(year=decided.year + 3)
    except ValueError:  # 29 February: the anniversary falls on 1 March
        anniversary = date(decided.year + 3, 3, 1)
    return anniversary - timedelta(days=1)


def _current(record: dict[str, Any]) -> str:
    province = current_province(record["address_scheme"], record["province_code"])
    assert province is not None, record["code"]
    return province.code


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return []


def test_document_shape() -> None:
    assert set(DEMO) == {"source", "producers", "areas", "products"}
    for record in DEMO["producers"]:
        assert set(record) == PRODUCER_KEYS, record["code"]
    for record in DEMO["areas"]:
        assert set(record) == AREA_KEYS, record["code"]
    for record in DEMO["products"]:
        assert set(record) == PRODUCT_KEYS, record["code"]
        assert set(record["certification"]) == CERTIFICATION_KEYS, record["code"]


@pytest.mark.parametrize("document", SEED_DOCUMENTS)
def test_source_names_each_seed_plan(document: str) -> None:
    assert any(document in source for source in DEMO["source"])


@pytest.mark.parametrize(("kind", "letter"), [("producers", "P"), ("areas", "A"), ("products", "SP")])
def test_codes_are_unique_and_well_formed(kind: str, letter: str) -> None:
    codes = [r["code"] for r in DEMO[kind]]
    assert len(codes) == len(set(codes))
    for code in codes:
        assert re.fullmatch(rf"(NT|DN|DL|CM|CB)-{letter}[0-9]{{2}}", code)


def test_all_text_is_nfc_and_unmarked() -> None:
    for text in _strings(DEMO):
        assert unicodedata.is_normalized("NFC", text), text
        assert text == text.strip(), text
        # The loader marks demo records; names must not carry the mark themselves.
        assert "demo" not in text.lower(), text


@pytest.mark.parametrize("code", list(PRODUCERS))
def test_producer(code: str) -> None:
    producer = PRODUCERS[code]
    kind = ProducerType(producer["type"])
    assert 0 < len(producer["short_name"]) <= 24
    assert len(producer["name"]) <= 300
    tax_code = producer["tax_code"]
    if kind is ProducerType.COOPERATIVE_GROUP:
        assert tax_code is None  # no identifier format was found for cooperative groups
    elif tax_code is not None and kind is ProducerType.HOUSEHOLD and len(tax_code) == 12:
        # Household businesses register with the holder's personal ID from 2025-07-01.
        assert tax_code.isdigit()
        assert producer["address_scheme"] == "2025"
    elif tax_code is not None:
        assert mst.validate(tax_code) == tax_code
    email = producer["email"]
    if email is not None:
        assert re.fullmatch(r"[a-z0-9.]+@([a-z0-9]+\.)*example\.com", email), "demo mail goes nowhere"


def test_tax_codes_are_unique() -> None:
    tax_codes = [p["tax_code"] for p in DEMO["producers"] if p["tax_code"]]
    assert len(tax_codes) == len(set(tax_codes))


def _check_place(record: dict[str, Any]) -> None:
    scheme = AddressScheme(record["address_scheme"])
    table = PRE_2025_PROVINCES if scheme is AddressScheme.PRE_2025 else PROVINCES_2025
    assert record["province_code"] in table
    assert record["province"] == table[record["province_code"]].name
    if scheme is AddressScheme.PRE_2025:
        assert record["district"]
    else:
        assert record["district"] is None
    assert record["commune"]


@pytest.mark.parametrize("code", list(PRODUCERS))
def test_producer_address_as_issued(code: str) -> None:
    producer = PRODUCERS[code]
    _check_place(producer)
    as_of = _day(producer["address_as_of"])
    assert (producer["address_scheme"] == "2025") == (as_of >= REORGANISED)
    assert as_of <= WRITTEN_ON
    for part in (producer["commune"], producer["district"], f"tỉnh {producer['province']}"):
        if part:
            assert part in producer["address"]


@pytest.mark.parametrize("code", list(AREAS))
def test_area(code: str) -> None:
    area = AREAS[code]
    _check_place(area)
    code_fields = [area[k] for k in ("growing_area_code", "code_issuer", "code_scope", "code_issued_on", "code_status")]
    assert all(v is None for v in code_fields) or all(v is not None for v in code_fields)
    if area["growing_area_code"] is not None:
        CodeScope(area["code_scope"])
        CodeStatus(area["code_status"])
        issued = _day(area["code_issued_on"])
        assert (area["address_scheme"] == "2025") == (issued >= REORGANISED)
        assert area["growing_area_code"].startswith(f"VN-{area['province_code']}-")
        # The provincial plant-protection office issues the code.
        assert area["code_issuer"].endswith(f"tỉnh {area['province']}")
    (lat_min, lat_max), (lon_min, lon_max) = BOUNDS[_current(area)]
    assert lat_min <= area["latitude"] <= lat_max
    assert lon_min <= area["longitude"] <= lon_max
    assert area["size_ha"] >= 0.1  # the minimum for an annual crop (QĐ 3156/QĐ-BNN-TT)
    assert set(area["certifications"]) <= {"VietGAP", "GlobalGAP", "hữu cơ"}
    assert area["producers"]
    assert set(area["producers"]) <= set(PRODUCERS)


@pytest.mark.parametrize("code", list(PRODUCTS))
def test_product(code: str) -> None:
    product = PRODUCTS[code]
    assert product["producer"] in PRODUCERS
    assert is_product_set(product["product_set"])
    assert product["description"]
    for area_code in product["areas"]:
        # Traceability runs both ways: the area lists the producer that uses it.
        assert product["producer"] in AREAS[area_code]["producers"]
    if product["gtin"] is not None:
        assert len(product["gtin"]) == 13
        assert product["gtin"].startswith("893")
        assert ean.validate(product["gtin"]) == product["gtin"]


def test_gtins_are_few_and_unique() -> None:
    gtins = [p["gtin"] for p in DEMO["products"] if p["gtin"]]
    assert 2 <= len(gtins) <= 3
    assert len(gtins) == len(set(gtins))


def test_every_producer_and_area_is_used() -> None:
    assert {p["producer"] for p in DEMO["products"]} == set(PRODUCERS)
    assert {a for p in DEMO["products"] for a in p["areas"]} == set(AREAS)


@pytest.mark.parametrize("code", list(PRODUCTS))
def test_certification_follows_the_rules(code: str) -> None:
    product = PRODUCTS[code]
    producer = PRODUCERS[product["producer"]]
    certification = product["certification"]
    stars, level = certification["stars"], AuthorityLevel(certification["authority_level"])
    score = Decimal(str(certification["score"]))
    decided = _day(certification["decision_date"])
    ApplicationType(certification["application_type"])

    assert score == score.quantize(Decimal("0.01"))  # Numeric(5, 2)
    floor, ceiling = {3: (50, 70), 4: (70, 90), 5: (90, 101)}[stars]
    assert floor <= score < ceiling
    assert date(2023, 1, 1) <= decided <= WRITTEN_ON
    assert _day(producer["address_as_of"]) <= decided
    assert re.fullmatch(r"[0-9]{1,5}/QĐ-[A-ZĐ-]+", certification["decision_number"])

    if stars == 5:
        assert level is AuthorityLevel.NATIONAL
        assert certification["authority"].startswith("Bộ ")
    elif level is AuthorityLevel.DISTRICT:
        assert stars == 3
        assert decided < DISTRICT_CERTIFICATION_ENDED
        assert producer["address_scheme"] == "pre2025"
        assert certification["authority"] == f"UBND {producer['district']}"
    else:
        assert level is AuthorityLevel.PROVINCIAL
        # The province that signed is the one the producer belonged to on the day of the decision.
        if decided < REORGANISED:
            assert producer["address_scheme"] == "pre2025"
            province = PRE_2025_PROVINCES[producer["province_code"]].name
        else:
            province = PROVINCES_2025[_current(producer)].name
        assert certification["authority"] == f"UBND tỉnh {province}"


def test_decision_numbers_are_unique_per_authority() -> None:
    decisions = Counter(
        (p["certification"]["authority"], p["certification"]["decision_number"]) for p in DEMO["products"]
    )
    assert max(decisions.values()) == 1


def test_exactly_two_certificates_had_expired_when_written() -> None:
    expired = {
        code
        for code, product in PRODUCTS.items()
        if _valid_until(_day(product["certification"]["decision_date"])) < WRITTEN_ON
    }
    assert expired == {"NT-SP02", "DN-SP04"}


def test_star_mix() -> None:
    stars = Counter(p["certification"]["stars"] for p in DEMO["products"])
    assert stars[5] == 2
    assert stars[3] + stars[4] == len(PRODUCTS) - 2
    levels = Counter(p["certification"]["authority_level"] for p in DEMO["products"])
    assert levels["district"] >= 2  # the demo shows both sides of QĐ 1489/QĐ-TTg


@pytest.mark.parametrize("province_code", sorted(SEED_PROVINCES))
def test_each_seed_province_has_a_full_demo(province_code: str) -> None:
    producers = [p for p in DEMO["producers"] if _current(p) == province_code]
    products = [p for p in DEMO["products"] if _current(PRODUCERS[p["producer"]]) == province_code]
    areas = [a for a in DEMO["areas"] if _current(a) == province_code]
    assert 5 <= len(producers) <= 7
    assert 4 <= len(products) <= 7
    assert areas
    assert len({p["type"] for p in producers}) >= 3


def test_both_address_schemes_and_merged_provinces_appear() -> None:
    schemes = Counter(p["address_scheme"] for p in DEMO["producers"])
    assert schemes["pre2025"] > 0
    assert schemes["2025"] > 0
    old_codes = {p["province_code"] for p in DEMO["producers"] if p["address_scheme"] == "pre2025"}
    # Records from provinces merged away in 2025 exercise the mapping.
    assert {"58", "70", "54", "95"} <= old_codes
