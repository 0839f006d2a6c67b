"""The `traceability` command: set-up, registry listings, and the feature command groups."""

from __future__ import annotations

import sys
from typing import Any

import click
from flask import Flask, current_app
from flask.cli import FlaskGroup, with_appcontext

from traceability import clock
from traceability.accounts.commands import users_group
from traceability.console import echo_json, fail
from traceability.db import transaction
from traceability.errors import DomainError
from traceability.ledger.commands import ledger_group
from traceability.operations.commands import backup_command, restore_command
from traceability.printing.commands import print_command, worker_command
from traceability.stamps.commands import batch_group, keys_group
from traceability.verification.commands import scans_group, verify_command


def create_cli_app() -> Any:
    """Build the app for a command (FlaskGroup calls this)."""
    from traceability import create_app

    return create_app()


@click.group(cls=FlaskGroup, create_app=create_cli_app, add_version_option=False)
def main() -> None:
    """OCOP stamp service: registry, signed stamps, verification.

    The commands live on the app (app.cli), so `flask --app wsgi`, tests' CLI runner and this entry
    point all see the same set.
    """


@click.command("init")
@with_appcontext
def init_command() -> None:
    """Create or upgrade the database and make sure a stamp key and a publication key exist."""
    from traceability.schema import upgrade_database
    from traceability.stamps import keys
    from traceability.stamps.keystore import store_from_config
    from traceability.stamps.models import KeyPurpose

    upgrade_database(current_app.config["DATABASE_URL"])
    store = store_from_config(current_app.config)
    try:
        with transaction() as session:
            adopted = keys.adopt_stored_keys(session, store)
            for key in adopted:
                click.echo(f"Registered key {key.id} found in {store.directory}.")
            purposes = {key.purpose for key in keys.list_keys(session)}
            if KeyPurpose.STAMP not in purposes:
                key = keys.generate_key(session, store, note="development key created by 'traceability init'")
                click.echo(f"Created signing key {key.id} in {store.path(key.id)} (mode 0600).")
            if KeyPurpose.PUBLICATION not in purposes:
                key = keys.generate_key(
                    session, store, note="created by 'traceability init'", purpose=KeyPurpose.PUBLICATION
                )
                click.echo(
                    f"Created publication key {key.id} (signs the trust list and revocation bundle) in "
                    f"{store.path(key.id, key.purpose.value)} (mode 0600)."
                )
    except DomainError as error:
        fail(error)
    click.echo("Database is up to date.")


@click.command("demo")
@with_appcontext
def demo_command() -> None:
    """Load the demo registry from the seed provinces (idempotent)."""
    from traceability.registry.demo import load_demo

    try:
        with transaction() as session:
            counts = load_demo(session)
    except DomainError as error:
        fail(error)
    click.echo("Demo data loaded: " + ", ".join(f"{n} {what}" for what, n in counts.items()) + ".")


def _certification_summary(product: Any) -> dict[str, Any]:
    from traceability.registry.services import current_certification, latest_certification

    valid = current_certification(product, clock.today())
    shown = valid or latest_certification(product)
    return {
        "stars": shown.stars if shown else None,
        "certified": valid is not None,
        "valid_until": shown.valid_until.isoformat() if shown else None,
        "decision_number": shown.decision_number if shown else None,
    }


@click.command("products")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
@click.option("--producer", help="Only this producer's products (producer code).")
@with_appcontext
def products_command(as_json: bool, producer: str | None) -> None:
    """List products with their stars and whether they may carry stamps today."""
    from traceability.db import get_session
    from traceability.registry import services

    session = get_session()
    owner = None
    if producer:
        owner = services.producer_by_code(session, producer)
        if owner is None:
            fail(f"no producer has the code '{producer}'")
    for product in services.list_products(session, owner):
        row = {
            "code": product.code,
            "name": product.name,
            "producer": product.producer.code,
            **_certification_summary(product),
        }
        if as_json:
            echo_json(row)
        else:
            stars = "★" * row["stars"] if row["stars"] else "-"
            mark = "certified" if row["certified"] else "NOT certified"
            click.echo(f"{product.code:<10} {stars:<6} {mark:<14} {product.producer.code:<8} {product.name}")


@click.command("producers")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
@with_appcontext
def producers_command(as_json: bool) -> None:
    """List producers."""
    from traceability.db import get_session
    from traceability.registry import services
    from traceability.registry.places import current_province

    for producer in services.list_producers(get_session()):
        today_province = current_province(producer.address_scheme.value, producer.province_code)
        row = {
            "code": producer.code,
            "name": producer.name,
            "type": producer.type.value,
            "tax_code": producer.tax_code,
            "province": producer.province,
            "province_now": today_province.name if today_province else None,
        }
        if as_json:
            echo_json(row)
        else:
            click.echo(f"{producer.code:<8} {producer.type.value:<18} {producer.province:<12} {producer.name}")


def init_app(app: Flask) -> None:
    """Attach every command to the app's command group."""
    batch_group.add_command(print_command)
    for command in (
        init_command,
        demo_command,
        products_command,
        producers_command,
        batch_group,
        keys_group,
        ledger_group,
        verify_command,
        scans_group,
        users_group,
        worker_command,
        backup_command,
        restore_command,
    ):
        app.cli.add_command(command)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
