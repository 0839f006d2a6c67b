"""Approvals at the same moment: every batch gets its own stamps, and a request is issued at most once.

On PostgreSQL the batch row lock (SELECT ... FOR UPDATE) and the id sequence do the work; on SQLite every
write transaction begins IMMEDIATE, so approvals queue. Both run here; the issue asks for PostgreSQL.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from typing import Any

import pytest
from sqlalchemy import create_engine, func, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from traceability.audit.models import AuditEntry
from traceability.db import make_engine
from traceability.errors import Conflict
from traceability.ledger.models import LedgerCheckpoint, LedgerRecord
from traceability.stamps import batches, decisions, serials
from traceability.stamps.batches import BatchOptions
from traceability.stamps.models import Batch, BatchStatus, StampRange

THREADS = 50  # the issue asks that 50 approvals at once never overlap
TODAY = date.today()


@pytest.fixture
def engine(app: Any) -> Any:
    url = app.config["DATABASE_URL"]
    # Enough connections for every thread at once, so they really do meet at the database.
    engine: Engine = create_engine(url, pool_size=THREADS + 2) if url.startswith("postgresql") else make_engine(url)
    yield engine
    engine.dispose()


def run_together(engine: Any, jobs: list[Callable[[Session], Any]]) -> list[Any]:
    """Run each job in its own thread and transaction, all released at the same instant."""
    factory = sessionmaker(engine, expire_on_commit=False)
    barrier = threading.Barrier(len(jobs))

    def run(job: Callable[[Session], Any]) -> Any:
        barrier.wait()
        with factory() as session:
            try:
                result = job(session)
                session.commit()
                return result
            except Exception as error:
                session.rollback()
                return error

    with ThreadPoolExecutor(max_workers=len(jobs)) as pool:
        return list(pool.map(run, jobs))


def requests(session: Any, factory: Any, count: int, quantity: int = 1000) -> list[int]:
    product = factory.product("NT-SP01")
    ids = [
        batches.new_request(session, product, quantity, BatchOptions(), actor="user:p", maximum=100_000, today=TODAY).id
        for _ in range(count)
    ]
    session.commit()
    return ids


def test_fifty_concurrent_approvals_never_overlap(
    engine: Any, session: Any, store: Any, signing_key: Any, factory: Any
) -> None:
    ids = requests(session, factory, THREADS)

    def approver(batch_id: int) -> Callable[[Session], Any]:
        return lambda s: decisions.approve(s, store, batch_id, actor=f"user:admin{batch_id}", today=TODAY).id

    results = run_together(engine, [approver(i) for i in ids])
    assert sorted(results) == sorted(ids), [r for r in results if isinstance(r, Exception)]
    session.expire_all()
    issued = session.scalars(select(Batch).order_by(Batch.id)).all()
    assert all(b.status is BatchStatus.ISSUED for b in issued)
    assert all([(r.start, r.end) for r in b.ranges] == [(0, 1000)] for b in issued)
    assert len({b.secret for b in issued}) == THREADS  # each batch its own secret: no shared serials
    serial_sets = [{serials.serial(b.id, n, b.secret) for n in range(0, 1000, 97)} for b in issued]
    assert len(set().union(*serial_sets)) == sum(len(s) for s in serial_sets)
    approvals = session.scalar(select(func.count(AuditEntry.id)).where(AuditEntry.action == "batch.approve"))
    assert approvals == THREADS
    # The ledger took them one after another: one entry per batch at leaves 0..49, and a checkpoint per size.
    leaves = session.execute(select(LedgerRecord.leaf_index, LedgerRecord.batch_id)).all()
    assert sorted(leaf for leaf, _ in leaves) == list(range(THREADS))
    assert sorted(batch for _, batch in leaves) == sorted(ids)
    sizes = session.scalars(select(LedgerCheckpoint.tree_size).order_by(LedgerCheckpoint.tree_size)).all()
    assert list(sizes) == list(range(1, THREADS + 1))


def test_the_same_request_approved_twenty_times_at_once_is_issued_once(
    engine: Any, session: Any, store: Any, signing_key: Any, factory: Any
) -> None:
    (batch_id,) = requests(session, factory, 1)
    results = run_together(
        engine,
        [
            lambda s, n=n: decisions.approve(s, store, batch_id, actor=f"user:admin{n}", today=TODAY).id
            for n in range(20)
        ],
    )
    assert results.count(batch_id) == 1
    refusals = [r for r in results if r != batch_id]
    assert len(refusals) == 19 and all(isinstance(r, Conflict) for r in refusals), refusals
    session.expire_all()
    assert session.scalar(select(func.count(StampRange.id))) == 1
    assert session.scalar(select(func.count(AuditEntry.id)).where(AuditEntry.action == "batch.approve")) == 1


def test_approve_and_reject_racing_leave_one_decision(
    engine: Any, session: Any, store: Any, signing_key: Any, factory: Any
) -> None:
    ids = requests(session, factory, 10)
    jobs: list[Callable[[Session], Any]] = []
    for batch_id in ids:
        jobs.append(lambda s, b=batch_id: decisions.approve(s, store, b, actor="user:a", today=TODAY).status)
        jobs.append(lambda s, b=batch_id: decisions.reject(s, b, actor="user:r", reason="no").status)
    results = run_together(engine, jobs)
    session.expire_all()
    for index, batch_id in enumerate(ids):
        approve_result, reject_result = results[2 * index], results[2 * index + 1]
        # Exactly one of the two won, and the batch shows that one's decision.
        winners = [r for r in (approve_result, reject_result) if isinstance(r, BatchStatus)]
        assert len(winners) == 1, (approve_result, reject_result)
        batch = session.get(Batch, batch_id)
        assert batch.status is winners[0]
        assert (len(batch.ranges) == 1) == (batch.status is BatchStatus.ISSUED)
