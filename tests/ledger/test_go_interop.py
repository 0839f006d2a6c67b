"""An independent check: Go's golang.org/x/mod/sumdb/note and sumdb/tlog read our checkpoints and proofs.

The Go program (go_interop.go beside this file) is built once per session against Debian's packages
golang-go and golang-golang-x-mod-dev (GOPATH mode, no network) and run once; the tests below read its answer.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat

from traceability.ledger.checkpoint import (
    Checkpoint,
    format_checkpoint,
    key_hash,
    open_checkpoint,
    parse_verifier_key,
    sign_checkpoint,
    sign_note,
    verifier_key,
)
from traceability.ledger.entries import LedgerEntry, encode_entry
from traceability.ledger.merkle import MerkleTree, ProofError, leaf_hash, verify_consistency, verify_inclusion

HERE = Path(__file__).parent
DEBIAN_GOPATH = "/usr/share/gocode"  # where golang-golang-x-mod-dev puts golang.org/x/mod (dpkg -L)
ORIGIN = "ocop.example.vn/ledger"
SIZE = 37


@dataclass
class Scenario:
    request: dict[str, Any]
    answer: dict[str, Any]
    tree: MerkleTree
    note: str
    body: str
    build_seconds: float
    run_seconds: float
    positive_inclusions: int
    positive_consistencies: int


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def flip(proof: list[bytes], where: int) -> list[bytes]:
    bad = [bytearray(p) for p in proof]
    bad[where % len(bad)][where % 32] ^= 0x10
    return [bytes(b) for b in bad]


def go_build(workdir: Path) -> tuple[Path, float]:
    go = shutil.which("go")
    if go is None:
        pytest.skip(
            "Go is not installed, so the independent check with golang.org/x/mod/sumdb did not run "
            "(Debian: apt-get install golang-go golang-golang-x-mod-dev)"
        )
    gopath = os.pathsep.join(p for p in (DEBIAN_GOPATH, os.environ.get("GOPATH", "")) if p)
    if not any((Path(p) / "src/golang.org/x/mod/sumdb/note/note.go").exists() for p in gopath.split(os.pathsep)):
        pytest.fail(f"golang.org/x/mod is not under {gopath}: apt-get install golang-golang-x-mod-dev")
    env = {
        **os.environ,
        "GO111MODULE": "off",
        "GOPATH": gopath,
        "GOFLAGS": "",
        "GOTOOLCHAIN": "local",
        "GOPROXY": "off",
        "CGO_ENABLED": "0",
    }
    if not env.get("HOME") and not env.get("XDG_CACHE_HOME"):
        env["GOCACHE"] = str(workdir / "gocache")
    shutil.copy(HERE / "go_interop.go", workdir / "main.go")
    binary = workdir / "go-interop"
    started = time.perf_counter()
    built = subprocess.run(
        [go, "build", "-o", str(binary), "main.go"], cwd=workdir, env=env, capture_output=True, text=True, timeout=600
    )
    seconds = time.perf_counter() - started
    assert built.returncode == 0, f"go build failed:\n{built.stderr}"
    return binary, seconds


def entries() -> list[LedgerEntry]:
    start = datetime(2025, 1, 1, tzinfo=UTC)
    return [
        LedgerEntry(
            batch_id=n,
            key_id=1 + n % 3,
            product_ref=100 + n % 7,
            stars=3 + n % 3,
            valid_until_month=310 + n % 12,
            first_sequence=0,
            stamp_count=n * 1000,
            issued_at=start + timedelta(hours=n, milliseconds=n),
            product_code=f"SP-{n:04d}",
            producer_code=f"HTX-{n % 5:02d}",
        )
        for n in range(1, SIZE + 1)
    ]


@pytest.fixture(scope="session")
def go(tmp_path_factory: pytest.TempPathFactory) -> Scenario:
    """Build the Go checker once, send it everything to check in one request, and keep its answer."""
    workdir = tmp_path_factory.mktemp("go-interop")
    binary, build_seconds = go_build(workdir)
    key, witness = Ed25519PrivateKey.generate(), Ed25519PrivateKey.generate()
    records = [encode_entry(entry) for entry in entries()]
    tree = MerkleTree([leaf_hash(record) for record in records])
    note = sign_checkpoint(key, ORIGIN, SIZE, tree.root())
    body = note.partition("\n\n")[0] + "\n"
    witness_line = sign_note(witness, "witness.example/w1", body).removeprefix(body + "\n")
    # Go's own signer key text for the same private key: "PRIVATE+KEY+name+hash+base64(0x01 ‖ seed)".
    seed = bytes([1]) + key.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
    signer = f"PRIVATE+KEY+{ORIGIN}+{key_hash(ORIGIN, key.public_key()):08x}+{b64(seed)}"

    inclusions = [
        {"index": i, "size": n, "leaf": tree.leaf(i), "root": tree.root(n), "proof": tree.inclusion_proof(i, n)}
        for n in range(1, SIZE + 1)
        for i in range(n)
    ]
    consistencies = [
        {"first": m, "second": n, "first_root": tree.root(m), "second_root": tree.root(n)}
        | {"proof": tree.consistency_proof(m, n)}
        for n in range(1, SIZE + 1)
        for m in range(1, n + 1)
    ]
    positive_inclusions, positive_consistencies = len(inclusions), len(consistencies)
    # Then wrong ones, which Go must refuse as we do: a flipped bit, a wrong index, swapped roots.
    for where, c in enumerate(inclusions[5:positive_inclusions:37]):
        if c["proof"]:
            inclusions.append({**c, "proof": flip(c["proof"], where)})
            inclusions.append({**c, "index": (c["index"] + 1) % c["size"]})
    for where, c in enumerate(consistencies[3:positive_consistencies:29]):
        if c["proof"]:
            consistencies.append({**c, "proof": flip(c["proof"], where)})
            consistencies.append({**c, "first_root": c["second_root"], "second_root": c["first_root"]})

    def encoded(item: dict[str, Any]) -> dict[str, Any]:
        return {
            k: b64(v) if isinstance(v, bytes) else [b64(p) for p in v] if isinstance(v, list) else v
            for k, v in item.items()
        }

    request = {
        "verifier_keys": [verifier_key(ORIGIN, key.public_key()), verifier_key(ORIGIN, witness.public_key())[:-2]],
        "notes": [
            note,
            note + witness_line,
            note.replace(f"\n{SIZE}\n", f"\n{SIZE + 1}\n", 1),
            body + "\n" + witness_line,
        ],
        "signer_key": signer,
        "sign_text": body,
        "records": [b64(r) for r in records],
        "inclusions": [encoded(c) for c in inclusions],
        "consistencies": [encoded(c) for c in consistencies],
        "tree_note": format_checkpoint(Checkpoint("go.sum database tree", SIZE, tree.root())),
    }
    started = time.perf_counter()
    ran = subprocess.run([binary], input=json.dumps(request), capture_output=True, text=True, timeout=120)
    run_seconds = time.perf_counter() - started
    assert ran.returncode == 0, ran.stderr
    return Scenario(
        request=request,
        answer=json.loads(ran.stdout),
        tree=tree,
        note=note,
        body=body,
        build_seconds=build_seconds,
        run_seconds=run_seconds,
        positive_inclusions=positive_inclusions,
        positive_consistencies=positive_consistencies,
    )


def decoded(proofs: list[list[str]] | None) -> list[list[bytes]]:
    return [[base64.b64decode(p) for p in proof or []] for proof in proofs or []]


def test_go_reads_our_verifier_key_and_opens_our_checkpoint(go: Scenario) -> None:
    # Shown with -rP or -s; record_property would break runs with --junitxml (xunit2 warns, warnings are errors).
    print(f"go build {go.build_seconds:.2f} s (once per session), go run {go.run_seconds:.2f} s")
    assert go.answer["verifier_keys"][0] == ""
    assert go.answer["verifier_keys"][1] != ""  # a truncated key is refused by Go too
    opened = go.answer["notes"][0]
    assert opened == {"error": "", "text": go.body, "signers": [ORIGIN], "unverified": None}
    assert open_checkpoint(go.note, [parse_verifier_key(go.request["verifier_keys"][0])]).size == SIZE


def test_go_ignores_a_cosignature_by_an_unknown_key_as_we_do(go: Scenario) -> None:
    opened = go.answer["notes"][1]
    assert opened["error"] == "" and opened["signers"] == [ORIGIN]
    assert opened["unverified"] == ["witness.example/w1"]


def test_go_refuses_what_we_refuse(go: Scenario) -> None:
    assert "invalid signature" in go.answer["notes"][2]["error"]
    assert "no verifiable signatures" in go.answer["notes"][3]["error"]


def test_go_signs_the_same_bytes_we_sign(go: Scenario) -> None:
    assert go.answer["signed"] == go.note


def test_go_computes_every_root_we_compute(go: Scenario) -> None:
    assert [base64.b64decode(r) for r in go.answer["roots"]] == [go.tree.root(n) for n in range(1, SIZE + 1)]


def test_go_tlog_reads_a_checkpoint_body_as_its_tree_note(go: Scenario) -> None:
    assert go.answer["tree_error"] == ""
    assert go.answer["tree_size"] == SIZE and base64.b64decode(go.answer["tree_hash"]) == go.tree.root()


def unpacked(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Return the request's proof items with their base64 text back as bytes."""
    return [{key: unbase64(value) for key, value in item.items()} for item in items]


def unbase64(value: Any) -> Any:
    if isinstance(value, list):
        return [base64.b64decode(v) for v in value]
    return base64.b64decode(value) if isinstance(value, str) else value


def ours_accept(check: Any, *args: Any) -> bool:
    try:
        check(*args)
    except ProofError:
        return False
    return True


def test_go_accepts_every_inclusion_proof_and_proves_the_same_paths(go: Scenario) -> None:
    results, count = go.answer["inclusions"], go.positive_inclusions
    assert count == SIZE * (SIZE + 1) // 2
    assert results[:count] == [""] * count
    assert all(results[count:]) and len(results) > count + 20
    items = unpacked(go.request["inclusions"])
    verdicts = [ours_accept(verify_inclusion, c["leaf"], c["index"], c["size"], c["proof"], c["root"]) for c in items]
    assert verdicts == [result == "" for result in results]
    assert decoded(go.answer["record_proofs"][:count]) == [c["proof"] for c in items[:count]]


def test_go_accepts_every_consistency_proof_and_proves_the_same_paths(go: Scenario) -> None:
    results, count = go.answer["consistencies"], go.positive_consistencies
    assert results[:count] == [""] * count
    assert all(results[count:]) and len(results) > count + 20
    items = unpacked(go.request["consistencies"])
    verdicts = [
        ours_accept(verify_consistency, c["first"], c["second"], c["first_root"], c["second_root"], c["proof"])
        for c in items
    ]
    assert verdicts == [result == "" for result in results]
    assert decoded(go.answer["tree_proofs"][:count]) == [c["proof"] for c in items[:count]]
