"""Migration 0008 rewrites stored GTINs as GTIN-14, and stops with the products' codes when two would clash."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from alembic import command
from sqlalchemy import Engine, select, text

from traceability.db import make_engine
from traceability.registry.models import Product
from traceability.schema import alembic_config, upgrade_database


@pytest.fixture
def before_0008(database_url: str, factory: Any) -> Iterator[Engine]:
    """Return an engine on the test database taken back to revision 0007; it is upgraded again afterwards."""
    for code in ("SP-13", "SP-12", "SP-8", "SP-14", "SP-NONE"):
        factory.product(code, stars=None)
    command.downgrade(alembic_config(database_url), "0007")
    engine = make_engine(database_url)
    yield engine
    with engine.begin() as connection:  # a clash left behind would stop the upgrade the other tests need
        connection.execute(text("UPDATE products SET gtin = NULL"))
    engine.dispose()
    upgrade_database(database_url)


def _store(engine: Engine, gtins: dict[str, str | None]) -> None:
    """Write GTINs as the code before 0008 stored them: as typed."""
    with engine.begin() as connection:
        for code, gtin in gtins.items():
            connection.execute(
                text("UPDATE products SET gtin = :gtin WHERE code = :code"), {"gtin": gtin, "code": code}
            )


def _stored(engine: Engine) -> dict[str, str | None]:
    with engine.connect() as connection:
        return {row.code: row.gtin for row in connection.execute(select(Product.code, Product.gtin))}


def test_the_migration_pads_every_gtin_to_14_digits(database_url: str, before_0008: Engine) -> None:
    _store(before_0008, {"SP-13": "8936123450014", "SP-12": "036000291452", "SP-8": "96385074"})
    _store(before_0008, {"SP-14": "18936123450011"})
    upgrade_database(database_url)
    assert _stored(before_0008) == {
        "SP-13": "08936123450014",
        "SP-12": "00036000291452",
        "SP-8": "00000096385074",
        "SP-14": "18936123450011",
        "SP-NONE": None,
    }


def test_one_gtin_on_two_products_stops_the_migration_with_their_codes(database_url: str, before_0008: Engine) -> None:
    _store(before_0008, {"SP-13": "8936123450014", "SP-14": "08936123450014", "SP-8": "96385074"})
    with pytest.raises(RuntimeError, match=r"GTIN 08936123450014: products SP-13, SP-14\)") as stopped:
        upgrade_database(database_url)
    assert "Nothing was changed" in str(stopped.value)
    assert _stored(before_0008)["SP-8"] == "96385074"
    with before_0008.connect() as connection:
        assert connection.execute(text("SELECT version_num FROM alembic_version")).scalar_one() == "0007"
