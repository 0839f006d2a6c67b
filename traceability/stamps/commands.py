"""`traceability batch ...` and `traceability keys ...`: bodies call services, nothing more."""

from __future__ import annotations

import json
import os
import tempfile
import time
from collections.abc import Iterable, Iterator
from datetime import date, datetime
from pathlib import Path
from typing import IO, Any

import click
from flask import current_app
from flask.cli import with_appcontext

from traceability import clock
from traceability.audit import services as audit
from traceability.console import echo_json, fail, operator
from traceability.db import get_session, transaction
from traceability.errors import DomainError
from traceability.registry import services as registry
from traceability.stamps import batches, keys
from traceability.stamps.batches import BatchOptions, IssuedStamp
from traceability.stamps.export import stamp_csv_chunks
from traceability.stamps.keystore import store_from_config
from traceability.stamps.models import Batch, KeyPurpose, RangeState
from traceability.stamps.signing import jwks

OPERATOR = "cli"


def _parse_date(value: str | None, name: str) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        fail(f"--{name} must be a date as YYYY-MM-DD, not '{value}'")


def write_stamp_csv(handle: IO[str], stamps: Iterable[IssuedStamp]) -> int:
    """Write serial,url,sequence rows (header first) and return the number of stamps."""
    count = 0

    def counted() -> Iterator[IssuedStamp]:
        nonlocal count
        for stamp in stamps:
            count += 1
            yield stamp

    for text in stamp_csv_chunks(counted()):
        handle.write(text)
    return count


def _sign_to_temp(batch: Batch, destination: str) -> tuple[Path, int, float]:
    """Sign every stamp of the batch into a temporary file beside destination; return it, count, seconds.

    The caller renames it into place only once the batch is committed, so a CSV never names stamps
    that were not recorded, and an interrupted run leaves no half-written file.
    """
    private_key = batches.signing_key_for(get_session(), store_from_config(current_app.config), batch)
    started = time.perf_counter()
    target = Path(destination).resolve()
    handle = tempfile.NamedTemporaryFile(  # noqa: SIM115 - closed below, renamed by the caller
        "w", encoding="utf-8", newline="", dir=target.parent, prefix=f".{target.name}.", delete=False
    )
    try:
        with handle:
            count = write_stamp_csv(handle, batches.stamps(batch, private_key, current_app.config["PUBLIC_BASE_URL"]))
    except BaseException:
        Path(handle.name).unlink(missing_ok=True)
        raise
    return Path(handle.name), count, time.perf_counter() - started


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
    csv_path: str | None,
    as_json: bool,
) -> None:
    """Allocate, sign and record a batch for a certified product (the programme office's direct path)."""
    options = BatchOptions(
        lot, _parse_date(production_date, "production-date"), _parse_date(expiry_date, "expiry-date")
    )
    started = time.perf_counter()
    session = get_session()
    try:
        product = registry.product_or_404(session, product_code)
        batch = batches.issue_direct(
            session,
            store_from_config(current_app.config),
            product,
            quantity,
            options,
            actor=operator(),
            maximum=current_app.config["MAX_BATCH_QUANTITY"],
            today=clock.today(),
            activate=activate,
        )
        temporary, signed, signing_seconds = _sign_to_temp(batch, csv_path) if csv_path else (None, 0, 0.0)
        try:
            session.commit()
        except BaseException:
            if temporary:
                temporary.unlink(missing_ok=True)
            raise
        if temporary and csv_path:
            os.replace(temporary, csv_path)
    except DomainError as error:
        session.rollback()
        fail(error)
    except BaseException:
        session.rollback()
        raise
    result = {**batch_summary(batch), "seconds": round(time.perf_counter() - started, 3)}
    if csv_path:
        result.update({"csv": csv_path, "signing_seconds": round(signing_seconds, 3)})
    if as_json:
        echo_json(result)
        return
    click.echo(
        f"Issued batch {batch.id}: {batch.quantity:,} stamps of {product.code} ({'★' * (batch.stars or 0)}), "
        f"key {batch.key_id}, {'activated' if activate else 'not yet activated'}."
    )
    if csv_path:
        click.echo(f"Signed {signed:,} stamps into {csv_path} in {signing_seconds:.2f} s.")


@batch_group.command("export")
@click.argument("batch_id", type=int)
@click.option("--csv", "csv_path", required=True, type=click.Path(dir_okay=False, writable=True))
@with_appcontext
def export_command(batch_id: int, csv_path: str) -> None:
    """Write an issued batch's serials and URLs again (identical to the first export)."""
    try:
        temporary, count, seconds = _sign_to_temp(batches.batch_or_404(get_session(), batch_id), csv_path)
    except DomainError as error:
        fail(error)
    try:
        with transaction() as session:  # who took a copy of the stamps is part of the record
            audit.record(session, operator(), "batch.export", f"batch:{batch_id}", after={"format": "csv"})
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    os.replace(temporary, csv_path)
    click.echo(f"Wrote {count:,} stamps of batch {batch_id} to {csv_path} in {seconds:.2f} s.")


@batch_group.command("list")
@click.option("--json", "as_json", is_flag=True)
@with_appcontext
def list_command(as_json: bool) -> None:
    """List batches, newest first."""
    from sqlalchemy import select

    for batch in get_session().scalars(select(Batch).order_by(Batch.id.desc())):
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
            batches.revoke(session, batches.batch_or_404(session, batch_id), actor=operator(), reason=reason)
    except DomainError as error:
        fail(error)
    click.echo(f"Batch {batch_id} is revoked.")


@click.group("keys")
def keys_group() -> None:
    """Manage the Ed25519 keys: stamp keys sign stamps, publication keys sign the trust list and bundle."""


def _key_row(key: Any) -> dict[str, Any]:
    return {
        "kid": key.id,
        "purpose": key.purpose.value,
        "status": key.status.value,
        "created_at": key.created_at.isoformat(),
        "retired_at": key.retired_at.isoformat() if key.retired_at else None,
        "compromised_at": key.compromised_at.isoformat() if key.compromised_at else None,
        "last_trusted_batch": key.last_trusted_batch_id,
    }


@keys_group.command("list")
@click.option("--json", "as_json", is_flag=True)
@with_appcontext
def keys_list_command(as_json: bool) -> None:
    """List keys and their status."""
    store = store_from_config(current_app.config)
    for key in keys.list_keys(get_session()):
        row = {**_key_row(key), "private_key_present": store.has(key.id, key.purpose.value)}
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
            key = keys.generate_key(session, store, note=note, purpose=KeyPurpose(purpose))
            audit.record(session, operator(), "key.generate", f"key:{key.id}", after=_key_row(key))
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
            before = _key_row(keys.key_or_404(session, key_id))
            key = keys.retire_key(session, key_id)
            audit.record(session, operator(), "key.retire", f"key:{key_id}", before=before, after=_key_row(key))
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
            before = _key_row(keys.key_or_404(session, key_id))
            key, replacement = keys.compromise(session, store_from_config(current_app.config), key_id, at, note)
            audit.record(
                session,
                operator(),
                "key.compromise",
                f"key:{key_id}",
                before=before,
                after={**_key_row(key), "note": note, "replacement": replacement.id if replacement else None},
            )
    except DomainError as error:
        fail(error)
    click.echo(f"Key {key_id} is marked compromised; batches up to {key.last_trusted_batch_id or 'none'} stay trusted.")
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
