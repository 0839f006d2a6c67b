"""`traceability verify` (online, or offline with published keys and a revocation bundle),
`traceability revocations|trustlist export` and `traceability scans partitions|purge`."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy.orm import Session

from traceability import clock
from traceability.console import echo_json, fail
from traceability.db import get_session, transaction, utcnow
from traceability.errors import DomainError
from traceability.stamps.keystore import KeyStore, store_from_config
from traceability.verification import partitions, publication, retention
from traceability.verification.clones import Thresholds
from traceability.verification.offline_material import Material, offline_material
from traceability.verification.records import outcome_record, verification_record
from traceability.verification.services import own_prefixes, verify_and_assess
from traceability.verification.trustlist import (
    apply_revocations,
)
from traceability.verification.verdicts import Verdict, check_offline

_OFFLINE_HELP = """

Offline, what is pinned is what you give: a JWK Set given to --trust is trusted as it is (get it from a
source you trust); a signed trust list (/.well-known/ocop-trust-list.json) is checked with the publication
key(s) of the JWK Set given to --pin, and its keys are used. The revocation bundle and the ledger's
checkpoint must be signed by a publication key so trusted. Without --revocations the revocation status is
NOT checked, and without a ledger (--ledger, or inside the bundle) the stamps' batches are NOT checked: the
command says so and exits 3 even when every code reads genuine. --state FILE remembers the newest trust list,
bundle and ledger seen and refuses older ones. Exits 0 only if every code is genuine and everything was
checked, 1 if any code is not genuine."""


@click.command("verify")
@click.argument("codes", nargs=-1)
@click.option("--json", "as_json", is_flag=True, help="One JSON object per code.")
@click.option("--offline", is_flag=True, help="Use only published documents, not the database.")
@click.option(
    "--trust",
    "trust_file",
    type=click.Path(exists=True, dir_okay=False),
    help="For --offline: a JWK Set (pinned as given) or a signed trust list (checked with --pin).",
)
@click.option(
    "--pin",
    "pin_file",
    type=click.Path(exists=True, dir_okay=False),
    help="A JWK Set whose publication keys are pinned: they must sign the trust list, bundle and ledger.",
)
@click.option(
    "--revocations",
    "revocations_file",
    type=click.Path(exists=True, dir_okay=False),
    help="Signed revocation bundle for --offline (refused if altered or stale).",
)
@click.option(
    "--ledger",
    "ledger_file",
    type=click.Path(exists=True, dir_okay=False),
    help="Ledger export for --offline ('traceability ledger export'); default: the one inside the bundle.",
)
@click.option(
    "--state",
    "state_file",
    type=click.Path(dir_okay=False),
    help="File remembering the newest trust list, bundle and ledger seen; older ones are refused.",
)
@click.option("--not-before", "not_before_text", help="Refuse a revocation bundle issued before this ISO 8601 time.")
@with_appcontext
def verify_command(
    codes: tuple[str, ...],
    as_json: bool,
    offline: bool,
    trust_file: str | None,
    pin_file: str | None,
    revocations_file: str | None,
    ledger_file: str | None,
    state_file: str | None,
    not_before_text: str | None,
) -> None:
    """Verify stamp codes (a full URL or the token); '-' reads codes from standard input, one a line.

    Online, scan patterns of genuine codes are judged too (the verdict may be 'suspicious'); nothing is
    recorded. A URL that does not start with PUBLIC_BASE_URL or one of STAMP_URL_PREFIXES reads 'suspicious'
    (its QR may have been replaced), online and offline. Exits 0 only if every code is genuine.
    """
    offline_only = (trust_file, pin_file, revocations_file, ledger_file, state_file, not_before_text)
    if offline and not trust_file:
        fail("--offline needs --trust JWKS_FILE (export it with 'traceability keys export --jwks FILE')")
    if any(option is not None for option in offline_only) and not offline:
        fail("--trust, --pin, --revocations, --ledger, --state and --not-before are only used with --offline")
    not_before = _parse_not_before(not_before_text)
    inputs = _read_codes(codes)
    if trust_file is None:
        records, not_checked = _verify_online(inputs), []
    else:
        material = offline_material(trust_file, pin_file, revocations_file, ledger_file, state_file, not_before)
        records, not_checked = _verify_offline(inputs, material), material.not_checked
    _print_records(records, as_json=as_json)
    for missing in not_checked:
        click.echo(f"WARNING: {missing} was NOT checked: a code reading genuine here may be revoked.", err=True)
    if sum(r["verdict"] == Verdict.GENUINE.value for r in records) != len(records):
        sys.exit(1)
    if not_checked:
        sys.exit(3)


verify_command.help = (verify_command.help or "") + _OFFLINE_HELP


def _parse_not_before(text: str | None) -> datetime | None:
    if text is None:
        return None
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        value = None
    if value is None or value.tzinfo is None:
        fail(f"--not-before must be an ISO 8601 time with a zone, not {text!a}")
    return value


def _read_codes(codes: tuple[str, ...]) -> list[str]:
    """Return the codes given, trimmed: from the arguments, or from standard input for '-'."""
    if codes == ("-",):
        inputs = [line.strip() for line in sys.stdin if line.strip()]
    else:
        inputs = [code.strip() for code in codes]
    if not inputs:
        fail("give at least one code, or '-' to read codes from standard input")
    return inputs


def _verify_offline(inputs: list[str], material: Material) -> list[dict[str, Any]]:
    """Check codes against the keys, the ledger and the revocation bundle that were given."""
    today, prefixes = clock.today(), own_prefixes(current_app.config)
    records = []
    for code in inputs:
        outcome = check_offline(code, material.stamp_keys, today, prefixes, material.ledger)
        if material.bundle is not None:
            apply_revocations(outcome, material.bundle, material.ledger)
        record = outcome_record(code, outcome)
        if material.not_checked:
            record["not_checked"] = material.not_checked
        records.append(record)
    return records


def _verify_online(inputs: list[str]) -> list[dict[str, Any]]:
    """Verify codes against the registry and judge their scan history, recording nothing."""
    session, today = get_session(), clock.today()
    limits, prefixes = Thresholds.from_config(current_app.config), own_prefixes(current_app.config)
    records = []
    for code in inputs:
        result = verify_and_assess(session, code, today, limits, prefixes=prefixes)
        records.append(verification_record(code, result, evidence=True))  # the operator sees the evidence
    session.rollback()  # verifying changes nothing
    return records


def _print_records(records: list[dict[str, Any]], *, as_json: bool) -> None:
    """Print one line (or JSON object) a code, then how many were genuine when there were several."""
    for record in records:
        if as_json:
            echo_json(record)
            continue
        reason = next(iter(record["reasons"].values()), "signature and status check out")
        stamp = record.get("stamp")
        where = f"batch {stamp['batch']} #{stamp['sequence']}" if stamp else ""
        click.echo(f"{record['verdict']:<20} {where:<22} {reason}")
    genuine = sum(r["verdict"] == Verdict.GENUINE.value for r in records)
    if not as_json and len(records) > 1:
        click.echo(f"{genuine} of {len(records)} genuine.", err=True)


def _write(document: dict[str, Any], path: str) -> None:
    text = json.dumps(document, ensure_ascii=False, indent=2) + "\n"
    if path == "-":
        click.echo(text, nl=False)
    else:
        with open(path, "w", encoding="utf-8") as handle:
            handle.write(text)


def _export(sign: Callable[[Session, KeyStore], dict[str, Any]], path: str) -> dict[str, Any]:
    """Sign a document with the active publication key and write it to path ('-': standard output)."""
    try:
        document = sign(get_session(), store_from_config(current_app.config))
    except DomainError as error:
        fail(error)
    _write(document, path)
    return document


@click.group("revocations")
def revocations_group() -> None:
    """The signed revocation bundle for offline verifiers."""


@revocations_group.command("export")
@click.argument("path", default="-")
@with_appcontext
def export_revocations(path: str) -> None:
    """Write the signed revocation bundle to PATH ('-' for standard output)."""
    max_age = timedelta(seconds=int(current_app.config["REVOCATIONS_MAX_AGE_SECONDS"]))
    document = _export(
        lambda session, store: publication.revocations(session, store, utcnow(), clock.today(), max_age), path
    )
    if path != "-":
        click.echo(f"Wrote the revocation bundle to {path} (stale after {document['payload']['stale_after']}).")


@click.group("trustlist")
def trustlist_group() -> None:
    """The signed list of stamp and publication keys with their validity and status."""


@trustlist_group.command("export")
@click.argument("path", default="-")
@with_appcontext
def export_trust_list(path: str) -> None:
    """Write the signed trust list to PATH ('-' for standard output)."""
    issuer = current_app.config["PUBLIC_BASE_URL"]
    _export(lambda session, store: publication.trust_list(session, store, issuer, utcnow()), path)


@click.group("scans")
def scans_group() -> None:
    """Keep the scans table in shape: monthly partitions (PostgreSQL) and the retention purge; run them daily."""


@scans_group.command("partitions")
@click.option("--ahead", type=click.IntRange(min=1), help="Months to create ahead (default SCAN_PARTITIONS_AHEAD).")
@with_appcontext
def partitions_command(ahead: int | None) -> None:
    """Create this month's and the next months' scan partitions; move scans out of DEFAULT into theirs."""
    ahead = ahead or int(current_app.config["SCAN_PARTITIONS_AHEAD"])
    with transaction() as session:
        if not partitions.is_partitioned(session.connection()):
            click.echo("The scans table is not partitioned (SQLite, or before migration 0011): nothing to do.")
            return
        done = partitions.ensure(session.connection(), utcnow(), ahead)
    last = partitions.partition_name(partitions.add_months(partitions.month_of(utcnow()), ahead))
    if done.created:
        click.echo(f"Created {', '.join(done.created)}; moved {done.moved:,} scans out of DEFAULT.")
    else:
        click.echo(f"Every partition up to {last} exists: nothing to create.")
    if done.default_left:
        click.echo(f"WARNING: {done.default_left:,} scans are in DEFAULT: run this command again.", err=True)


@scans_group.command("purge")
@click.option(
    "--older-than",
    "days",
    type=click.IntRange(min=90),
    help="Days of raw scans to keep (default SCAN_RETENTION_DAYS; at least 90).",
)
@with_appcontext
def purge_command(days: int | None) -> None:
    """Count the scans older than the retention period into daily aggregates and remove them (idempotent)."""
    days = days or int(current_app.config["SCAN_RETENTION_DAYS"])
    with transaction() as session:
        done = retention.purge_scans(session, utcnow(), days)
    before = f"before {done.cutoff:%Y-%m-%d} (UTC, {days} days)"
    if not done.scans:
        click.echo(f"No scans {before}: nothing to purge.")
        return
    dropped = ", ".join(done.partitions) or "none"
    click.echo(
        f"Counted {done.scans:,} scans {before} into {done.days:,} daily aggregates and removed them: "
        f"partitions dropped: {dropped}; rows deleted: {done.deleted:,}."
    )
