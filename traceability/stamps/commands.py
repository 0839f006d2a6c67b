"""`traceability batch ...` and `traceability keys ...`: bodies parse, call a service, commit and print."""

from __future__ import annotations

import csv
import json
import os
import time
from datetime import date, datetime
from pathlib import Path
from typing import Any

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy.orm import Session

from traceability import clock
from traceability.console import echo_json, fail, operator
from traceability.db import get_session, transaction
from traceability.errors import DomainError
from traceability.ledger.services import configured_origin
from traceability.stamps import batches, decisions, export, issuing, keys
from traceability.stamps.batches import BatchOptions
from traceability.stamps.keystore import store_from_config
from traceability.stamps.models import Batch, KeyPurpose, RangeState
from traceability.stamps.signing import jwks


def _parse_date(value: str | None, name: str) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        fail(f"--{name} must be a date as YYYY-MM-DD, not '{value}'")


def _commit_and_publish(session: Session, staged: export.StagedCsv | None) -> None:
    """Commit, then move the staged CSV into place; if the commit fails, leave no file behind."""
    try:
        session.commit()
    except BaseException:
        session.rollback()
        if staged is not None:
            staged.discard()
        raise
    if staged is not None:
        staged.publish()


def batch_summary(batch: Batch) -> dict[str, Any]:
    """Return a batch as the commands print it."""
    return {
        "batch": batch.id,
        "count": batch.quantity,
        "status": batch.status.value,
        "product": batch.product.code,
        "stars": batch.stars,
        "key": batch.key_id,
        "lot": batch.lot,
        "issued_at": batch.issued_at.isoformat() if batch.issued_at else None,
        "ranges": [{"start": r.start, "end": r.end, "state": r.state.value} for r in batch.ranges],
    }


@click.group("batch")
def batch_group() -> None:
    """Issue stamp batches and manage their stamps."""


@batch_group.command("issue")
@click.option("--product", "product_code", required=True, help="Product code (see 'traceability products').")
@click.option("--quantity", type=int, required=True, help="Number of stamps (1 to MAX_BATCH_QUANTITY).")
@click.option("--lot", help="Lot code printed with the batch.")
@click.option("--production-date", help="YYYY-MM-DD")
@click.option("--expiry-date", help="YYYY-MM-DD")
@click.option("--activate", is_flag=True, help="Mark every stamp as applied to goods at once.")
@click.option("--scratch-off", is_flag=True, help="Give every stamp a hidden code under a scratch-off layer.")
@click.option("--csv", "csv_path", type=click.Path(dir_okay=False, writable=True), help="Write serial,url per stamp.")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@with_appcontext
def issue_command(
    product_code: str,
    quantity: int,
    lot: str | None,
    production_date: str | None,
    expiry_date: str | None,
    activate: bool,
    scratch_off: bool,
    csv_path: str | None,
    as_json: bool,
) -> None:
    """Allocate, sign and record a batch for a certified product (the programme office's direct path)."""
    options = BatchOptions(
        lot,
        _parse_date(production_date, "production-date"),
        _parse_date(expiry_date, "expiry-date"),
        scratch_off=scratch_off,
    )
    started = time.perf_counter()
    session = get_session()
    try:
        issued = issuing.issue_batch(
            session,
            store_from_config(current_app.config),
            product_code,
            quantity,
            options,
            actor=operator(),
            maximum=current_app.config["MAX_BATCH_QUANTITY"],
            today=clock.today(),
            activate=activate,
            base_url=current_app.config["PUBLIC_BASE_URL"],
            csv_path=csv_path,
            ledger_origin=configured_origin(current_app.config),
        )
    except DomainError as error:
        session.rollback()
        fail(error)
    _commit_and_publish(session, issued.csv)
    _print_issued(issued, time.perf_counter() - started, activate=activate, as_json=as_json)


def _print_issued(issued: issuing.DirectIssue, seconds: float, *, activate: bool, as_json: bool) -> None:
    batch, staged = issued.batch, issued.csv
    result = {**batch_summary(batch), "seconds": round(seconds, 3)}
    if staged is not None:
        result.update({"csv": str(staged.destination), "signing_seconds": round(staged.seconds, 3)})
    if as_json:
        echo_json(result)
        return
    click.echo(
        f"Issued batch {batch.id}: {batch.quantity:,} stamps of {batch.product.code} ({'★' * (batch.stars or 0)}), "
        f"key {batch.key_id}, {'activated' if activate else 'not yet activated'}."
    )
    if staged is not None:
        click.echo(f"Signed {staged.count:,} stamps into {staged.destination} in {staged.seconds:.2f} s.")


@batch_group.command("export")
@click.argument("batch_id", type=int)
@click.option("--csv", "csv_path", required=True, type=click.Path(dir_okay=False, writable=True))
@with_appcontext
def export_command(batch_id: int, csv_path: str) -> None:
    """Write an issued batch's serials and URLs again (identical to the first export)."""
    session = get_session()
    try:
        staged = export.export_batch(
            session,
            store_from_config(current_app.config),
            batch_id,
            base_url=current_app.config["PUBLIC_BASE_URL"],
            destination=csv_path,
            actor=operator(),
        )
    except DomainError as error:
        session.rollback()
        fail(error)
    _commit_and_publish(session, staged)
    click.echo(f"Wrote {staged.count:,} stamps of batch {batch_id} to {csv_path} in {staged.seconds:.2f} s.")


@batch_group.command("scratch-codes")
@click.argument("batch_id", type=int)
@click.option("--out", "out_path", required=True, type=click.Path(dir_okay=False, writable=True))
@with_appcontext
def scratch_codes_command(batch_id: int, out_path: str) -> None:
    """Write a scratch-off batch's hidden codes (serial,code) for the printer, in a file of their own."""
    session = get_session()
    target = Path(out_path).resolve()
    temporary = target.with_name(f".{target.name}.partial")
    try:
        rows = export.scratch_codes(session, batch_id, actor=operator())
        # The codes are secrets until scratched: readable by the owner only, and whole or not at all.
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with open(descriptor, "w", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle, lineterminator="\n")
            writer.writerow(("serial", "scratch_code"))
            count = 0
            for row in rows:
                writer.writerow(row)
                count += 1
        session.commit()
    except DomainError as error:
        session.rollback()
        temporary.unlink(missing_ok=True)
        fail(error)
    except BaseException:
        session.rollback()
        temporary.unlink(missing_ok=True)
        raise
    os.replace(temporary, target)
    click.echo(f"Wrote {count:,} scratch-off codes of batch {batch_id} to {out_path}: give it to the printer only.")


@batch_group.command("list")
@click.option("--json", "as_json", is_flag=True)
@with_appcontext
def list_command(as_json: bool) -> None:
    """List batches, newest first."""
    for batch in decisions.list_batches(get_session(), limit=None):
        row = batch_summary(batch)
        if as_json:
            echo_json(row)
        else:
            click.echo(
                f"{batch.id:>6} {batch.status.value:<9} {batch.quantity:>8,} {batch.product.code:<10} {batch.lot or ''}"
            )


@batch_group.command("show")
@click.argument("batch_id", type=int)
@with_appcontext
def show_command(batch_id: int) -> None:
    """Show one batch with its stamp ranges as JSON."""
    try:
        echo_json(batch_summary(batches.batch_or_404(get_session(), batch_id)))
    except DomainError as error:
        fail(error)


def _range_command(name: str, state: RangeState, help_text: str) -> None:
    @batch_group.command(name, help=help_text)
    @click.argument("batch_id", type=int)
    @click.option("--from", "first", type=int, default=0, show_default=True, help="First stamp number (0-based).")
    @click.option("--to", "last", type=int, help="Last stamp number, inclusive (default: the batch's last).")
    @click.option("--reason", default=None)
    @with_appcontext
    def command(batch_id: int, first: int, last: int | None, reason: str | None) -> None:
        try:
            with transaction() as session:
                batch = batches.batch_or_404(session, batch_id)
                end = batch.quantity if last is None else last + 1
                batch = batches.change_range(session, batch, first, end, state, actor=operator(), reason=reason)
        except DomainError as error:
            fail(error)
        click.echo(f"Batch {batch_id}: stamps {first}..{end - 1} are now {state.value}.")


_range_command("activate", RangeState.ACTIVATED, "Mark stamps as applied to goods.")
_range_command("void", RangeState.VOIDED, "Void stamps that were damaged or lost.")


@batch_group.command("revoke")
@click.argument("batch_id", type=int)
@click.option("--reason", required=True)
@with_appcontext
def revoke_command(batch_id: int, reason: str) -> None:
    """Withdraw a whole batch."""
    try:
        with transaction() as session:
            decisions.revoke(session, batch_id, actor=operator(), reason=reason)
    except DomainError as error:
        fail(error)
    click.echo(f"Batch {batch_id} is revoked.")


@click.group("keys")
def keys_group() -> None:
    """Manage the Ed25519 keys: stamp keys sign stamps, publication keys sign the trust list and bundle."""


@keys_group.command("list")
@click.option("--json", "as_json", is_flag=True)
@with_appcontext
def keys_list_command(as_json: bool) -> None:
    """List keys and their status."""
    store = store_from_config(current_app.config)
    for key in keys.list_keys(get_session()):
        row = {**keys.snapshot(key), "private_key_present": store.has(key.id, key.purpose.value)}
        if as_json:
            echo_json(row)
        else:
            click.echo(
                f"{key.id:>5} {key.purpose.value:<11} {key.status.value:<11} created {key.created_at:%Y-%m-%d}"
                f"{'' if row['private_key_present'] else '  (no private key here)'}"
            )


@keys_group.command("generate")
@click.option("--note", default=None)
@click.option(
    "--purpose",
    type=click.Choice([p.value for p in KeyPurpose]),
    default=KeyPurpose.STAMP.value,
    show_default=True,
    help="stamp: signs stamps; publication: signs the trust list and revocation bundle.",
)
@with_appcontext
def keys_generate_command(note: str | None, purpose: str) -> None:
    """Create a new key and make it the active one of its purpose (the previous one is retired): a rotation."""
    store = store_from_config(current_app.config)
    try:
        with transaction() as session:
            key = keys.rotate_key(session, store, actor=operator(), note=note, purpose=KeyPurpose(purpose))
    except DomainError as error:
        fail(error)
    label = "Publication key" if key.purpose is KeyPurpose.PUBLICATION else "Key"
    click.echo(f"{label} {key.id} is now active; private key in {store.path(key.id, purpose)} (mode 0600).")


keys_group.add_command(keys_generate_command, "rotate")


@keys_group.command("retire")
@click.argument("key_id", type=int)
@with_appcontext
def keys_retire_command(key_id: int) -> None:
    """Stop signing with a key; its stamps stay valid and its public key stays published."""
    try:
        with transaction() as session:
            keys.retire_key(session, key_id, actor=operator())
    except DomainError as error:
        fail(error)
    click.echo(f"Key {key_id} is retired.")


@keys_group.command("compromise")
@click.argument("key_id", type=int)
@click.option(
    "--at",
    "at_text",
    required=True,
    help="When it leaked, ISO 8601 with a zone (e.g. 2026-05-01T08:00+07:00).",
)
@click.option("--note", required=True, help="What happened.")
@with_appcontext
def keys_compromise_command(key_id: int, at_text: str, note: str) -> None:
    """Mark a key compromised: stamps of batches issued before --at stay valid, later ones are revoked."""
    try:
        at = datetime.fromisoformat(at_text)
    except ValueError:
        fail(f"--at must be an ISO 8601 time with a zone, not '{at_text}'")
    try:
        with transaction() as session:
            store = store_from_config(current_app.config)
            key, replacement = keys.compromise(session, store, key_id, at, note, actor=operator())
            trusted = keys.trusted_batches_count(session, key)
    except DomainError as error:
        fail(error)
    click.echo(
        f"Key {key_id} is marked compromised at {at.isoformat()}; the {trusted} batches it signed before then stay "
        "trusted (by their issue time in the ledger), everything else it signed reads revoked."
    )
    if replacement is not None:
        click.echo(
            f"It was the active {key.purpose.value} key: key {replacement.id} is active now. "
            "Publish the new JWK Set and trust list."
        )


@keys_group.command("export")
@click.option("--jwks", "as_jwks", is_flag=True, required=True, help="Write the public keys as a JWK Set.")
@click.argument("destination", required=False, type=click.Path(dir_okay=False, writable=True))
@with_appcontext
def keys_export_command(as_jwks: bool, destination: str | None) -> None:
    """Write the public JWK Set to a file, or print it."""
    document = json.dumps(jwks(keys.keyring(get_session()).values()), indent=2)
    if destination:
        Path(destination).write_text(document + "\n", encoding="utf-8")
        click.echo(f"Wrote the public keys to {destination}.")
    else:
        click.echo(document)
