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
                "SECRET_KEY": "too-short",
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


def test_without_secret_key_a_private_random_one_is_kept(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    import os
    import stat

    monkeypatch.delenv("SECRET_KEY", raising=False)
    first = config.load(str(tmp_path))["SECRET_KEY"]
    assert len(first) >= config.MIN_SECRET_KEY_CHARS
    assert stat.S_IMODE(os.stat(tmp_path / config.SECRET_KEY_FILE).st_mode) == 0o600
    assert config.load(str(tmp_path))["SECRET_KEY"] == first  # sessions survive a restart
    assert config.load(str(tmp_path / "other"))["SECRET_KEY"] != first


def test_production_needs_a_shared_rate_limit_store() -> None:
    settings = {"ENV": "production", "SECRET_KEY": "s" * 40, "PUBLIC_BASE_URL": "https://ocop.gov.vn"}
    with pytest.raises(ConfigurationError, match="RATELIMIT_STORAGE_URI"):
        config.load("/tmp", settings)
    config.load("/tmp", {**settings, "RATELIMIT_STORAGE_URI": "redis://127.0.0.1:6379"})


def test_oversized_requests_are_refused_before_reading(client: Any) -> None:
    response = client.post("/login", data=b"x" * (9 * 1024 * 1024), content_type="application/octet-stream")
    assert response.status_code == 413


def test_proxy_hops_trust_forwarded_address(app_config: dict[str, Any]) -> None:
    from flask import request

    application = create_app({**app_config, "PROXY_HOPS": 1})

    @application.get("/_whoami")
    def whoami() -> str:
        return f"{request.remote_addr} {request.scheme}"

    reply = application.test_client().get(
        "/_whoami", headers={"X-Forwarded-For": "203.0.113.9", "X-Forwarded-Proto": "https"}
    )
    assert reply.get_data(as_text=True) == "203.0.113.9 https"
    application.extensions["db_engine"].dispose()
