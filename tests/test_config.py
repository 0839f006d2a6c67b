"""Configuration: one reader of the environment, safe refusals, and migrations that match the models."""

from __future__ import annotations

from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from traceability import config, create_app
from traceability.db import make_engine
from traceability.errors import ConfigurationError
from traceability.models import Base


def test_production_refuses_to_start_without_a_secret(tmp_path: Any) -> None:
    with pytest.raises(ConfigurationError, match="SECRET_KEY"):
        create_app(
            {
                "ENV": "production",
                "SECRET_KEY": config.DEV_SECRET_KEY,
                "PUBLIC_BASE_URL": "https://ocop.gov.vn",
                "DATABASE_URL": f"sqlite:///{tmp_path}/x.db",
            }
        )


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("ftp://ocop.gov.vn", r"an http\(s\) URL"),
        ("http://ocop.gov.vn", "https in production"),
        ("https://truy-xuat-nguon-goc.ocop.gov.vn", "too long"),
    ],
)
def test_public_base_url_is_checked(url: str, message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        config.load("/tmp", {"ENV": "production", "SECRET_KEY": "s" * 40, "PUBLIC_BASE_URL": url})


def test_base_url_is_lowercased_for_phone_cameras() -> None:
    assert config.load("/tmp", {"PUBLIC_BASE_URL": "HTTPS://OCOP.Gov.VN/"})["PUBLIC_BASE_URL"] == "https://ocop.gov.vn"


def test_environment_is_read(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PUBLIC_BASE_URL", "https://tem.ocop.vn")
    monkeypatch.setenv("KEYS_DIR", "/srv/keys")
    loaded = config.load("/tmp")
    assert (loaded["PUBLIC_BASE_URL"], loaded["KEYS_DIR"]) == ("https://tem.ocop.vn", "/srv/keys")


def test_readme_documents_every_environment_variable() -> None:
    readme = (config.PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
    missing = [name for name in config.ENVIRONMENT if f"`{name}`" not in readme]
    assert not missing, f"README does not document: {missing}"


def test_migrations_match_the_models(app: Any, database_url: str) -> None:
    engine = make_engine(database_url)
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": False})
        differences = compare_metadata(context, Base.metadata)
    engine.dispose()
    assert differences == []
