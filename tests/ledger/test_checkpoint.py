"""Checkpoints as C2SP signed notes: Go's published example byte for byte, strict parsing, signature rules."""

from __future__ import annotations

import base64
import hashlib

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from traceability.ledger.checkpoint import (
    Checkpoint,
    MalformedCheckpoint,
    MalformedNote,
    MalformedVerifierKey,
    NoteSignatureInvalid,
    NoteUnverified,
    format_checkpoint,
    key_hash,
    open_checkpoint,
    open_note,
    parse_checkpoint,
    parse_verifier_key,
    sign_checkpoint,
    sign_note,
    verifier,
    verifier_key,
)
from traceability.ledger.merkle import EMPTY_ROOT

# The example of golang.org/x/mod/sumdb/note's package documentation: a signer key, its verifier key and the
# note that Go's note.Sign writes for this text. Ed25519 is deterministic, so ours must be the same bytes.
GO_SIGNER = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
GO_VERIFIER = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
GO_TEXT = "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n"
GO_NOTE = (
    GO_TEXT
    + "\n— PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n"
)
ORIGIN = "ocop.example.vn/ledger"
ROOT = hashlib.sha256(b"root").digest()
ROOT64 = base64.b64encode(ROOT).decode()
URLSAFE64 = base64.urlsafe_b64encode(b"\xff" * 32).decode()


def go_key() -> Ed25519PrivateKey:
    seed = base64.b64decode(GO_SIGNER.split("+", 4)[4])
    assert seed[0] == 1
    return Ed25519PrivateKey.from_private_bytes(seed[1:])


def test_we_write_gos_example_note_byte_for_byte() -> None:
    key = go_key()
    assert sign_note(key, "PeterNeumann", GO_TEXT) == GO_NOTE
    assert verifier_key("PeterNeumann", key.public_key()) == GO_VERIFIER
    assert key_hash("PeterNeumann", key.public_key()) == 0xC74F20A3


def test_we_open_gos_example_note() -> None:
    note = open_note(GO_NOTE.encode("utf-8"), [parse_verifier_key(GO_VERIFIER)])
    assert note.text == GO_TEXT
    assert [(s.name, s.key_hash) for s in note.signatures] == [("PeterNeumann", 0xC74F20A3)]
    assert note.unverified == ()


def test_a_checkpoint_is_origin_size_and_base64_root() -> None:
    key = Ed25519PrivateKey.generate()
    note = sign_checkpoint(key, ORIGIN, 20852163, ROOT)
    body, _, signature = note.partition("\n\n")
    assert body + "\n" == f"{ORIGIN}\n20852163\n{ROOT64}\n"
    assert signature.startswith(f"\u2014 {ORIGIN} ") and signature.endswith("=\n") and signature.count("\n") == 1
    raw = base64.b64decode(signature.split(" ")[2])
    assert len(raw) == 68 and int.from_bytes(raw[:4], "big") == key_hash(ORIGIN, key.public_key())
    checkpoint = open_checkpoint(note, [verifier(ORIGIN, key.public_key())], origin=ORIGIN)
    assert checkpoint == Checkpoint(ORIGIN, 20852163, ROOT)


def test_extension_lines_and_a_separate_key_name() -> None:
    key = Ed25519PrivateKey.generate()
    note = sign_checkpoint(key, ORIGIN, 0, EMPTY_ROOT, name="ocop.example.vn/key-2025", extensions=["x y", "z"])
    checkpoint = open_checkpoint(note, [verifier("ocop.example.vn/key-2025", key.public_key())])
    assert checkpoint.extensions == ("x y", "z") and checkpoint.size == 0


def test_signatures_by_unknown_keys_are_ignored_but_one_known_valid_one_is_needed() -> None:
    ours, witness = Ed25519PrivateKey.generate(), Ed25519PrivateKey.generate()
    body = format_checkpoint(Checkpoint(ORIGIN, 5, ROOT))
    ours_line = sign_note(ours, ORIGIN, body).removeprefix(body + "\n")
    witness_line = sign_note(witness, "witness.example", body).removeprefix(body + "\n")
    both = body + "\n" + witness_line + ours_line
    note = open_note(both, [verifier(ORIGIN, ours.public_key())])
    assert [s.name for s in note.signatures] == [ORIGIN]
    assert [s.name for s in note.unverified] == ["witness.example"]
    with pytest.raises(NoteUnverified):
        open_note(body + "\n" + witness_line, [verifier(ORIGIN, ours.public_key())])
    # Same name as our key but another key hash: an unknown key, ignored (c2sp.org/signed-note).
    impostor = sign_note(witness, ORIGIN, body).removeprefix(body + "\n")
    assert open_note(body + "\n" + impostor + ours_line, [verifier(ORIGIN, ours.public_key())]).unverified


def test_a_known_key_whose_signature_fails_refuses_the_whole_note() -> None:
    key = Ed25519PrivateKey.generate()
    note = sign_checkpoint(key, ORIGIN, 5, ROOT)
    known = [verifier(ORIGIN, key.public_key())]
    tampered = note.replace("\n5\n", "\n6\n", 1)
    with pytest.raises(NoteSignatureInvalid, match="does not verify"):
        open_checkpoint(tampered, known)
    # A second line by the same key with a changed signature: one bad signature by a known key is enough.
    raw = bytearray(base64.b64decode(note.partition("\n\n")[2].split(" ")[2]))
    raw[10] ^= 1
    with pytest.raises(NoteSignatureInvalid):
        open_note(f"{note}\u2014 {ORIGIN} {base64.b64encode(raw).decode()}\n", known)


@pytest.mark.parametrize(
    ("note", "reason"),
    [
        (GO_TEXT + "— PeterNeumann x08go/ZJ=\n", "no blank line"),
        (GO_NOTE[:-1], "does not end with a newline"),
        (GO_NOTE.replace("— ", "- "), "em dash"),
        (GO_NOTE.replace("— ", "—"), "em dash"),
        (GO_NOTE.replace("— PeterNeumann ", "— Peter Neumann "), "not an em dash, a key name"),
        (GO_NOTE.replace("— PeterNeumann ", "— Peter+Neumann "), "not an em dash, a key name"),
        (GO_NOTE.replace("— PeterNeumann ", "— PeterNeumann\u00a0"), "not an em dash, a key name"),
        (GO_NOTE.replace("AM=\n", "AN=\n"), "not an em dash, a key name"),  # non-canonical base64
        (GO_NOTE.replace("AM=\n", "AM\n"), "not an em dash, a key name"),
        (GO_NOTE.replace("x08go/ZJkuBS9UG/", "x08go/ZJ kuBS9UG/"), "not an em dash, a key name"),
        (GO_TEXT + "\n— PeterNeumann x08g\n", "not an em dash, a key name"),  # fewer than 5 bytes
        (GO_NOTE.replace("problem,", "problem,\t"), "no control character"),
        (GO_NOTE.replace("problem,", "problem,\r"), "no control character"),
        (GO_NOTE + "\n", "does not end with a newline"),
        (GO_NOTE + GO_NOTE.partition("\n\n")[2] * 100, "more than 100 signatures"),
    ],
)
def test_malformed_notes_are_refused(note: str, reason: str) -> None:
    with pytest.raises(MalformedNote, match=reason):
        open_note(note, [parse_verifier_key(GO_VERIFIER)])


def test_a_note_must_be_utf8() -> None:
    with pytest.raises(MalformedNote, match="valid UTF-8"):
        open_note(GO_NOTE.encode("utf-8").replace(b"problem", b"probl\xe9m"), [parse_verifier_key(GO_VERIFIER)])
    with pytest.raises(MalformedNote, match="valid UTF-8"):
        open_note(GO_NOTE.replace("problem", "probl\udce9m"), [parse_verifier_key(GO_VERIFIER)])


def test_a_blank_line_inside_the_text_is_allowed() -> None:
    key = go_key()
    note = sign_note(key, "PeterNeumann", "a\n\nb\n")
    assert open_note(note, [parse_verifier_key(GO_VERIFIER)]).text == "a\n\nb\n"


@pytest.mark.parametrize(
    "text",
    [
        "PeterNeumann+c74f20a3",
        "PeterNeumann+c74f20a+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
        "PeterNeumann+c74f20a4+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
        "Peter Neumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
        "+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
        "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10T",
        "PeterNeumann+c74f20a3+Alpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
        "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TWAA==",
        "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW\n",
        "PeterNeumann+0xc74f20+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
    ],
)
def test_malformed_verifier_keys_are_refused(text: str) -> None:
    with pytest.raises(MalformedVerifierKey):
        parse_verifier_key(text)


def test_verifier_keys_round_trip_and_accept_uppercase_hex_as_go_does() -> None:
    key = parse_verifier_key(GO_VERIFIER)
    assert key.text == GO_VERIFIER and key.name == "PeterNeumann" and key.key_hash == 0xC74F20A3
    assert parse_verifier_key(GO_VERIFIER.replace("c74f20a3", "C74F20A3")) == key


def test_two_known_keys_with_one_name_and_hash_are_refused() -> None:
    real = parse_verifier_key(GO_VERIFIER)
    colliding = type(real)(name=real.name, key_hash=real.key_hash, public_bytes=bytes(32))
    with pytest.raises(MalformedVerifierKey, match="share the name"):
        open_note(GO_NOTE, [real, colliding])
    assert open_note(GO_NOTE, [real, real]).signatures


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        (f"{ORIGIN}\n5\n", "at least three non-empty lines"),
        (f"{ORIGIN}\n5\n{ROOT64}", "must end with a newline"),
        (f"{ORIGIN}\n5\n{ROOT64}\n\n", "at least three non-empty lines"),
        (f"\n5\n{ROOT64}\n", "at least three non-empty lines"),
        (f"{ORIGIN}\n05\n{ROOT64}\n", "tree size"),
        (f"{ORIGIN}\n+5\n{ROOT64}\n", "tree size"),
        (f"{ORIGIN}\n-1\n{ROOT64}\n", "tree size"),
        (f"{ORIGIN}\n٥\n{ROOT64}\n", "tree size"),
        (f"{ORIGIN}\n{2**63}\n{ROOT64}\n", "tree size"),
        (f"{ORIGIN}\n5\n{base64.b64encode(ROOT[:31]).decode()}\n", "root hash"),
        (f"{ORIGIN}\n5\n{URLSAFE64}\n", "root hash"),
        (f"{ORIGIN}\n5\n{ROOT64.rstrip('=')}\n", "root hash"),
        (f"{ORIGIN}\n5\n {ROOT64}\n", "root hash"),
    ],
)
def test_checkpoint_bodies_are_parsed_strictly(text: str, reason: str) -> None:
    with pytest.raises(MalformedCheckpoint, match=reason):
        parse_checkpoint(text)


def test_a_checkpoint_of_another_log_is_refused() -> None:
    key = Ed25519PrivateKey.generate()
    note = sign_checkpoint(key, "other.example/log", 5, ROOT)
    with pytest.raises(MalformedCheckpoint, match=r"for the log other\.example/log, not ocop\.example\.vn/ledger"):
        open_checkpoint(note, [verifier("other.example/log", key.public_key())], origin=ORIGIN)


@pytest.mark.parametrize(
    ("origin", "size", "root"),
    [("", 1, ROOT), ("a\nb", 1, ROOT), (ORIGIN, -1, ROOT), (ORIGIN, 2**63, ROOT), (ORIGIN, 1, ROOT[:31])],
)
def test_impossible_checkpoints_are_never_signed(origin: str, size: int, root: bytes) -> None:
    with pytest.raises(MalformedCheckpoint):
        sign_checkpoint(Ed25519PrivateKey.generate(), origin, size, root, name="k")


def test_a_key_name_with_a_space_cannot_sign() -> None:
    with pytest.raises(MalformedVerifierKey, match="cannot name a key"):
        sign_checkpoint(Ed25519PrivateKey.generate(), "go.sum database tree", 1, ROOT)
