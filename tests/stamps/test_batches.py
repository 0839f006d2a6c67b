"""Batches: issuing only for certified products, deterministic stamps, range states, keys."""

from __future__ import annotations

import os
import stat
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from traceability.errors import ValidationError
from traceability.registry.services import ProductNotCertified
from traceability.stamps import batches, codec, keys, ranges, serials
from traceability.stamps.batches import BatchOptions
from traceability.stamps.keystore import FileKeyStore, KeyStoreError
from traceability.stamps.models import Batch, RangeState, StampRange
from traceability.stamps.ranges import InvalidTransition

TODAY = date.today()


def issue(session: Any, store: Any, product: Any, quantity: int = 10, **kwargs: Any) -> Batch:
    batch = batches.issue_direct(
        session,
        store,
        product,
        quantity,
        BatchOptions(lot="L1"),
        actor="test",
        maximum=100_000,
        today=TODAY,
        **kwargs,
    )
    session.commit()
    return batch


def test_issue_records_one_range_and_reproduces_identical_stamps(
    session: Any, store: Any, signing_key: Any, factory: Any
) -> None:
    product = factory.product(stars=5)
    batch = issue(session, store, product, 30_000)
    assert [(r.start, r.end, r.state) for r in batch.ranges] == [(0, 30_000, RangeState.ISSUED)]
    assert session.scalar(select(func.count(StampRange.id))) == 1
    private = store.load(signing_key.id)
    first = list(batches.stamps(batch, private, "https://ocop.gov.vn", 0, 50))
    again = list(batches.stamps(batch, private, "https://ocop.gov.vn", 0, 50))
    assert first == again
    assert len({s.token for s in first}) == 50
    assert len({s.serial for s in first}) == 50
    body = codec.parse(first[7].url).body
    assert (body.batch_id, body.sequence, body.stars, body.product_ref) == (batch.id, 7, 5, product.id)
    assert serials.parse_serial(first[7].serial.lower().replace("0", "o")) == (
        batch.id,
        7,
        first[7].serial[-5:],
    )


def test_a_rolled_back_batch_leaves_no_valid_stamp(session: Any, store: Any, signing_key: Any, factory: Any) -> None:
    from traceability.verification.services import verify_code
    from traceability.verification.verdicts import Verdict

    product = factory.product()
    first = issue(session, store, product, activate=True).id
    doomed = batches.issue_direct(
        session, store, product, 5, BatchOptions(), actor="t", maximum=10, today=TODAY, activate=True
    )
    doomed_id, doomed_stamp = (
        doomed.id,
        next(batches.stamps(doomed, store.load(signing_key.id), "https://x.vn")),
    )
    session.rollback()
    replacement = issue(session, store, product, activate=True)
    assert replacement.id > first
    if session.bind.dialect.name == "postgresql":
        assert replacement.id > doomed_id  # sequences never hand out an id twice
    # SQLite may hand the id out again, but the new batch has a new secret: a stamp signed inside the
    # rolled-back transaction never verifies, so no serial that left the building is ever reused.
    assert verify_code(session, doomed_stamp.url, TODAY).verdict is Verdict.FORGED


@pytest.mark.parametrize(("quantity", "message"), [(0, "at least 1"), (-5, "at least 1"), (100_001, "split it")])
def test_quantity_limits(session: Any, store: Any, signing_key: Any, factory: Any, quantity: int, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        issue(session, store, factory.product(), quantity)


def test_uncertified_or_expired_products_get_no_stamps(
    session: Any, store: Any, signing_key: Any, factory: Any
) -> None:
    with pytest.raises(ProductNotCertified, match="no OCOP certification"):
        issue(session, store, factory.product(stars=None))
    with pytest.raises(ProductNotCertified, match="expired"):
        issue(session, store, factory.product(decision_date=TODAY - timedelta(days=365 * 3 + 5)))
    session.rollback()
    assert session.scalar(select(func.count(Batch.id))) == 0


def test_ranges_split_merge_and_refuse_illegal_moves(session: Any, store: Any, signing_key: Any, factory: Any) -> None:
    batch = issue(session, store, factory.product(), 100)
    batches.change_range(session, batch, 10, 20, RangeState.ACTIVATED, actor="p")
    batches.change_range(session, batch, 20, 30, RangeState.ACTIVATED, actor="p")
    batches.change_range(session, batch, 15, 16, RangeState.VOIDED, actor="p", reason="torn")
    session.commit()
    assert [(r.start, r.end, r.state.value) for r in batch.ranges] == [
        (0, 10, "issued"),
        (10, 15, "activated"),
        (15, 16, "voided"),
        (16, 30, "activated"),
        (30, 100, "issued"),
    ]
    with pytest.raises(InvalidTransition, match="voided and cannot become activated"):
        batches.change_range(session, batch, 0, 100, RangeState.ACTIVATED, actor="p")
    session.rollback()
    assert len(batch.ranges) == 5  # nothing changed
    with pytest.raises(ValidationError, match="within the batch"):
        batches.change_range(session, batch, 90, 101, RangeState.ACTIVATED, actor="p")
    assert ranges.state_of(batch.ranges, 15) is RangeState.VOIDED
    assert ranges.state_of(batch.ranges, 100) is None


def test_key_files_are_private_and_never_overwritten(keys_dir: Any) -> None:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    store = FileKeyStore(keys_dir, passphrase="correct horse")
    key = Ed25519PrivateKey.generate()
    store.save(1, key)
    assert stat.S_IMODE(os.stat(store.path(1)).st_mode) == 0o600
    assert b"ENCRYPTED" in store.path(1).read_bytes()
    assert store.load(1).private_bytes_raw() == key.private_bytes_raw()
    with pytest.raises(KeyStoreError, match="refusing to replace"):
        store.save(1, Ed25519PrivateKey.generate())
    with pytest.raises(KeyStoreError, match="wrong KEYS_PASSPHRASE"):
        FileKeyStore(keys_dir, passphrase="wrong").load(1)
    with pytest.raises(KeyStoreError, match="KEYS_PASSPHRASE is not set"):
        FileKeyStore(keys_dir).load(1)
    os.chmod(store.path(1), 0o644)
    with pytest.raises(KeyStoreError, match="chmod 600"):
        store.load(1)


def test_rotation_and_compromise_keep_old_stamps_checkable(
    session: Any, store: Any, signing_key: Any, factory: Any
) -> None:
    product = factory.product()
    before = issue(session, store, product)
    compromised_at = datetime.now(UTC)
    after = issue(session, store, product)
    new_key = keys.generate_key(session, store)
    session.commit()
    assert keys.active_key(session).id == new_key.id
    assert keys.key_or_404(session, signing_key.id).status.value == "retired"
    keys.mark_compromised(session, signing_key.id, compromised_at, "laptop stolen")
    session.commit()
    trusted = keys.keyring(session)[signing_key.id]
    assert trusted.trusts_issue(before.issued_at) and not trusted.trusts_issue(after.issued_at)
    with pytest.raises(ValidationError, match="future"):
        keys.mark_compromised(session, new_key.id, compromised_at + timedelta(days=1), "typo")
