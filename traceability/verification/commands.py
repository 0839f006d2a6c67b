"""`traceability verify`: check codes online against the registry, or offline with a JWK Set."""

from __future__ import annotations

import json
import sys
from typing import Any

import click
from flask.cli import with_appcontext

from traceability import clock
from traceability.console import echo_json, fail
from traceability.stamps.signing import JWKSError, keyring_from_jwks
from traceability.verification.verdicts import Outcome, Verdict, check_offline


def outcome_record(code: str, outcome: Outcome) -> dict[str, Any]:
    """Return the JSON record for one verified code."""
    record: dict[str, Any] = {
        "code": code if len(code) <= 300 else code[:300] + "…",
        "verdict": outcome.verdict.value,
        "flags": [flag.value for flag in outcome.flags],
        "reasons": {verdict.value: reason for verdict, reason in outcome.findings.items()},
    }
    if outcome.parsed is not None:
        body = outcome.parsed.body
        record["stamp"] = {
            "key_id": body.key_id,
            "batch": body.batch_id,
            "sequence": body.sequence,
            "product_ref": body.product_ref,
            "stars": body.stars,
            "certificate_valid_until": body.valid_until.isoformat(),
        }
    return record


@click.command("verify")
@click.argument("codes", nargs=-1)
@click.option("--json", "as_json", is_flag=True, help="One JSON object per code.")
@click.option("--offline", is_flag=True, help="Use only the published keys, not the database.")
@click.option("--trust", "trust_file", type=click.Path(exists=True, dir_okay=False), help="JWK Set file for --offline.")
@with_appcontext
def verify_command(codes: tuple[str, ...], as_json: bool, offline: bool, trust_file: str | None) -> None:
    """Verify stamp codes (a full URL or the token); '-' reads codes from standard input, one a line.

    Exits 0 only if every code is genuine.
    """
    if offline and not trust_file:
        fail("--offline needs --trust JWKS_FILE (export it with 'traceability keys export --jwks FILE')")
    if trust_file and not offline:
        fail("--trust is only used with --offline")
    inputs = [line.strip() for line in sys.stdin if line.strip()] if codes == ("-",) else list(codes)
    if not inputs:
        fail("give at least one code, or '-' to read codes from standard input")
    today = clock.today()
    if offline:
        assert trust_file is not None
        try:
            with open(trust_file, encoding="utf-8") as handle:
                ring = keyring_from_jwks(json.load(handle))
        except (JWKSError, json.JSONDecodeError, UnicodeDecodeError) as error:
            fail(f"{trust_file} is not a usable JWK Set: {error}")
        outcomes = [check_offline(code, ring, today) for code in inputs]
    else:
        from traceability.db import get_session
        from traceability.verification.services import verify_code

        session = get_session()
        outcomes = [verify_code(session, code, today).outcome for code in inputs]
    for code, outcome in zip(inputs, outcomes, strict=True):
        record = outcome_record(code, outcome)
        if as_json:
            echo_json(record)
        else:
            reason = next(iter(record["reasons"].values()), "signature and status check out")
            stamp = record.get("stamp")
            where = f"batch {stamp['batch']} #{stamp['sequence']}" if stamp else ""
            click.echo(f"{record['verdict']:<20} {where:<22} {reason}")
    if not as_json and len(inputs) > 1:
        genuine = sum(o.verdict is Verdict.GENUINE for o in outcomes)
        click.echo(f"{genuine} of {len(inputs)} genuine.", err=True)
    if any(o.verdict is not Verdict.GENUINE for o in outcomes):
        sys.exit(1)
