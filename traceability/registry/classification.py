"""OCOP product classification: 6 sectors, 17 groups, 26 product sets (QĐ 148/QĐ-TTg, Phụ lục I).

QĐ 26/2026/QĐ-TTg keeps the same tree. The annex gives no codes, so the keys are our own (sector "I", group
"I.1", product set "I.1.a", numbered in the annex's order) and must stay stable once products are stored
against them.

The Vietnamese names follow domain.md's summary and a third-party transcription of the annex; check the
wording against the official Phụ lục I before showing it as the legal name. The English names are ours.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Final


@dataclass(frozen=True)
class Sector:
    """A sector (ngành), e.g. "I" Food."""

    key: str
    name_vi: str
    name_en: str


@dataclass(frozen=True)
class Group:
    """A group (nhóm) within a sector, e.g. "I.1" fresh food."""

    key: str
    sector: Sector
    name_vi: str
    name_en: str


@dataclass(frozen=True)
class ProductSet:
    """A product set (bộ sản phẩm): the unit a product is evaluated against, e.g. "I.1.a"."""

    key: str
    sector: Sector
    group: Group
    name_vi: str
    name_en: str


_SetRow = tuple[str, str, str]  # (key, name_vi, name_en)
_GroupRow = tuple[str, str, str, tuple[_SetRow, ...]]
_SectorRow = tuple[str, str, str, tuple[_GroupRow, ...]]

# Products are stored against these keys: a key, once used, names the same set for ever. Keys are written
# out (not counted from positions) so that reordering or inserting a row cannot move a stored product.
_TREE: Final[tuple[_SectorRow, ...]] = (
    (
        "I",
        "Thực phẩm",
        "Food",
        (
            (
                "I.1",
                "Thực phẩm tươi sống",
                "Fresh food",
                (
                    ("I.1.a", "Rau, củ, quả, hạt tươi", "Fresh vegetables, tubers, fruit and nuts"),
                    ("I.1.b", "Thịt, thủy sản, trứng, sữa tươi", "Fresh meat, seafood, eggs and milk"),
                ),
            ),
            (
                "I.2",
                "Thực phẩm thô, sơ chế",
                "Raw and pre-processed food",
                (
                    ("I.2.a", "Gạo, ngũ cốc, hạt sơ chế khác", "Rice, cereals and other pre-processed grains"),
                    (
                        "I.2.b",
                        "Mật ong, mật khác và nông sản thực phẩm khác",
                        "Honey, other syrups and other farm food products",
                    ),
                ),
            ),
            (
                "I.3",
                "Thực phẩm chế biến",
                "Processed food",
                (
                    ("I.3.a", "Đồ ăn nhanh", "Convenience food"),
                    ("I.3.b", "Chế biến từ gạo, ngũ cốc", "Processed from rice and cereals"),
                    ("I.3.c", "Chế biến từ rau, củ, quả, hạt", "Processed from vegetables, tubers, fruit and nuts"),
                    (
                        "I.3.d",
                        "Chế biến từ thịt, thủy sản, trứng, sữa, mật ong và nông sản thực phẩm khác",
                        "Processed from meat, seafood, eggs, milk, honey and other farm food",
                    ),
                ),
            ),
            (
                "I.4",
                "Gia vị",
                "Condiments",
                (
                    (
                        "I.4.a",
                        "Tương, nước mắm, gia vị dạng lỏng khác",
                        "Soy paste, fish sauce and other liquid condiments",
                    ),
                    ("I.4.b", "Gia vị khác", "Other condiments (salt, pepper, garlic, shallots...)"),
                ),
            ),
            (
                "I.5",
                "Chè",
                "Tea",
                (
                    ("I.5.a", "Chè tươi, chè chế biến", "Fresh and processed tea"),
                    ("I.5.b", "Sản phẩm trà từ thực vật khác", "Herbal teas from other plants"),
                ),
            ),
            (
                "I.6",
                "Cà phê, ca cao",
                "Coffee and cocoa",
                (("I.6.a", "Cà phê, ca cao", "Coffee and cocoa"),),
            ),
        ),
    ),
    (
        "II",
        "Đồ uống",
        "Drinks",
        (
            (
                "II.1",
                "Đồ uống có cồn",
                "Alcoholic drinks",
                (
                    ("II.1.a", "Rượu trắng", "White rice spirit"),
                    ("II.1.b", "Đồ uống có cồn khác", "Other alcoholic drinks"),
                ),
            ),
            (
                "II.2",
                "Đồ uống không cồn",
                "Non-alcoholic drinks",
                (
                    ("II.2.a", "Nước khoáng thiên nhiên, nước uống đóng chai", "Natural mineral and bottled water"),
                    ("II.2.b", "Đồ uống không cồn khác", "Other non-alcoholic drinks"),
                ),
            ),
        ),
    ),
    (
        "III",
        "Dược liệu và sản phẩm từ dược liệu",
        "Herbal",
        (
            (
                "III.1",
                "Thực phẩm chức năng, thuốc dược liệu, thuốc cổ truyền",
                "Functional foods, herbal and traditional medicines",
                (
                    (
                        "III.1.a",
                        "Thực phẩm chức năng, thuốc dược liệu, thuốc cổ truyền",
                        "Functional foods, herbal and traditional medicines",
                    ),
                ),
            ),
            (
                "III.2",
                "Mỹ phẩm có thành phần từ dược liệu",
                "Herbal cosmetics",
                (("III.2.a", "Mỹ phẩm có thành phần từ dược liệu", "Cosmetics with herbal ingredients"),),
            ),
            (
                "III.3",
                "Tinh dầu và dược liệu khác",
                "Essential oils and other herbal materials",
                (("III.3.a", "Tinh dầu và dược liệu khác", "Essential oils and other herbal materials"),),
            ),
        ),
    ),
    (
        "IV",
        "Thủ công mỹ nghệ",
        "Handicraft",
        (
            (
                "IV.1",
                "Thủ công mỹ nghệ gia dụng, trang trí",
                "Household and decorative handicraft",
                (("IV.1.a", "Thủ công mỹ nghệ gia dụng, trang trí", "Household and decorative handicraft"),),
            ),
            (
                "IV.2",
                "Vải, may mặc",
                "Textiles and garments",
                (("IV.2.a", "Vải, may mặc", "Textiles and garments"),),
            ),
        ),
    ),
    (
        "V",
        "Sinh vật cảnh",
        "Ornamentals",
        (
            (
                "V.1",
                "Hoa",
                "Flowers",
                (("V.1.a", "Hoa", "Flowers"),),
            ),
            (
                "V.2",
                "Cây cảnh",
                "Ornamental plants",
                (("V.2.a", "Cây cảnh", "Ornamental plants"),),
            ),
            (
                "V.3",
                "Động vật cảnh",
                "Ornamental animals",
                (("V.3.a", "Động vật cảnh", "Ornamental animals"),),
            ),
        ),
    ),
    (
        "VI",
        "Dịch vụ du lịch cộng đồng, du lịch sinh thái và điểm du lịch",
        "Rural tourism services",
        (
            (
                "VI.1",
                "Dịch vụ du lịch cộng đồng, du lịch sinh thái và điểm du lịch",
                "Community tourism, ecotourism and tourist sites",
                (
                    (
                        "VI.1.a",
                        "Dịch vụ du lịch cộng đồng, du lịch sinh thái và điểm du lịch",
                        "Community tourism, ecotourism and tourist sites",
                    ),
                ),
            ),
        ),
    ),
)


def _nested(key: str, parent: str) -> str:
    """Return key if it is parent's key followed by one more part, else fail (a typo in the table)."""
    head, _, tail = key.rpartition(".")
    if head != parent or not tail:
        raise ValueError(f"classification key {key!r} is not inside {parent!r}")
    return key


def _build() -> tuple[dict[str, Sector], dict[str, Group], dict[str, ProductSet]]:
    """Expand the nested table into keyed sectors, groups and product sets."""
    sectors: dict[str, Sector] = {}
    groups: dict[str, Group] = {}
    product_sets: dict[str, ProductSet] = {}
    for sector_key, sector_vi, sector_en, group_rows in _TREE:
        sector = Sector(sector_key, sector_vi, sector_en)
        sectors[sector.key] = sector
        for group_key, group_vi, group_en, set_rows in group_rows:
            group = Group(_nested(group_key, sector.key), sector, group_vi, group_en)
            groups[group.key] = group
            for set_key, set_vi, set_en in set_rows:
                product_set = ProductSet(_nested(set_key, group.key), sector, group, set_vi, set_en)
                product_sets[product_set.key] = product_set
    return sectors, groups, product_sets


_sectors, _groups, _product_sets = _build()

SECTORS: Final[Mapping[str, Sector]] = MappingProxyType(_sectors)
GROUPS: Final[Mapping[str, Group]] = MappingProxyType(_groups)
PRODUCT_SETS: Final[Mapping[str, ProductSet]] = MappingProxyType(_product_sets)


def get_product_set(key: str) -> ProductSet | None:
    """Return the product set with this key, or None if there is none."""
    return PRODUCT_SETS.get(key)


def is_product_set(key: str) -> bool:
    """Tell whether a key names a product set."""
    return key in PRODUCT_SETS
