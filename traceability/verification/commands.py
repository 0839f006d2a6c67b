"""`traceability verify` (online, or offline with published keys and a revocation bundle) and
`traceability revocations|trustlist export`."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy.orm import Session

from traceability import clock
from traceability.console import echo_json, fail
from traceability.db import get_session, utcnow
from traceability.errors import DomainError
from traceability.stamps.keystore import KeyStore, store_from_config
from traceability.stamps.signing import JWKSError, KeyRing, keyring_from_jwks
from traceability.verification import publication
from traceability.verification.clones import Thresholds
from traceability.verification.records import outcome_record, verification_record
from traceability.verification.services import own_prefixes, verify_and_assess
from traceability.verification.trustlist import (
    REVOCATIONS_CONTEXT,
    REVOCATIONS_TYPE,
    Revocations,
    SignedDocumentError,
    apply_revocations,
    open_document,
    read_revocations,
)
from traceability.verification.verdicts import Verdict, check_offline


def _load_json(path: str, what: str) -> Any:
    try:
        with open(path, encoding="utf-8") as handle:
            return json.load(handle)
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        fail(f"{path} is not a usable {what}: {error}")


def _load_revocations(path: str, ring: KeyRing) -> Revocations:
    try:
        bundle = read_revocations(
            open_document(_load_json(path, "revocation bundle"), ring, REVOCATIONS_CONTEXT, REVOCATIONS_TYPE)
        )
    except SignedDocumentError as error:
        fail(f"{path} cannot be trusted: {error}")
    if bundle.is_stale(utcnow()):
        fail(
            f"{path} is stale (issued {bundle.issued_at.isoformat()}, good until {bundle.stale_after.isoformat()}): "
            "fetch a fresh one from /api/v1/revocations"
        )
    return bundle


@click.command("verify")
@click.argument("codes", nargs=-1)
@click.option("--json", "as_json", is_flag=True, help="One JSON object per code.")
@click.option("--offline", is_flag=True, help="Use only the published keys, not the database.")
@click.option("--trust", "trust_file", type=click.Path(exists=True, dir_okay=False), help="JWK Set file for --offline.")
@click.option(
    "--revocations",
    "revocations_file",
    type=click.Path(exists=True, dir_okay=False),
    help="Signed revocation bundle for --offline (refused if altered or stale).",
)
@with_appcontext
def verify_command(
    codes: tuple[str, ...], as_json: bool, offline: bool, trust_file: str | None, revocations_file: str | None
) -> None:
    """Verify stamp codes (a full URL or the token); '-' reads codes from standard input, one a line.

    Online, scan patterns of genuine codes are judged too (the verdict may be 'suspicious'); nothing is
    recorded. A URL that does not start with PUBLIC_BASE_URL or one of STAMP_URL_PREFIXES reads 'suspicious'
    (its QR may have been replaced), online and offline. Exits 0 only if every code is genuine.
    """
    if offline and not trust_file:
        fail("--offline needs --trust JWKS_FILE (export it with 'traceability keys export --jwks FILE')")
    if (trust_file or revocations_file) and not offline:
        fail("--trust and --revocations are only used with --offline")
    inputs = _read_codes(codes)
    records = _verify_offline(inputs, trust_file, revocations_file) if trust_file else _verify_online(inputs)
    _print_records(records, as_json=as_json)
    if sum(r["verdict"] == Verdict.GENUINE.value for r in records) != len(records):
        sys.exit(1)


def _read_codes(codes: tuple[str, ...]) -> list[str]:
    """Return the codes given, trimmed: from the arguments, or from standard input for '-'."""
    if codes == ("-",):
        inputs = [line.strip() for line in sys.stdin if line.strip()]
    else:
        inputs = [code.strip() for code in codes]
    if not inputs:
        fail("give at least one code, or '-' to read codes from standard input")
    return inputs


def _verify_offline(inputs: list[str], trust_file: str, revocations_file: str | None) -> list[dict[str, Any]]:
    """Check codes against the keys of a JWK Set file and, if given, a signed revocation bundle."""
    document = _load_json(trust_file, "JWK Set")
    try:
        ring = keyring_from_jwks(document)
        publication_ring = keyring_from_jwks(document, purpose="publication")
    except JWKSError as error:
        fail(f"{trust_file} is not a usable JWK Set: {error}")
    if revocations_file and not publication_ring:
        fail(
            f"{trust_file} has no publication key, so no revocation bundle can be checked: "
            "export a current JWK Set with 'traceability keys export --jwks FILE'"
        )
    bundle = _load_revocations(revocations_file, publication_ring) if revocations_file else None
    today, prefixes = clock.today(), own_prefixes(current_app.config)
    records = []
    for code in inputs:
        outcome = check_offline(code, ring, today, prefixes)
        if bundle is not None:
            apply_revocations(outcome, bundle)
        records.append(outcome_record(code, outcome))
    return records


def _verify_online(inputs: list[str]) -> list[dict[str, Any]]:
    """Verify codes against the registry and judge their scan history, recording nothing."""
    session, today = get_session(), clock.today()
    limits, prefixes = Thresholds.from_config(current_app.config), own_prefixes(current_app.config)
    records = []
    for code in inputs:
        records.append(verification_record(code, verify_and_assess(session, code, today, limits, prefixes=prefixes)))
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
