"""Scans and revocations at the same moment, through the app: each thread its own test client, as each
phone is its own client of the server, all on the test database (SQLite, and PostgreSQL in its pass).

Every scan must be recorded, however many arrive together; and once a revocation has committed, no
verification that starts afterwards may call the stamp genuine, whatever the read path keeps in memory.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from traceability.stamps import decisions
from traceability.stamps.models import Batch
from traceability.verification.models import Scan
from traceability.verification.range_revocation import revoke_range

SCANNERS = 24
VERIFIERS = 8
AFTER_REVOCATION = 5  # verifications each verifier starts once the revocation has committed


def own_client(app: Flask, address: str) -> FlaskClient:
    """Return a client of its own (no shared test session: sessions are not shared between threads)."""
    client = FlaskClient(app, app.response_class)
    client.environ_base["REMOTE_ADDR"] = address
    return client


def scans_of(session: Session, batch_id: int, sequence: int) -> int:
    session.rollback()  # a fresh read: the scans were committed by the requests' own sessions
    query = select(func.count(Scan.id)).where(Scan.batch_id == batch_id, Scan.sequence == sequence)
    return session.scalar(query) or 0


@pytest.mark.parametrize("path", ["/v/{token}", "/api/v1/verify?code={url}"])
def test_concurrent_scans_of_one_stamp_are_all_recorded(app: Flask, session: Session, issued: Any, path: str) -> None:
    url = issued.url(3)
    target = path.format(token=url.rsplit("/", 1)[1], url=url)
    clients = [own_client(app, f"203.0.113.{n + 1}") for n in range(SCANNERS)]
    session.rollback()
    barrier = threading.Barrier(SCANNERS)

    def scan(client: FlaskClient) -> int:
        barrier.wait()
        return client.get(target).status_code

    with ThreadPoolExecutor(max_workers=SCANNERS) as pool:
        statuses = list(pool.map(scan, clients))
    assert statuses == [200] * SCANNERS
    assert scans_of(session, issued.batch.id, 3) == SCANNERS


def _revoke_batch(session: Session, issued: Any) -> None:
    decisions.revoke(session, issued.batch.id, actor="user:inspector", reason="counterfeit goods found")


def _revoke_range(session: Session, issued: Any) -> None:
    batch = session.get(Batch, issued.batch.id)  # this thread's own copy: sessions are not shared
    revoke_range(session, batch, "1", "10", "stolen roll", actor="user:inspector")


@pytest.mark.parametrize("revoke", [_revoke_batch, _revoke_range], ids=["batch", "range"])
def test_a_revocation_racing_verifications_is_never_followed_by_a_genuine_answer(
    app: Flask, session: Session, issued: Any, revoke: Callable[[Session, Any], None]
) -> None:
    url = issued.url(5)
    assert (
        own_client(app, "198.51.100.1").get("/api/v1/verify", query_string={"code": url}).get_json()["verdict"]
        == "genuine"
    )
    session.rollback()
    committed, finished = threading.Event(), threading.Event()
    start = threading.Barrier(VERIFIERS + 1)

    def verify(number: int) -> list[tuple[bool, str]]:
        client = own_client(app, f"198.51.100.{number + 2}")
        answers: list[tuple[bool, str]] = []
        start.wait()
        after = 0
        while after < AFTER_REVOCATION and not (finished.is_set() and not committed.is_set()):
            # Read before the request is sent: True means the revocation had committed before it began.
            began_after = committed.is_set()
            response = client.get("/api/v1/verify", query_string={"code": url})
            assert response.status_code == 200
            answers.append((began_after, response.get_json()["verdict"]))
            after += began_after
        return answers

    def revoker() -> None:
        factory = app.extensions["db_sessionmaker"]
        start.wait()
        try:
            with factory() as own:
                revoke(own, issued)
                own.commit()
            committed.set()
        finally:
            finished.set()  # a failed revocation must not leave the verifiers waiting for it

    with ThreadPoolExecutor(max_workers=VERIFIERS + 1) as pool:
        revocation = pool.submit(revoker)
        results = list(pool.map(verify, range(VERIFIERS)))
        revocation.result()
    answers = [answer for thread in results for answer in thread]
    after = [verdict for began_after, verdict in answers if began_after]
    assert len(after) >= VERIFIERS * AFTER_REVOCATION
    assert set(after) == {"revoked"}, answers
    # Every answer was one of the two truths, never an error or a third verdict in between.
    assert {verdict for _, verdict in answers} <= {"genuine", "revoked"}
