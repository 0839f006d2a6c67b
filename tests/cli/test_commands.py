"""The command line as the README and the issues promise it, run through Flask's CLI runner."""

from __future__ import annotations

import csv
import io
import json
import os
import stat
from pathlib import Path
from typing import Any

import pytest


def lines_json(output: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in output.splitlines() if line.startswith("{")]


@pytest.fixture
def demo(runner: Any) -> None:
    result = runner.invoke(args=["init"])
    assert result.exit_code == 0, result.output
    result = runner.invoke(args=["demo"])
    assert result.exit_code == 0, result.output


def test_init_creates_a_private_key_once(runner: Any, keys_dir: Path) -> None:
    first = runner.invoke(args=["init"])
    assert first.exit_code == 0, first.output
    assert "Created signing key 1" in first.output
    assert "Created publication key 2" in first.output
    (key_file,) = keys_dir.glob("ocop-ed25519-*.pem")
    assert stat.S_IMODE(os.stat(key_file).st_mode) == 0o600
    (publication_file,) = keys_dir.glob("ocop-publication-*.pem")
    assert publication_file.name == "ocop-publication-2.pem"
    assert stat.S_IMODE(os.stat(publication_file).st_mode) == 0o600
    second = runner.invoke(args=["init"])
    assert "Created signing key" not in second.output and "Created publication key" not in second.output
    assert len(list(keys_dir.glob("*.pem"))) == 2


def test_products_and_producers_json(runner: Any, demo: None) -> None:
    products = lines_json(runner.invoke(args=["products", "--json"]).output)
    assert len(products) >= 25
    assert set(products[0]) >= {"code", "name", "stars", "certified", "producer"}
    assert any(not p["certified"] for p in products)  # the demo keeps expired ones to show
    producers = lines_json(runner.invoke(args=["producers", "--json"]).output)
    codes = {p["code"] for p in producers}
    assert {p["producer"] for p in products} <= codes
    ninh_thuan = [p for p in producers if p["province"] == "Ninh Thuận"]
    assert ninh_thuan and all(p["province_now"] == "Khánh Hòa" for p in ninh_thuan)


def test_issue_csv_then_verify_online_and_offline(runner: Any, demo: None, tmp_path: Path) -> None:
    product = next(p for p in lines_json(runner.invoke(args=["products", "--json"]).output) if p["certified"])
    out = tmp_path / "stamps.csv"
    result = runner.invoke(
        args=[
            "batch",
            "issue",
            "--product",
            product["code"],
            "--quantity",
            "300",
            "--lot",
            "L-01",
            "--activate",
            "--csv",
            str(out),
            "--json",
        ]
    )
    assert result.exit_code == 0, result.output
    summary = lines_json(result.output)[0]
    assert summary["count"] == 300 and isinstance(summary["batch"], int)
    rows = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8"))))
    assert len(rows) == 300 and len({r["serial"] for r in rows}) == 300
    urls = [r["url"] for r in rows]
    assert all(u.startswith("https://ocop.example.vn/v/") for u in urls)

    online = runner.invoke(args=["verify", "--json", *urls[:50]])
    assert online.exit_code == 0, online.output
    assert {r["verdict"] for r in lines_json(online.output)} == {"genuine"}

    jwks_file = tmp_path / "jwks.json"
    assert runner.invoke(args=["keys", "export", "--jwks", str(jwks_file)]).exit_code == 0
    assert "PRIVATE" not in jwks_file.read_text() and '"d"' not in jwks_file.read_text()
    offline = runner.invoke(args=["verify", "--offline", "--trust", str(jwks_file), "--json", *urls])
    assert offline.exit_code == 3  # all genuine, but revocations and the ledger were not checked: said, not 0
    assert len(lines_json(offline.stdout)) == 300 and "NOT checked" in offline.stderr
    ledger_file, bundle_file = tmp_path / "ledger.json", tmp_path / "rev.json"
    assert runner.invoke(args=["ledger", "export", str(ledger_file)]).exit_code == 0
    assert runner.invoke(args=["revocations", "export", str(bundle_file)]).exit_code == 0
    checked = ["--revocations", str(bundle_file), "--ledger", str(ledger_file)]
    offline = runner.invoke(args=["verify", "--offline", "--trust", str(jwks_file), *checked, "--json", *urls])
    assert offline.exit_code == 0, offline.output
    assert {r["verdict"] for r in lines_json(offline.stdout)} == {"genuine"}

    token = urls[0].rsplit("/", 1)[1]
    bad = runner.invoke(args=["verify", "--json", token, token[:-1], "not a stamp"])
    assert bad.exit_code == 1
    assert [r["verdict"] for r in lines_json(bad.output)] == ["genuine", "malformed", "malformed"]


def test_issue_refuses_bad_input_and_writes_nothing(runner: Any, demo: None, tmp_path: Path) -> None:
    products = lines_json(runner.invoke(args=["products", "--json"]).output)
    expired = next(p for p in products if not p["certified"])
    out = tmp_path / "none.csv"
    for args, message in [
        (["--product", expired["code"], "--quantity", "10"], "valid certification"),
        (["--product", "NOPE", "--quantity", "10"], "no product has the code"),
        (["--product", products[0]["code"], "--quantity", "0"], "at least 1"),
        (["--product", products[0]["code"], "--quantity", "ten"], "is not a valid integer"),
        (
            ["--product", products[0]["code"], "--quantity", "5", "--production-date", "31/12/2024"],
            "YYYY-MM-DD",
        ),
    ]:
        result = runner.invoke(args=["batch", "issue", *args, "--csv", str(out)])
        assert result.exit_code != 0
        assert message in result.output
        assert "Traceback" not in result.output
    assert not out.exists() and not list(tmp_path.glob(".none.csv*"))
    assert runner.invoke(args=["batch", "list", "--json"]).output == ""


def test_verify_offline_needs_a_usable_trust_file(runner: Any, tmp_path: Path) -> None:
    bogus = tmp_path / "jwks.json"
    bogus.write_text('{"keys": [{"kty": "RSA"}]}')
    result = runner.invoke(args=["verify", "--offline", "--trust", str(bogus), "123"])
    assert result.exit_code != 0 and "not an Ed25519 key" in result.output
    assert "needs --trust" in runner.invoke(args=["verify", "--offline", "123"]).output


def test_range_commands_and_keys(runner: Any, demo: None) -> None:
    product = next(p for p in lines_json(runner.invoke(args=["products", "--json"]).output) if p["certified"])
    batch = lines_json(
        runner.invoke(args=["batch", "issue", "--product", product["code"], "--quantity", "50", "--json"]).output
    )[0]["batch"]
    assert runner.invoke(args=["batch", "activate", str(batch), "--from", "0", "--to", "9"]).exit_code == 0
    assert (
        runner.invoke(args=["batch", "void", str(batch), "--from", "5", "--to", "5", "--reason", "torn"]).exit_code == 0
    )
    shown = json.loads(runner.invoke(args=["batch", "show", str(batch)]).output)
    assert [r["state"] for r in shown["ranges"]] == ["activated", "voided", "activated", "issued"]
    again = runner.invoke(args=["batch", "activate", str(batch), "--from", "5", "--to", "5"])
    assert again.exit_code != 0 and "voided and cannot become activated" in again.output
    rotated = runner.invoke(args=["keys", "rotate"])
    assert "Key 3 is now active" in rotated.output  # key 2 is the publication key 'init' created
    listed = lines_json(runner.invoke(args=["keys", "list", "--json"]).output)
    assert [(k["kid"], k["purpose"], k["status"]) for k in listed] == [
        (1, "stamp", "retired"),
        (2, "publication", "active"),
        (3, "stamp", "active"),
    ]


def test_compromising_the_active_key_activates_a_replacement(runner: Any, demo: None, client: Any) -> None:
    result = runner.invoke(args=["keys", "compromise", "1", "--at", "2026-01-01T00:00:00+07:00", "--note", "leak"])
    assert result.exit_code == 0, result.output
    assert "key 3 is active now" in result.output
    listed = lines_json(runner.invoke(args=["keys", "list", "--json"]).output)
    assert [(k["kid"], k["purpose"], k["status"]) for k in listed] == [
        (1, "stamp", "compromised"),
        (2, "publication", "active"),
        (3, "stamp", "active"),
    ]
    # Offline verifiers learn of the compromise from documents that still get signed.
    assert client.get("/api/v1/revocations").status_code == 200
    assert client.get("/.well-known/ocop-trust-list.json").status_code == 200


def test_publication_key_rotation_and_compromise(runner: Any, demo: None, client: Any, keys_dir: Path) -> None:
    rotated = runner.invoke(args=["keys", "generate", "--purpose", "publication"])
    assert rotated.exit_code == 0, rotated.output
    assert "Publication key 3 is now active" in rotated.output
    assert stat.S_IMODE(os.stat(keys_dir / "ocop-publication-3.pem").st_mode) == 0o600
    assert client.get("/.well-known/ocop-trust-list.json").get_json()["signature"]["kid"] == "3"
    result = runner.invoke(args=["keys", "compromise", "3", "--at", "2026-01-01T00:00:00+07:00", "--note", "leak"])
    assert result.exit_code == 0, result.output
    assert "active publication key: key 4 is active now" in result.output
    listed = lines_json(runner.invoke(args=["keys", "list", "--json"]).output)
    assert [(k["kid"], k["purpose"], k["status"], k["private_key_present"]) for k in listed] == [
        (1, "stamp", "active", True),
        (2, "publication", "retired", True),
        (3, "publication", "compromised", True),
        (4, "publication", "active", True),
    ]
    assert client.get("/api/v1/revocations").get_json()["signature"]["kid"] == "4"
    # Stamps are still signed by the stamp key, never by a publication key.
    product = next(p for p in lines_json(runner.invoke(args=["products", "--json"]).output) if p["certified"])
    issued = runner.invoke(args=["batch", "issue", "--product", product["code"], "--quantity", "5", "--json"])
    assert issued.exit_code == 0, issued.output
    shown = json.loads(runner.invoke(args=["batch", "show", str(lines_json(issued.output)[0]["batch"])]).output)
    assert shown["key"] == 1


def test_init_adopts_stored_publication_keys(runner: Any, keys_dir: Path, app: Any) -> None:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from traceability.stamps.keystore import store_from_config

    store = store_from_config(app.config)
    store.save(4, Ed25519PrivateKey.generate())
    store.save(6, Ed25519PrivateKey.generate(), "publication")
    result = runner.invoke(args=["init"])
    assert result.exit_code == 0, result.output
    assert "Created" not in result.output
    listed = lines_json(runner.invoke(args=["keys", "list", "--json"]).output)
    assert [(k["kid"], k["purpose"], k["status"]) for k in listed] == [
        (4, "stamp", "active"),
        (6, "publication", "active"),
    ]


def test_export_writes_the_same_stamps_again_and_records_who_took_them(
    runner: Any, demo: None, session: Any, tmp_path: Path
) -> None:
    from sqlalchemy import select

    from traceability.audit.models import AuditEntry

    product = next(p for p in lines_json(runner.invoke(args=["products", "--json"]).output) if p["certified"])
    out = tmp_path / "out"
    out.mkdir()
    first, again = out / "first.csv", out / "again.csv"
    issued = runner.invoke(
        args=["batch", "issue", "--product", product["code"], "--quantity", "40", "--csv", str(first), "--json"]
    )
    batch = lines_json(issued.output)[0]["batch"]
    exported = runner.invoke(args=["batch", "export", str(batch), "--csv", str(again)])
    assert exported.exit_code == 0, exported.output
    assert f"Wrote 40 stamps of batch {batch} to {again}" in exported.output
    assert again.read_bytes() == first.read_bytes()
    entries = session.scalars(select(AuditEntry).where(AuditEntry.action == "batch.export")).all()
    assert [(e.target, e.actor.startswith("cli:")) for e in entries] == [(f"batch:{batch}", True)]

    missing = runner.invoke(args=["batch", "export", "999999", "--csv", str(out / "none.csv")])
    assert missing.exit_code != 0 and "there is no batch 999999" in missing.output
    assert sorted(p.name for p in out.iterdir()) == ["again.csv", "first.csv"]  # no file, no leftover


def test_retiring_a_key_is_audited_and_a_compromised_key_stays_compromised(
    runner: Any, demo: None, session: Any
) -> None:
    from sqlalchemy import select

    from traceability.audit.models import AuditEntry

    assert runner.invoke(args=["keys", "rotate"]).exit_code == 0  # key 3 replaces stamp key 1
    retired = runner.invoke(args=["keys", "retire", "3"])
    assert retired.exit_code == 0 and "Key 3 is retired." in retired.output
    entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "key.retire")).one()
    assert (entry.target, entry.before["status"], entry.after["status"]) == ("key:3", "active", "retired")
    compromised = runner.invoke(args=["keys", "compromise", "3", "--at", "2026-01-01T00:00+07:00", "--note", "leak"])
    assert compromised.exit_code == 0, compromised.output
    refused = runner.invoke(args=["keys", "retire", "3"])
    assert refused.exit_code != 0 and "key 3 is marked compromised; it cannot be retired" in refused.output
    assert runner.invoke(args=["keys", "retire", "99"]).output.strip().endswith("there is no key 99")
