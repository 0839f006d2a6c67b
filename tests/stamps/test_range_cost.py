"""A range change reads and writes only the ranges it touches; a stamp's look-up reads only its own range.

Counted in rows, not timed (benchmarks/ranges.py prints the times): after hundreds of single-stamp
activations, the next one must not load the batch's other ranges, nor the public look-up.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from typing import Any

import pytest
from sqlalchemy import event, select
from sqlalchemy.orm import Session

from traceability.audit.models import AuditEntry
from traceability.stamps import batches
from traceability.stamps.batches import BatchOptions
from traceability.stamps.models import Batch, RangeState, StampRange
from traceability.stamps.ranges import InvalidTransition
from traceability.verification.services import verify_code

ISSUED, ACTIVATED, VOIDED, REVOKED = RangeState.ISSUED, RangeState.ACTIVATED, RangeState.VOIDED, RangeState.REVOKED


@contextmanager
def loaded_ranges(session: Session) -> Iterator[list[StampRange]]:
    """Collect every StampRange row the session loads from the database inside the block."""
    rows: list[StampRange] = []

    def collect(target: StampRange, _context: Any) -> None:
        rows.append(target)

    event.listen(StampRange, "load", collect)
    event.listen(StampRange, "refresh", collect)
    try:
        yield rows
    finally:
        event.remove(StampRange, "load", collect)
        event.remove(StampRange, "refresh", collect)


def shape(session: Session, batch_id: int) -> list[tuple[int, int, RangeState]]:
    session.expire_all()
    rows = session.scalars(select(StampRange).where(StampRange.batch_id == batch_id).order_by(StampRange.start))
    return [(r.start, r.end, r.state) for r in rows]


@pytest.fixture
def fragmented(session: Session, store: Any, publication_key: Any, factory: Any) -> int:
    """A batch of 1,000 stamps with every other stamp of the first 400 activated alone: 401 ranges."""
    product = factory.product()
    batch = batches.issue_direct(
        session, store, product, 1_000, BatchOptions(), actor="t", maximum=1_000, today=date.today()
    )
    session.commit()
    for sequence in range(1, 400, 2):
        batches.change_range(session, batch, sequence, sequence + 1, ACTIVATED, actor="t")
    session.commit()
    batch_id = batch.id
    assert len(shape(session, batch_id)) == 401
    return batch_id


def test_an_activation_loads_only_its_neighbours(session: Session, fragmented: int) -> None:
    session.expunge_all()
    batch = session.get(Batch, fragmented)
    assert batch is not None
    with loaded_ranges(session) as rows:
        batches.change_range(session, batch, 200, 201, ACTIVATED, actor="t")
        session.commit()
    assert len(rows) <= 3, [(r.start, r.end) for r in rows]
    assert shape(session, batch.id)[199:202] == [(199, 202, ACTIVATED), (202, 203, ISSUED), (203, 204, ACTIVATED)]
    entry = session.scalars(select(AuditEntry).order_by(AuditEntry.id.desc())).first()
    assert entry is not None and entry.after["span"] == [200, 201]
    assert entry.before["ranges"] == [[199, 200, "activated"], [200, 201, "issued"], [201, 202, "activated"]]
    assert entry.after["ranges"] == [[199, 202, "activated"]]


def test_a_public_look_up_loads_no_range_rows(
    app: Any, session: Session, store: Any, signing_key: Any, fragmented: int
) -> None:
    batch = session.get(Batch, fragmented)
    assert batch is not None
    token = next(batches.stamps(batch, store.load(signing_key.id), app.config["PUBLIC_BASE_URL"], 301, 302)).token
    session.expunge_all()
    with loaded_ranges(session) as rows:
        result = verify_code(session, token, date.today())
    assert result.state is ACTIVATED
    # The state of the one range holding the stamp comes from read_stamp's single statement: no range row
    # of the 401 is loaded at all.
    assert [(r.start, r.end) for r in rows] == []


def test_random_moves_agree_with_moving_the_whole_batch(
    session: Session, store: Any, publication_key: Any, factory: Any
) -> None:
    """The neighbourhood-only change gives exactly the ranges a whole-batch recomputation would."""
    product = factory.product()
    batch = batches.issue_direct(
        session, store, product, 60, BatchOptions(), actor="t", maximum=100, today=date.today()
    )
    session.commit()
    model = [ISSUED] * 60
    allowed = {ISSUED: {ACTIVATED, VOIDED, REVOKED}, ACTIVATED: {VOIDED, REVOKED}, VOIDED: {REVOKED}, REVOKED: set()}
    rng = random.Random(9)
    for _ in range(150):
        start = rng.randrange(60)
        end = rng.randrange(start + 1, min(60, start + 8) + 1)
        state = rng.choice([ACTIVATED, VOIDED, REVOKED])
        legal = all(model[i] is state or state in allowed[model[i]] for i in range(start, end))
        try:
            batches.change_range(session, batch, start, end, state, actor="t", reason="r")
        except InvalidTransition:
            session.rollback()
            assert not legal
            continue
        session.commit()
        assert legal
        model[start:end] = [state] * (end - start)
        expected: list[tuple[int, int, RangeState]] = []
        for index, value in enumerate(model):
            if expected and expected[-1][2] is value:
                expected[-1] = (expected[-1][0], index + 1, value)
            else:
                expected.append((index, index + 1, value))
        assert shape(session, batch.id) == expected
