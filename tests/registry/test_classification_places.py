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


# Every product set's key and names, written out: products are stored against these keys, so a key must
# never come to name another set (a row inserted or moved in the table would do that silently).
PINNED_PRODUCT_SETS = (
    ("I.1.a", "Rau, củ, quả, hạt tươi", "Fresh vegetables, tubers, fruit and nuts"),
    ("I.1.b", "Thịt, thủy sản, trứng, sữa tươi", "Fresh meat, seafood, eggs and milk"),
    ("I.2.a", "Gạo, ngũ cốc, hạt sơ chế khác", "Rice, cereals and other pre-processed grains"),
    ("I.2.b", "Mật ong, mật khác và nông sản thực phẩm khác", "Honey, other syrups and other farm food products"),
    ("I.3.a", "Đồ ăn nhanh", "Convenience food"),
    ("I.3.b", "Chế biến từ gạo, ngũ cốc", "Processed from rice and cereals"),
    ("I.3.c", "Chế biến từ rau, củ, quả, hạt", "Processed from vegetables, tubers, fruit and nuts"),
    (
        "I.3.d",
        "Chế biến từ thịt, thủy sản, trứng, sữa, mật ong và nông sản thực phẩm khác",
        "Processed from meat, seafood, eggs, milk, honey and other farm food",
    ),
    ("I.4.a", "Tương, nước mắm, gia vị dạng lỏng khác", "Soy paste, fish sauce and other liquid condiments"),
    ("I.4.b", "Gia vị khác", "Other condiments (salt, pepper, garlic, shallots...)"),
    ("I.5.a", "Chè tươi, chè chế biến", "Fresh and processed tea"),
    ("I.5.b", "Sản phẩm trà từ thực vật khác", "Herbal teas from other plants"),
    ("I.6.a", "Cà phê, ca cao", "Coffee and cocoa"),
    ("II.1.a", "Rượu trắng", "White rice spirit"),
    ("II.1.b", "Đồ uống có cồn khác", "Other alcoholic drinks"),
    ("II.2.a", "Nước khoáng thiên nhiên, nước uống đóng chai", "Natural mineral and bottled water"),
    ("II.2.b", "Đồ uống không cồn khác", "Other non-alcoholic drinks"),
    (
        "III.1.a",
        "Thực phẩm chức năng, thuốc dược liệu, thuốc cổ truyền",
        "Functional foods, herbal and traditional medicines",
    ),
    ("III.2.a", "Mỹ phẩm có thành phần từ dược liệu", "Cosmetics with herbal ingredients"),
    ("III.3.a", "Tinh dầu và dược liệu khác", "Essential oils and other herbal materials"),
    ("IV.1.a", "Thủ công mỹ nghệ gia dụng, trang trí", "Household and decorative handicraft"),
    ("IV.2.a", "Vải, may mặc", "Textiles and garments"),
    ("V.1.a", "Hoa", "Flowers"),
    ("V.2.a", "Cây cảnh", "Ornamental plants"),
    ("V.3.a", "Động vật cảnh", "Ornamental animals"),
    (
        "VI.1.a",
        "Dịch vụ du lịch cộng đồng, du lịch sinh thái và điểm du lịch",
        "Community tourism, ecotourism and tourist sites",
    ),
)


@pytest.mark.parametrize(("key", "name_vi", "name_en"), PINNED_PRODUCT_SETS)
def test_each_product_set_key_keeps_its_names(key: str, name_vi: str, name_en: str) -> None:
    assert (PRODUCT_SETS[key].name_vi, PRODUCT_SETS[key].name_en) == (name_vi, name_en)


def test_no_product_set_is_missing_from_the_pinned_list() -> None:
    assert list(PRODUCT_SETS) == [key for key, _, _ in PINNED_PRODUCT_SETS]


@pytest.mark.parametrize(
    ("group", "sector"), [("I.1", "II"), ("II.3", "II.3"), ("I.1.a", "I"), ("I.1.", "I"), ("I1", "I")]
)
def test_a_key_outside_its_parent_is_refused(group: str, sector: str) -> None:
    with pytest.raises(ValueError, match="is not inside"):
        classification._nested(group, sector)


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
    province = current_province("pre2025", old_code)
    assert province is PROVINCES_2025[new_code]
    assert (province.code, province.name) == (new_code, new_name)


@pytest.mark.parametrize("code", sorted(PROVINCES_2025))
def test_a_2025_address_is_already_current(code: str) -> None:
    province = current_province("2025", code)
    assert province is PROVINCES_2025[code]
    assert province_name("2025", code) == province.name


@pytest.mark.parametrize("code", ["58", "70", "54", "95"])
def test_merged_away_codes_do_not_exist_under_the_2025_scheme(code: str) -> None:
    assert current_province("2025", code) is None
    assert province_name("2025", code) is None


@pytest.mark.parametrize(
    ("scheme", "code"),
    [
        *(("pre2025", code) for code in ("01", "79", "4", "058", "", "99", "Ninh Thuận")),
        *(("2025", code) for code in ("4", "058", "", "99", "Ninh Thuận")),
    ],
)
def test_unknown_province_codes_are_not_guessed(scheme: str, code: str) -> None:
    # Pre-2025 provinces outside the seed provinces are unknown: which 2025 province they joined is not listed.
    assert current_province(scheme, code) is None
    assert province_name(scheme, code) is None


def test_the_2025_map_has_34_provinces_each_with_a_centre_in_vietnam() -> None:
    assert len(PROVINCES_2025) == 34
    assert (PROVINCES_2025["01"].name, PROVINCES_2025["79"].name) == ("Hà Nội", "TP. Hồ Chí Minh")
    for province in PROVINCES_2025.values():
        assert province.latitude is not None and 8.0 < province.latitude < 23.5
        assert province.longitude is not None and 102.0 < province.longitude < 110.0


def test_the_public_pages_use_the_registry_provinces() -> None:
    from traceability.verification import provinces

    assert provinces.PROVINCES is PROVINCES_2025
    assert provinces.get_province("56") is PROVINCES_2025["56"]


@pytest.mark.parametrize("scheme", ["", "2024", "PRE_2025", "pre-2025"])
def test_an_unknown_scheme_is_an_error(scheme: str) -> None:
    with pytest.raises(ValueError, match="scheme"):
        current_province(scheme, "58")
    with pytest.raises(ValueError, match="scheme"):
        province_name(scheme, "58")


def test_province_tables_are_consistent() -> None:
    assert set(places.MERGED_INTO) == set(PRE_2025_PROVINCES)
    assert set(places.MERGED_INTO.values()) == places.SEED_PROVINCES <= set(PROVINCES_2025)
    for table in (PRE_2025_PROVINCES, PROVINCES_2025):
        for code, province in table.items():
            assert re.fullmatch(r"[0-9]{2}", code)
            assert province.code == code
    # Each 2025 province kept the code and name of the pre-2025 province it grew from.
    for code in places.SEED_PROVINCES:
        assert places.MERGED_INTO[code] == code
        assert PRE_2025_PROVINCES[code].name == PROVINCES_2025[code].name
