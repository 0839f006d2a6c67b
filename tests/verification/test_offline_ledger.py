"""Offline verification checks every stamp against its batch's ledger entry; the ledger export is opened strictly."""

from __future__ import annotations

import base64
import dataclasses
import json
from datetime import date
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from traceability.ledger import services as ledger_services
from traceability.ledger.checkpoint import sign_checkpoint
from traceability.ledger.merkle import leaf_hash, root_hash
from traceability.ledger.snapshot import SnapshotRejected, export_document, open_export
from traceability.stamps import batches, codec, keys
from traceability.stamps.batches import BatchOptions
from traceability.stamps.signing import sign_body
from traceability.verification.verdicts import Verdict, check_offline

TODAY = date.today()
BASE = "https://ocop.example.vn"


@pytest.fixture
def kit(session: Any, store: Any, signing_key: Any, factory: Any) -> Any:
    product = factory.product(stars=4)
    batch = batches.issue_direct(
        session, store, product, 8, BatchOptions(), actor="t", maximum=100, today=TODAY, activate=True
    )
    session.commit()
    ring = keys.keyring(session)
    publishers = [k.public_key for k in ring.values() if k.purpose == "publication"]
    document = json.loads(json.dumps(ledger_services.export(session)))
    return batch, ring, publishers, document, store.load(signing_key.id)


def reason(code: str, ring: Any, ledger: Any) -> tuple[Verdict, str]:
    outcome = check_offline(code, ring, TODAY, ledger=ledger)
    return outcome.verdict, next(iter(outcome.findings.values()), "")


def test_every_stamp_is_checked_against_its_ledger_entry(session: Any, store: Any, kit: Any, factory: Any) -> None:
    batch, ring, publishers, document, private = kit
    ledger = open_export(document, publishers)
    genuine = next(batches.stamps(batch, private, BASE))
    assert reason(genuine.url, ring, ledger) == (Verdict.GENUINE, "")
    body = codec.parse(genuine.url).body
    other = factory.product("OTHER", stars=5)

    def signed(**changes: int) -> str:
        return sign_body(private, dataclasses.replace(body, **changes))

    verdict, why = reason(signed(sequence=8), ring, ledger)
    assert verdict is Verdict.FORGED and "stamp #8 lies beyond batch" in why and "8 stamps" in why
    for changes, field in [
        ({"product_ref": other.id}, "product"),
        ({"stars": 5}, "stars"),
        ({"valid_until_month": body.valid_until_month + 12}, "certificate valid-until month"),
    ]:
        verdict, why = reason(signed(**changes), ring, ledger)
        assert verdict is Verdict.FORGED and f"stamp's {field} differ" in why, changes
    # A batch issued after this copy of the ledger was exported is not in it: refused, and the reason says why.
    later = batches.issue_direct(session, store, other, 3, BatchOptions(), actor="t", maximum=100, today=TODAY)
    session.commit()
    verdict, why = reason(next(batches.stamps(later, private, BASE)).url, ring, ledger)
    assert verdict is Verdict.FORGED and f"batch {later.id} is not in the ledger" in why
    fresh = open_export(ledger_services.export(session), publishers)
    assert check_offline(next(batches.stamps(later, private, BASE)).url, ring, TODAY, ledger=fresh).trusted


def _altered(document: dict[str, Any], change: Any) -> dict[str, Any]:
    copy: dict[str, Any] = json.loads(json.dumps(document))
    change(copy)
    return copy


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d.update(extra=1), "format, origin, checkpoint and entries"),
        (lambda d: d.update(format="ocop-ledger-export/v2"), "unknown ledger export format"),
        (lambda d: d.update(entries="AAAA"), "entries a list"),
        (lambda d: d["entries"].append(d["entries"][0]), "covers"),
        (lambda d: d.update(entries=[]), "covers"),
        (lambda d: d["entries"].__setitem__(0, d["entries"][0].rstrip("=") + " "), "canonical base64"),
        (lambda d: d["entries"].__setitem__(0, "٣" + d["entries"][0][1:]), "canonical base64"),
        (lambda d: d.update(origin=d["origin"] + "x"), "cannot be trusted"),
        (lambda d: d.update(checkpoint=d["checkpoint"].replace("\n1\n", "\n2\n", 1)), "cannot be trusted"),
    ],
)
def test_an_altered_export_is_refused(kit: Any, change: Any, message: str) -> None:
    _batch, _ring, publishers, document, _private = kit
    with pytest.raises(SnapshotRejected, match=message):
        open_export(_altered(document, change), publishers)


def test_entries_that_do_not_hash_to_the_root_are_refused(kit: Any) -> None:
    _batch, _ring, publishers, document, _private = kit
    raw = bytearray(base64.b64decode(document["entries"][0]))
    raw[10] = 5  # stars 4 -> 5, still a well-formed entry
    changed = _altered(document, lambda d: d["entries"].__setitem__(0, base64.b64encode(bytes(raw)).decode()))
    with pytest.raises(SnapshotRejected, match="do not hash to the checkpoint's root"):
        open_export(changed, publishers)


def test_a_checkpoint_signed_by_any_other_key_is_refused(kit: Any) -> None:
    _batch, _ring, publishers, document, _private = kit
    entries = [base64.b64decode(e) for e in document["entries"]]
    note = sign_checkpoint(
        Ed25519PrivateKey.generate(), document["origin"], len(entries), root_hash([leaf_hash(e) for e in entries])
    )
    with pytest.raises(SnapshotRejected, match="no valid signature by a known key"):
        open_export(export_document(document["origin"], note, entries), publishers)


def test_two_entries_for_one_batch_are_refused(kit: Any, store: Any, session: Any) -> None:
    _batch, _ring, publishers, document, _private = kit
    entries = [base64.b64decode(e) for e in document["entries"]] * 2
    private = store.load(keys.active_publication_key(session).id, "publication")
    note = sign_checkpoint(private, document["origin"], len(entries), root_hash([leaf_hash(e) for e in entries]))
    with pytest.raises(SnapshotRejected, match="two ledger entries"):
        open_export(export_document(document["origin"], note, entries), publishers)
