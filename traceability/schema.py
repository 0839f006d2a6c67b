"""Database schema upgrades through Alembic (the migrations/ folder at the top of the project)."""

from __future__ import annotations

from alembic import command
from alembic.config import Config

from traceability.config import PROJECT_ROOT
from traceability.db import private_database_files


def alembic_config(database_url: str) -> Config:
    """Return an Alembic configuration for the given database."""
    cfg = Config()
    cfg.set_main_option("script_location", str(PROJECT_ROOT / "migrations"))
    cfg.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return cfg


def upgrade_database(database_url: str) -> None:
    """Create or upgrade the database to the newest schema."""
    private_database_files(database_url)  # a new SQLite file starts 0600, before Alembic opens it
    command.upgrade(alembic_config(database_url), "head")
