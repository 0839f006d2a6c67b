"""Signed trust list and revocation bundle: pure signing and checking, and offline use from the CLI."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from tests.conftest import retire_publication_key
from traceability.registry.services import set_certification_status
from traceability.stamps import batches, keys
from traceability.stamps.models import RangeState
from traceability.stamps.signing import TrustedKey, jwks
from traceability.verification import trustlist
from traceability.verification.trustlist import (
    REVOCATIONS_CONTEXT,
    REVOCATIONS_TYPE,
    TRUST_LIST_CONTEXT,
    TRUST_LIST_TYPE,
    SignedDocumentError,
    apply_revocations,
    open_document,
    read_revocations,
)
from traceability.verification.verdicts import Verdict, check_offline

NOW = datetime(2026, 5, 1, 8, 0, tzinfo=UTC)
PRIVATE = Ed25519PrivateKey.generate()
RING = {7: TrustedKey(7, PRIVATE.public_key(), purpose="publication")}


def bundle(**lists: Any) -> dict[str, Any]:
    payload = trustlist.revocations_payload(
        issued_at=NOW,
        max_age=timedelta(days=2),
        keys=lists.get("keys", []),
        batches=lists.get("batches", []),
        products=lists.get("products", []),
        ranges=lists.get("ranges", []),
        not_activated=lists.get("not_activated", []),
    )
    return trustlist.sign_document(PRIVATE, 7, REVOCATIONS_CONTEXT, payload)


def test_round_trip_and_canonical_form() -> None:
    document = bundle(batches=[3, 1])
    opened = open_document(json.loads(json.dumps(document)), RING, REVOCATIONS_CONTEXT, REVOCATIONS_TYPE)
    assert opened["batches"] == [1, 3]
    assert trustlist.canonical_json({"b": 1, "a": "ế"}) == '{"a":"ế","b":1}'.encode()


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d["payload"].update(batches=[]), "does not verify"),
        (lambda d: d["signature"].update(kid="8"), "not a trusted key"),
        (lambda d: d["signature"].update(sig="AAAA"), "does not verify"),
        (lambda d: d["payload"].update(type=TRUST_LIST_TYPE), "not an ocop-revocations"),
        (lambda d: d.pop("signature"), "payload"),
    ],
)
def test_altered_documents_are_refused(change: Any, message: str) -> None:
    document = bundle(batches=[5])
    change(document)
    with pytest.raises(SignedDocumentError, match=message):
        open_document(document, RING, REVOCATIONS_CONTEXT, REVOCATIONS_TYPE)


def test_a_trust_list_signature_never_passes_as_a_bundle() -> None:
    payload = bundle()["payload"]
    signed_as_trust_list = trustlist.sign_document(PRIVATE, 7, TRUST_LIST_CONTEXT, payload)
    with pytest.raises(SignedDocumentError, match="does not verify"):
        open_document(signed_as_trust_list, RING, REVOCATIONS_CONTEXT, REVOCATIONS_TYPE)


def test_a_compromised_key_cannot_vouch_for_a_bundle() -> None:
    ring = {
        7: TrustedKey(
            7,
            PRIVATE.public_key(),
            status="compromised",
            purpose="publication",
            compromised_at=NOW,
        )
    }
    with pytest.raises(SignedDocumentError, match="compromised"):
        open_document(bundle(), ring, REVOCATIONS_CONTEXT, REVOCATIONS_TYPE)


def test_a_stamp_key_cannot_vouch_for_a_bundle() -> None:
    # Whoever steals a stamp key must not be able to sign a clean bundle that omits the theft.
    ring = {7: TrustedKey(7, PRIVATE.public_key(), purpose="stamp")}
    with pytest.raises(SignedDocumentError, match="not a publication key"):
        open_document(bundle(), ring, REVOCATIONS_CONTEXT, REVOCATIONS_TYPE)


def test_staleness() -> None:
    revocations = read_revocations(bundle()["payload"])
    assert not revocations.is_stale(NOW + timedelta(days=1))
    assert revocations.is_stale(NOW + timedelta(days=2, seconds=1))


def test_bundle_applied_offline(session: Any, issued: Any) -> None:
    ring = keys.keyring(session)
    batch_id, product_id = issued.batch.id, issued.batch.product_id
    url = issued.url(4)

    def verdicts(**lists: Any) -> list[str]:
        outcome = check_offline(url, ring, NOW.date())
        return [v.value for v in apply_revocations(outcome, read_revocations(bundle(**lists)["payload"])).flags]

    assert verdicts() == ["genuine"]
    assert verdicts(batches=[batch_id]) == ["revoked"]
    assert verdicts(ranges=[{"batch": batch_id, "start": 3, "end": 5}]) == ["revoked"]
    assert verdicts(ranges=[{"batch": batch_id, "start": 5, "end": 9}]) == ["genuine"]
    assert verdicts(products=[product_id]) == ["certificate_expired"]
    assert verdicts(not_activated=[{"batch": batch_id, "start": 4, "end": 6}]) == ["not_activated"]
    assert verdicts(not_activated=[{"batch": batch_id, "start": 5, "end": 9}]) == ["genuine"]
    both = {
        "ranges": [{"batch": batch_id, "start": 4, "end": 5}],
        "not_activated": [{"batch": batch_id, "start": 0, "end": 9}],
    }
    assert verdicts(**both) == ["revoked"]
    # Without the ledger no stamp of a compromised key can be dated; a batch number never grants trust.
    assert verdicts(keys=[{"kid": "1", "compromised_at": "2999-01-01T00:00:00Z"}]) == ["revoked"]
    assert verdicts(keys=[{"kid": "1", "last_trusted_batch": batch_id}]) == ["revoked"]


def test_published_bundle_reflects_the_registry(client: Any, session: Any, issued: Any, publication_key: Any) -> None:
    batch = issued.batch
    batches.change_range(session, batch, 12, 14, RangeState.VOIDED, actor="t", reason="torn")
    batches.change_range(session, batch, 16, 18, RangeState.PRINTED, actor="t")
    set_certification_status(session, batch.certification, "revoked", "food safety")
    session.commit()
    document = client.get("/api/v1/revocations").get_json()
    opened = open_document(document, keys.keyring(session), REVOCATIONS_CONTEXT, REVOCATIONS_TYPE)
    assert opened["stamp_ranges"] == [{"batch": batch.id, "start": 12, "end": 14}]
    # Issued and printed stamps never applied to goods, as few ranges as will do.
    assert opened["not_activated_ranges"] == [
        {"batch": batch.id, "start": 10, "end": 12},
        {"batch": batch.id, "start": 14, "end": 20},
    ]
    assert opened["products"] == [batch.product_id]
    trust = client.get("/.well-known/ocop-trust-list.json").get_json()
    assert open_document(trust, keys.keyring(session), TRUST_LIST_CONTEXT, TRUST_LIST_TYPE)["keys"][0]["kid"] == "1"
    assert trust["signature"]["kid"] == document["signature"]["kid"] == str(publication_key.id)
    assert [(k["kid"], k["purpose"]) for k in trust["payload"]["keys"]] == [("1", "stamp"), ("2", "publication")]


def test_publication_needs_a_publication_key(client: Any, session: Any, issued: Any) -> None:
    retire_publication_key(session)
    for path in ("/api/v1/revocations", "/.well-known/ocop-trust-list.json"):
        response = client.get(path)
        assert response.status_code == 409 and response.get_json()["error"] == "no_publication_key"


def test_cli_offline_with_a_revocation_bundle(
    runner: Any, session: Any, issued: Any, publication_key: Any, tmp_path: Path
) -> None:
    jwks_file, bundle_file = tmp_path / "keys.json", tmp_path / "revocations.json"
    jwks_file.write_text(json.dumps(jwks(keys.keyring(session).values())))
    batches.change_range(session, issued.batch, 4, 5, RangeState.REVOKED, actor="t", reason="stolen roll")
    session.commit()
    exported = runner.invoke(args=["revocations", "export", str(bundle_file)])
    assert exported.exit_code == 0, exported.output
    offline = ["verify", "--offline", "--trust", str(jwks_file), "--revocations", str(bundle_file), "--json"]
    result = runner.invoke(args=[*offline, issued.url(4), issued.url(5), issued.url(15)])
    verdicts = [json.loads(line)["verdict"] for line in result.stdout.splitlines()]
    assert verdicts == ["revoked", "genuine", "not_activated"] and result.exit_code == 1
    # A genuine token under another address: the QR may have been replaced.
    elsewhere = runner.invoke(args=[*offline, "https://evil.example/v/" + issued.stamps()[5].token])
    record = json.loads(elsewhere.stdout)
    assert record["verdict"] == "suspicious" and "evil.example" in record["reasons"]["suspicious"]
    assert json.loads(runner.invoke(args=[*offline, issued.stamps()[5].token]).stdout)["verdict"] == "genuine"

    stale = json.loads(bundle_file.read_text())
    stale["payload"]["stale_after"] = "2000-01-01T00:00:00Z"
    bundle_file.write_text(json.dumps(stale))
    refused = runner.invoke(args=[*offline, issued.url(5)])
    assert refused.exit_code == 1 and "cannot be trusted" in refused.output  # altered: the signature fails


def test_cli_refuses_a_stale_bundle(
    runner: Any, app: Any, session: Any, issued: Any, publication_key: Any, tmp_path: Path
) -> None:
    jwks_file, bundle_file = tmp_path / "keys.json", tmp_path / "revocations.json"
    jwks_file.write_text(json.dumps(jwks(keys.keyring(session).values())))
    app.config["REVOCATIONS_MAX_AGE_SECONDS"] = 0
    assert runner.invoke(args=["revocations", "export", str(bundle_file)]).exit_code == 0
    result = runner.invoke(
        args=["verify", "--offline", "--trust", str(jwks_file), "--revocations", str(bundle_file), issued.url(0)]
    )
    assert result.exit_code == 1 and "stale" in result.output


def test_cli_online_reports_suspicious_without_recording(runner: Any, session: Any, issued: Any) -> None:
    from traceability.db import utcnow
    from traceability.verification.models import Channel, Scan
    from traceability.verification.scans import Device, record_scan

    for n in range(10):
        record_scan(
            session,
            channel=Channel.PAGE,
            flags=[Verdict.GENUINE],
            device=Device(f"{n:032x}", "p", network=f"{n:032x}"),
            at=utcnow(),
            text="x",
            stamp=(issued.batch.id, 0),
        )
    session.commit()
    result = runner.invoke(args=["verify", "--json", issued.url(0)])
    record = json.loads(result.output)
    # Scan patterns never change the verdict; the operator's CLI shows them as evidence (issue 9 §3).
    assert record["verdict"] == "genuine" and record["clone_flags"][0]["kind"] == "many_devices"
    assert session.query(Scan).count() == 10
    elsewhere = runner.invoke(args=["verify", "--json", "https://evil.example/v/" + issued.stamps()[1].token])
    assert json.loads(elsewhere.output)["reasons"]["suspicious"].startswith("this code points to evil.example")


def test_cli_refuses_a_bundle_signed_by_a_stamp_key(
    runner: Any, session: Any, store: Any, issued: Any, publication_key: Any, tmp_path: Path
) -> None:
    jwks_file, bundle_file = tmp_path / "keys.json", tmp_path / "revocations.json"
    jwks_file.write_text(json.dumps(jwks(keys.keyring(session).values())))
    stamp_key = keys.active_key(session)
    payload = {**bundle()["payload"], "stale_after": "2999-01-01T00:00:00Z"}  # fresh, and omits everything
    clean = trustlist.sign_document(store.load(stamp_key.id), stamp_key.id, REVOCATIONS_CONTEXT, payload)
    bundle_file.write_text(json.dumps(clean))
    offline = ["verify", "--offline", "--trust", str(jwks_file), "--revocations", str(bundle_file), issued.url(0)]
    result = runner.invoke(args=offline)
    assert result.exit_code == 1 and "cannot be trusted" in result.output and "not a trusted key" in result.output


def test_cli_needs_a_publication_key_in_the_jwks_for_a_bundle(
    runner: Any, session: Any, issued: Any, publication_key: Any, tmp_path: Path
) -> None:
    jwks_file, bundle_file = tmp_path / "keys.json", tmp_path / "revocations.json"
    stamp_only = [k for k in keys.keyring(session).values() if k.purpose == "stamp"]
    jwks_file.write_text(json.dumps(jwks(stamp_only)))
    assert runner.invoke(args=["revocations", "export", str(bundle_file)]).exit_code == 0
    result = runner.invoke(
        args=["verify", "--offline", "--trust", str(jwks_file), "--revocations", str(bundle_file), issued.url(0)]
    )
    assert result.exit_code == 1 and "has no publication key" in result.output
