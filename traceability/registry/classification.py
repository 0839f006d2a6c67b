"""OCOP product classification: 6 sectors, 17 groups, 26 product sets (QĐ 148/QĐ-TTg, Phụ lục I).

QĐ 26/2026/QĐ-TTg keeps the same tree. The annex gives no codes, so the keys are our own and must stay
stable once products are stored against them: sector "I", group "I.1", product set "I.1.a".

The Vietnamese names follow domain.md's summary and a third-party transcription of the annex; check the
wording against the official Phụ lục I before showing it as the legal name. The English names are ours.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from string import ascii_lowercase
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


_SetRow = tuple[str, str]  # (name_vi, name_en)
_GroupRow = tuple[str, str, tuple[_SetRow, ...]]
_SectorRow = tuple[str, str, str, tuple[_GroupRow, ...]]

# Group numbers and set letters come from the order here: append rather than insert, or stored keys
# would silently point at a different set.
_TREE: Final[tuple[_SectorRow, ...]] = (
    (
        "I",
        "Thực phẩm",
        "Food",
        (
            (
                "Thực phẩm tươi sống",
                "Fresh food",
                (
                    ("Rau, củ, quả, hạt tươi", "Fresh vegetables, tubers, fruit and nuts"),
                    ("Thịt, thủy sản, trứng, sữa tươi", "Fresh meat, seafood, eggs and milk"),
                ),
            ),
            (
                "Thực phẩm thô, sơ chế",
                "Raw and pre-processed food",
                (
                    ("Gạo, ngũ cốc, hạt sơ chế khác", "Rice, cereals and other pre-processed grains"),
                    (
                        "Mật ong, mật khác và nông sản thực phẩm khác",
                        "Honey, other syrups and other farm food products",
                    ),
                ),
            ),
            (
                "Thực phẩm chế biến",
                "Processed food",
                (
                    ("Đồ ăn nhanh", "Convenience food"),
                    ("Chế biến từ gạo, ngũ cốc", "Processed from rice and cereals"),
                    ("Chế biến từ rau, củ, quả, hạt", "Processed from vegetables, tubers, fruit and nuts"),
                    (
                        "Chế biến từ thịt, thủy sản, trứng, sữa, mật ong và nông sản thực phẩm khác",
                        "Processed from meat, seafood, eggs, milk, honey and other farm food",
                    ),
                ),
            ),
            (
                "Gia vị",
                "Condiments",
                (
                    (
                        "Tương, nước mắm, gia vị dạng lỏng khác",
                        "Soy paste, fish sauce and other liquid condiments",
                    ),
                    ("Gia vị khác", "Other condiments (salt, pepper, garlic, shallots...)"),
                ),
            ),
            (
                "Chè",
                "Tea",
                (
                    ("Chè tươi, chè chế biến", "Fresh and processed tea"),
                    ("Sản phẩm trà từ thực vật khác", "Herbal teas from other plants"),
                ),
            ),
            (
                "Cà phê, ca cao",
                "Coffee and cocoa",
                (("Cà phê, ca cao", "Coffee and cocoa"),),
            ),
        ),
    ),
    (
        "II",
        "Đồ uống",
        "Drinks",
        (
            (
                "Đồ uống có cồn",
                "Alcoholic drinks",
                (
                    ("Rượu trắng", "White rice spirit"),
                    ("Đồ uống có cồn khác", "Other alcoholic drinks"),
                ),
            ),
            (
                "Đồ uống không cồn",
                "Non-alcoholic drinks",
                (
                    ("Nước khoáng thiên nhiên, nước uống đóng chai", "Natural mineral and bottled water"),
                    ("Đồ uống không cồn khác", "Other non-alcoholic drinks"),
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
                "Thực phẩm chức năng, thuốc dược liệu, thuốc cổ truyền",
                "Functional foods, herbal and traditional medicines",
                (
                    (
                        "Thực phẩm chức năng, thuốc dược liệu, thuốc cổ truyền",
                        "Functional foods, herbal and traditional medicines",
                    ),
                ),
            ),
            (
                "Mỹ phẩm có thành phần từ dược liệu",
                "Herbal cosmetics",
                (("Mỹ phẩm có thành phần từ dược liệu", "Cosmetics with herbal ingredients"),),
            ),
            (
                "Tinh dầu và dược liệu khác",
                "Essential oils and other herbal materials",
                (("Tinh dầu và dược liệu khác", "Essential oils and other herbal materials"),),
            ),
        ),
    ),
    (
        "IV",
        "Thủ công mỹ nghệ",
        "Handicraft",
        (
            (
                "Thủ công mỹ nghệ gia dụng, trang trí",
                "Household and decorative handicraft",
                (("Thủ công mỹ nghệ gia dụng, trang trí", "Household and decorative handicraft"),),
            ),
            (
                "Vải, may mặc",
                "Textiles and garments",
                (("Vải, may mặc", "Textiles and garments"),),
            ),
        ),
    ),
    (
        "V",
        "Sinh vật cảnh",
        "Ornamentals",
        (
            ("Hoa", "Flowers", (("Hoa", "Flowers"),)),
            ("Cây cảnh", "Ornamental plants", (("Cây cảnh", "Ornamental plants"),)),
            ("Động vật cảnh", "Ornamental animals", (("Động vật cảnh", "Ornamental animals"),)),
        ),
    ),
    (
        "VI",
        "Dịch vụ du lịch cộng đồng, du lịch sinh thái và điểm du lịch",
        "Rural tourism services",
        (
            (
                "Dịch vụ du lịch cộng đồng, du lịch sinh thái và điểm du lịch",
                "Community tourism, ecotourism and tourist sites",
                (
                    (
                        "Dịch vụ du lịch cộng đồng, du lịch sinh thái và điểm du lịch",
                        "Community tourism, ecotourism and tourist sites",
                    ),
                ),
            ),
        ),
    ),
)


def _build() -> tuple[dict[str, Sector], dict[str, Group], dict[str, ProductSet]]:
    """Expand the nested table into keyed sectors, groups and product sets."""
    sectors: dict[str, Sector] = {}
    groups: dict[str, Group] = {}
    product_sets: dict[str, ProductSet] = {}
    for sector_key, sector_vi, sector_en, group_rows in _TREE:
        sector = Sector(sector_key, sector_vi, sector_en)
        sectors[sector.key] = sector
        for group_number, (group_vi, group_en, set_rows) in enumerate(group_rows, start=1):
            group = Group(f"{sector_key}.{group_number}", sector, group_vi, group_en)
            groups[group.key] = group
            for index, (set_vi, set_en) in enumerate(set_rows):
                key = f"{group.key}.{ascii_lowercase[index]}"
                product_set = ProductSet(key, sector, group, set_vi, set_en)
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
