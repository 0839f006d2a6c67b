"""`verify --offline` says what it did not check, refuses older documents than it has seen, checks the signed
trust list with a pinned key, and turns bad key ids into messages, never tracebacks."""

from __future__ import annotations

import base64
import dataclasses
import json
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest

from traceability.db import utcnow
from traceability.ledger import services as ledger_services
from traceability.stamps import batches, codec, keys
from traceability.stamps.batches import BatchOptions
from traceability.stamps.models import RangeState
from traceability.stamps.signing import jwks, sign_body
from traceability.verification import publication

TODAY = date.today()
BASE = "https://ocop.example.vn"
MAX_AGE = timedelta(days=2)


@dataclasses.dataclass
class Files:
    urls: list[str]
    jwks: Path
    bundle: Path
    ledger: Path
    trust_list: Path
    tmp: Path

    def offline(self, *extra: str, ledger: bool = True, bundle: bool = True) -> list[str]:
        args = ["verify", "--offline", "--trust", str(self.jwks)]
        args += ["--revocations", str(self.bundle)] if bundle else []
        args += ["--ledger", str(self.ledger)] if ledger else []
        return [*args, *extra]


def write(path: Path, document: Any) -> Path:
    path.write_text(json.dumps(document, ensure_ascii=False))
    return path


@pytest.fixture
def files(session: Any, store: Any, signing_key: Any, factory: Any, tmp_path: Path) -> Files:
    batch = batches.issue_direct(
        session, store, factory.product(stars=4), 10, BatchOptions(), actor="t", maximum=100, today=TODAY
    )
    batches.change_range(session, batch, 0, 8, RangeState.ACTIVATED, actor="t")
    batches.change_range(session, batch, 3, 4, RangeState.VOIDED, actor="t", reason="torn")
    session.commit()
    urls = [s.url for s in batches.stamps(batch, store.load(signing_key.id), BASE)]
    return Files(
        urls=urls,
        jwks=write(tmp_path / "jwks.json", jwks(keys.keyring(session).values())),
        bundle=write(tmp_path / "rev.json", publication.revocations(session, store, utcnow(), TODAY, MAX_AGE)),
        ledger=write(tmp_path / "ledger.json", ledger_services.export(session)),
        trust_list=write(tmp_path / "trust.json", publication.trust_list(session, store, BASE, utcnow())),
        tmp=tmp_path,
    )


def records(result: Any) -> list[dict[str, Any]]:
    return [json.loads(line) for line in result.stdout.splitlines()]


def test_everything_checked_reads_genuine_and_exits_0(runner: Any, files: Files) -> None:
    result = runner.invoke(args=files.offline("--json", files.urls[0], files.urls[1]))
    assert result.exit_code == 0, result.output
    assert [r["verdict"] for r in records(result)] == ["genuine", "genuine"]
    assert "NOT checked" not in result.output
    voided = runner.invoke(args=files.offline("--json", files.urls[3]))
    assert voided.exit_code == 1 and records(voided)[0]["verdict"] == "revoked"


def test_without_a_bundle_revocation_status_is_said_unchecked_and_the_exit_is_not_0(runner: Any, files: Files) -> None:
    # The voided stamp cannot be known as voided without the bundle: it must not pass silently.
    result = runner.invoke(args=files.offline("--json", files.urls[3], bundle=False))
    assert result.exit_code == 3
    assert "revocation status (no --revocations) was NOT checked" in result.stderr
    assert records(result)[0]["not_checked"] == ["revocation status (no --revocations)"]
    no_ledger = runner.invoke(args=files.offline(files.urls[0], ledger=False, bundle=False))
    assert no_ledger.exit_code == 3 and "the batch ledger" in no_ledger.stderr
    assert "Exits 0 only if every code is genuine and everything was" in runner.invoke(args=["verify", "--help"]).output


def test_a_stolen_key_stamp_is_refused_by_the_cli(
    runner: Any, session: Any, store: Any, files: Files, signing_key: Any
) -> None:
    body = codec.parse(files.urls[0]).body
    stolen = store.load(signing_key.id)
    forged = [
        sign_body(stolen, dataclasses.replace(body, sequence=5_000_000)),
        sign_body(stolen, dataclasses.replace(body, batch_id=body.batch_id + 1)),
    ]
    result = runner.invoke(args=files.offline("--json", *forged))
    assert result.exit_code == 1
    assert [r["verdict"] for r in records(result)] == ["forged", "forged"]
    assert "lies beyond batch" in records(result)[0]["reasons"]["forged"]


def test_state_refuses_an_older_bundle_and_a_smaller_ledger(
    runner: Any, session: Any, store: Any, files: Files, factory: Any
) -> None:
    state = files.tmp / "state.json"
    older = write(
        files.tmp / "older.json",
        publication.revocations(session, store, utcnow() - timedelta(hours=1), TODAY, MAX_AGE),
    )
    assert runner.invoke(args=[*files.offline("--state", str(state)), files.urls[0]]).exit_code == 0
    assert json.loads(state.read_text())["ledger_size"] == 1
    args = ["verify", "--offline", "--trust", str(files.jwks), "--revocations", str(older), "--ledger"]
    replayed = runner.invoke(args=[*args, str(files.ledger), "--state", str(state), files.urls[0]])
    assert replayed.exit_code == 1 and "older than one already seen" in replayed.output
    assert "Traceback" not in replayed.output
    # Without the state the older bundle is still inside its lifetime; --not-before refuses it too.
    not_before = (utcnow() - timedelta(minutes=5)).isoformat()
    refused = runner.invoke(args=[*args, str(files.ledger), "--not-before", not_before, files.urls[0]])
    assert refused.exit_code == 1 and "before --not-before" in refused.output
    # A newer ledger moves the state on; the older, smaller one is then refused.
    batches.issue_direct(session, store, factory.product("NEW"), 2, BatchOptions(), actor="t", maximum=9, today=TODAY)
    session.commit()
    newer = write(files.tmp / "ledger2.json", ledger_services.export(session))
    assert (
        runner.invoke(args=[*files.offline("--state", str(state)), "--ledger", str(newer), files.urls[0]]).exit_code
        == 0
    )
    shrunk = runner.invoke(args=[*files.offline("--state", str(state)), files.urls[0]])
    assert shrunk.exit_code == 1 and "this ledger (1) is older than one already seen (2" in shrunk.output


def test_a_signed_trust_list_is_checked_with_the_pinned_key(runner: Any, session: Any, files: Files) -> None:
    pin = write(files.tmp / "pin.json", jwks(k for k in keys.keyring(session).values() if k.purpose == "publication"))
    trusted = ["verify", "--offline", "--trust", str(files.trust_list), "--pin", str(pin)]
    rest = ["--revocations", str(files.bundle), "--ledger", str(files.ledger), files.urls[0]]
    result = runner.invoke(args=[*trusted, *rest])
    assert result.exit_code == 0, result.output
    unpinned = runner.invoke(args=["verify", "--offline", "--trust", str(files.trust_list), *rest])
    assert unpinned.exit_code == 1 and "give --pin" in unpinned.output
    altered = json.loads(files.trust_list.read_text())
    altered["payload"]["keys"][0]["status"] = "retired"
    write(files.trust_list, altered)
    refused = runner.invoke(args=[*trusted, *rest])
    assert refused.exit_code == 1 and "cannot be trusted" in refused.output
    stamp_only = write(
        files.tmp / "stamp.json", jwks(k for k in keys.keyring(session).values() if k.purpose == "stamp")
    )
    no_pin = runner.invoke(
        args=["verify", "--offline", "--trust", str(files.trust_list), "--pin", str(stamp_only), *rest]
    )
    assert no_pin.exit_code == 1 and "no publication key to pin" in no_pin.output


@pytest.mark.parametrize("kid", ["²", "٣", "1\u0301", "𝟙"])
def test_a_non_ascii_key_id_is_a_message_not_a_traceback(runner: Any, files: Files, kid: str) -> None:
    document = json.loads(files.jwks.read_text())
    document["keys"][0]["kid"] = kid
    write(files.jwks, document)
    result = runner.invoke(args=files.offline(files.urls[0]))
    assert result.exit_code == 1 and "stamp key ids are numbers" in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)


@pytest.mark.parametrize("kid", ["²", "٢", "𝟚"])
def test_a_non_ascii_key_id_in_a_bundle_signature_is_a_message(runner: Any, files: Files, kid: str) -> None:
    document = json.loads(files.bundle.read_text())
    document["signature"]["kid"] = kid
    write(files.bundle, document)
    result = runner.invoke(args=files.offline(files.urls[0]))
    assert result.exit_code == 1 and "which is not a trusted key" in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)


def test_the_ledger_inside_the_bundle_is_used(runner: Any, files: Files, session: Any, store: Any) -> None:
    bundle = json.loads(files.bundle.read_text())
    assert bundle["payload"]["ledger"]["format"] == "ocop-ledger-export/v1"
    result = runner.invoke(args=files.offline("--json", files.urls[0], ledger=False))
    assert result.exit_code == 0, result.output
    assert "NOT checked" not in result.output and "not_checked" not in records(result)[0]


def test_state_refuses_a_ledger_that_rewrites_what_was_seen(
    runner: Any, session: Any, store: Any, files: Files, factory: Any
) -> None:
    from traceability.ledger.checkpoint import sign_checkpoint
    from traceability.ledger.merkle import leaf_hash, root_hash
    from traceability.ledger.snapshot import export_document

    state = files.tmp / "state.json"
    assert runner.invoke(args=[*files.offline("--state", str(state)), files.urls[0]]).exit_code == 0
    # A fork: the same first batch with another count, then one more entry, signed by the publication key.
    document = json.loads(files.ledger.read_text())
    first = bytearray(base64.b64decode(document["entries"][0]))
    first[19] += 1  # stamp count + 1
    second = base64.b64decode(ledger_services.export(session)["entries"][0])
    entries = [bytes(first), second.replace(second[1:5], (99).to_bytes(4, "big"), 1)]
    private = store.load(keys.active_publication_key(session).id, "publication")
    note = sign_checkpoint(private, document["origin"], 2, root_hash([leaf_hash(e) for e in entries]))
    forked = write(files.tmp / "fork.json", export_document(document["origin"], note, entries))
    result = runner.invoke(args=[*files.offline("--state", str(state)), "--ledger", str(forked), files.urls[0]])
    assert result.exit_code == 1 and "rewritten or forked" in result.output
