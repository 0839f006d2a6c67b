"""The OCOP product classification and the 2025 province mapping, as data."""

from __future__ import annotations

import re
import unicodedata

import pytest

from traceability.registry import classification, places
from traceability.registry.classification import (
    GROUPS,
    PRODUCT_SETS,
    SECTORS,
    Group,
    ProductSet,
    Sector,
    get_product_set,
    is_product_set,
)
from traceability.registry.places import PRE_2025_PROVINCES, PROVINCES_2025, current_province, province_name

SET_KEY = re.compile(r"(I|II|III|IV|V|VI)\.[1-9][0-9]*\.[a-z]")


def test_the_tree_has_6_sectors_17_groups_26_product_sets() -> None:
    assert list(SECTORS) == ["I", "II", "III", "IV", "V", "VI"]
    assert len(GROUPS) == 17
    assert len(PRODUCT_SETS) == 26


@pytest.mark.parametrize(
    ("sector", "groups", "product_sets"),
    [("I", 6, 13), ("II", 2, 4), ("III", 3, 3), ("IV", 2, 2), ("V", 3, 3), ("VI", 1, 1)],
)
def test_sector_sizes(sector: str, groups: int, product_sets: int) -> None:
    assert sum(g.sector.key == sector for g in GROUPS.values()) == groups
    assert sum(s.sector.key == sector for s in PRODUCT_SETS.values()) == product_sets


@pytest.mark.parametrize(
    ("key", "name_vi", "name_en"),
    [
        ("I", "Thực phẩm", "Food"),
        ("II", "Đồ uống", "Drinks"),
        ("III", "Dược liệu và sản phẩm từ dược liệu", "Herbal"),
        ("IV", "Thủ công mỹ nghệ", "Handicraft"),
        ("V", "Sinh vật cảnh", "Ornamentals"),
        ("VI", "Dịch vụ du lịch cộng đồng, du lịch sinh thái và điểm du lịch", "Rural tourism services"),
    ],
)
def test_sector_names(key: str, name_vi: str, name_en: str) -> None:
    assert SECTORS[key].name_vi == name_vi
    assert SECTORS[key].name_en == name_en


@pytest.mark.parametrize("key", list(PRODUCT_SETS))
def test_product_set_keys_are_well_formed_and_nest(key: str) -> None:
    product_set = PRODUCT_SETS[key]
    assert SET_KEY.fullmatch(key)
    assert product_set.key == key
    assert key.rsplit(".", 1)[0] == product_set.group.key
    assert GROUPS[product_set.group.key] is product_set.group
    assert SECTORS[product_set.sector.key] is product_set.sector
    assert product_set.group.sector is product_set.sector
    # Product.product_set is a String(16) column.
    assert len(key) <= 16


def test_every_group_has_product_sets_with_consecutive_letters() -> None:
    for group in GROUPS.values():
        letters = [k.rsplit(".", 1)[1] for k in PRODUCT_SETS if k.startswith(group.key + ".")]
        assert letters == list("abcdefghijklmnopqrstuvwxyz"[: len(letters)])
        assert letters


def test_names_are_present_unique_per_parent_and_nfc() -> None:
    items: list[Sector | Group | ProductSet] = [*SECTORS.values(), *GROUPS.values(), *PRODUCT_SETS.values()]
    for item in items:
        assert item.name_vi.strip() == item.name_vi != ""
        assert item.name_en.strip() == item.name_en != ""
        assert unicodedata.is_normalized("NFC", item.name_vi)
    for group in GROUPS.values():
        names = [s.name_vi for s in PRODUCT_SETS.values() if s.group is group]
        assert len(names) == len(set(names))


@pytest.mark.parametrize(
    ("key", "name_vi"),
    [
        ("I.1.a", "Rau, củ, quả, hạt tươi"),
        ("I.4.b", "Gia vị khác"),
        ("I.6.a", "Cà phê, ca cao"),
        ("II.1.b", "Đồ uống có cồn khác"),
        ("IV.2.a", "Vải, may mặc"),
        ("VI.1.a", "Dịch vụ du lịch cộng đồng, du lịch sinh thái và điểm du lịch"),
    ],
)
def test_get_product_set(key: str, name_vi: str) -> None:
    product_set = get_product_set(key)
    assert product_set is not None
    assert product_set.name_vi == name_vi
    assert is_product_set(key)


@pytest.mark.parametrize("key", ["", "I", "I.1", "I.1.z", "i.1.a", "VII.1.a", " I.1.a", "I.7.a"])
def test_unknown_product_sets(key: str) -> None:
    assert get_product_set(key) is None
    assert not is_product_set(key)


def test_classification_is_read_only() -> None:
    with pytest.raises(TypeError):
        classification.PRODUCT_SETS["X.1.a"] = PRODUCT_SETS["I.1.a"]  # type: ignore[index]


@pytest.mark.parametrize(
    ("old_code", "old_name", "new_code", "new_name"),
    [
        ("58", "Ninh Thuận", "56", "Khánh Hòa"),
        ("56", "Khánh Hòa", "56", "Khánh Hòa"),
        ("75", "Đồng Nai", "75", "Đồng Nai"),
        ("70", "Bình Phước", "75", "Đồng Nai"),
        ("66", "Đắk Lắk", "66", "Đắk Lắk"),
        ("54", "Phú Yên", "66", "Đắk Lắk"),
        ("96", "Cà Mau", "96", "Cà Mau"),
        ("95", "Bạc Liêu", "96", "Cà Mau"),
        ("04", "Cao Bằng", "04", "Cao Bằng"),
    ],
)
def test_pre_2025_provinces_map_to_their_2025_province(
    old_code: str, old_name: str, new_code: str, new_name: str
) -> None:
    assert province_name("pre2025", old_code) == old_name
    assert current_province("pre2025", old_code) == places.Province(new_code, new_name)


@pytest.mark.parametrize("code", sorted(PROVINCES_2025))
def test_a_2025_address_is_already_current(code: str) -> None:
    province = current_province("2025", code)
    assert province is PROVINCES_2025[code]
    assert province_name("2025", code) == province.name


@pytest.mark.parametrize("code", ["58", "70", "54", "95"])
def test_merged_away_codes_do_not_exist_under_the_2025_scheme(code: str) -> None:
    assert current_province("2025", code) is None
    assert province_name("2025", code) is None


@pytest.mark.parametrize("scheme", ["pre2025", "2025"])
@pytest.mark.parametrize("code", ["01", "79", "4", "058", "", "99", "Ninh Thuận"])
def test_unknown_province_codes_are_not_guessed(scheme: str, code: str) -> None:
    assert current_province(scheme, code) is None
    assert province_name(scheme, code) is None


@pytest.mark.parametrize("scheme", ["", "2024", "PRE_2025", "pre-2025"])
def test_an_unknown_scheme_is_an_error(scheme: str) -> None:
    with pytest.raises(ValueError, match="scheme"):
        current_province(scheme, "58")
    with pytest.raises(ValueError, match="scheme"):
        province_name(scheme, "58")


def test_province_tables_are_consistent() -> None:
    assert set(places.MERGED_INTO) == set(PRE_2025_PROVINCES)
    assert set(places.MERGED_INTO.values()) == set(PROVINCES_2025)
    for table in (PRE_2025_PROVINCES, PROVINCES_2025):
        for code, province in table.items():
            assert re.fullmatch(r"[0-9]{2}", code)
            assert province.code == code
    # Each 2025 province kept the code and name of the pre-2025 province it grew from.
    for code, province in PROVINCES_2025.items():
        assert places.MERGED_INTO[code] == code
        assert PRE_2025_PROVINCES[code].name == province.name
