"""The programme office: review queue, approve or reject with a reason, revoke; who may do what."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from sqlalchemy import func, select

from traceability.audit.models import AuditEntry
from traceability.stamps import batches
from traceability.stamps.batches import BatchOptions
from traceability.stamps.models import Batch, BatchStatus, StampRange

TODAY = date.today()


@pytest.fixture
def requested(session: Any, factory: Any) -> Batch:
    product = factory.product("NT-SP01", stars=4)
    batch = batches.new_request(
        session, product, 300, BatchOptions(lot="L7"), actor="user:p@x.vn", maximum=100_000, today=TODAY
    )
    session.commit()
    return batch


@pytest.mark.usefixtures("english")  # reads the English domain-error messages
def test_queue_lists_requests_and_an_admin_approves(
    auth: Any, client: Any, session: Any, signing_key: Any, requested: Batch
) -> None:
    admin = auth.user("administrator")
    auth.login(admin.email)
    queue = client.get("/office/").get_data(as_text=True)
    assert f"/office/batches/{requested.id}" in queue and "NT-SP01" in queue
    page = f"/office/batches/{requested.id}"
    response = auth.post(f"{page}/approve", prefix="approve", form_page=page)
    assert response.status_code == 302
    session.expire_all()
    batch = session.get(Batch, requested.id)
    assert batch.status is BatchStatus.ISSUED and batch.key_id == signing_key.id and batch.stars == 4
    assert batch.decided_by == admin.label
    assert [(r.start, r.end) for r in batch.ranges] == [(0, 300)]
    entry = session.scalar(select(AuditEntry).where(AuditEntry.action == "batch.approve"))
    assert entry.actor == admin.label and entry.target == f"batch:{batch.id}"
    assert entry.before["status"] == "requested" and entry.after["status"] == "issued"
    assert entry.after["ranges"] == [[0, 300, "issued"]]
    assert "secret" not in str(entry.after)
    assert "NT-SP01" not in client.get("/office/").get_data(as_text=True)  # no longer waiting
    again = auth.post(f"{page}/approve", prefix="approve", form_page=page)
    assert again.status_code == 409 and "not waiting for approval" in again.get_data(as_text=True)


def test_reject_needs_a_reason(auth: Any, client: Any, session: Any, requested: Batch) -> None:
    auth.login(auth.user("administrator").email)
    page = f"/office/batches/{requested.id}"
    empty = auth.post(f"{page}/reject", {"reject-reason": "  "}, prefix="reject", form_page=page)
    assert empty.status_code == 422
    reason = {"reject-reason": "Dossier incomplete", "confirmed": "1"}
    assert auth.post(f"{page}/reject", reason, prefix="reject", form_page=page).status_code == 302
    session.expire_all()
    batch = session.get(Batch, requested.id)
    assert (batch.status, batch.decision_reason) == (BatchStatus.REJECTED, "Dossier incomplete")


def test_inspectors_read_and_revoke_but_do_not_approve(
    auth: Any, client: Any, session: Any, store: Any, signing_key: Any, requested: Batch
) -> None:
    auth.login(auth.user("inspector").email)
    page = f"/office/batches/{requested.id}"
    assert client.get(page).status_code == 200
    assert "approve-form" not in client.get(page).get_data(as_text=True)
    assert auth.post(f"{page}/approve", prefix="approve", form_page=page).status_code == 403
    assert auth.post(f"{page}/reject", {"reject-reason": "no"}, prefix="reject", form_page=page).status_code == 403
    assert client.get("/office/users").status_code == 403
    assert client.get("/office/registry/producers/new").status_code == 403
    batches.issue(session, store, requested, actor="user:admin", today=TODAY)
    session.commit()
    reason = {"revoke-reason": "counterfeit complaint", "confirmed": "1"}
    response = auth.post(f"{page}/revoke", reason, prefix="revoke", form_page=page)
    assert response.status_code == 302
    session.expire_all()
    assert session.get(Batch, requested.id).status is BatchStatus.REVOKED
    assert session.scalar(select(AuditEntry).where(AuditEntry.action == "batch.revoke")).after["revocation_reason"] == (
        "counterfeit complaint"
    )


def test_a_failure_half_way_through_approval_leaves_nothing_issued(
    auth: Any, client: Any, session: Any, store: Any, signing_key: Any, requested: Batch
) -> None:
    store.path(signing_key.id).unlink()  # the private key is gone: signing cannot happen
    auth.login(auth.user("administrator").email)
    page = f"/office/batches/{requested.id}"
    response = auth.post(f"{page}/approve", prefix="approve", form_page=page)
    assert response.status_code == 409
    session.expire_all()
    batch = session.get(Batch, requested.id)
    assert batch.status is BatchStatus.REQUESTED and batch.secret is None and batch.key_id is None
    assert session.scalar(select(func.count(StampRange.id))) == 0
    assert session.scalar(select(func.count(AuditEntry.id)).where(AuditEntry.action == "batch.approve")) == 0


@pytest.mark.usefixtures("english")  # reads the English domain-error messages
def test_approval_rechecks_the_certificate(
    auth: Any, client: Any, session: Any, signing_key: Any, requested: Batch
) -> None:
    from traceability.registry.services import set_certification_status

    set_certification_status(session, requested.product.certifications[0], "revoked", "misuse of the OCOP mark")
    session.commit()
    auth.login(auth.user("administrator").email)
    page = f"/office/batches/{requested.id}"
    response = auth.post(f"{page}/approve", prefix="approve", form_page=page)
    assert response.status_code == 409 and "revoked" in response.get_data(as_text=True)
    session.expire_all()
    assert session.get(Batch, requested.id).status is BatchStatus.REQUESTED


def test_cli_key_operations_are_audited(runner: Any, session: Any, signing_key: Any) -> None:
    assert runner.invoke(args=["keys", "rotate"]).exit_code == 0
    assert (
        runner.invoke(
            args=[
                "keys",
                "compromise",
                str(signing_key.id),
                "--at",
                "2026-01-01T00:00+07:00",
                "--note",
                "laptop stolen",
            ]
        ).exit_code
        == 0
    )
    entries = session.scalars(select(AuditEntry).order_by(AuditEntry.id)).all()
    assert [e.action for e in entries] == ["key.generate", "key.compromise"]
    assert all(e.actor.startswith("cli:") for e in entries)
    assert entries[1].before["status"] == "retired" and entries[1].after["status"] == "compromised"


def test_cli_batch_commands_are_audited(runner: Any, session: Any, signing_key: Any, factory: Any) -> None:
    factory.product("NT-SP01")
    assert runner.invoke(args=["batch", "issue", "--product", "NT-SP01", "--quantity", "20"]).exit_code == 0
    batch_id = session.scalar(select(Batch.id))
    assert runner.invoke(args=["batch", "activate", str(batch_id), "--from", "0", "--to", "9"]).exit_code == 0
    assert runner.invoke(args=["batch", "void", str(batch_id), "--from", "15", "--reason", "wet"]).exit_code == 0
    assert runner.invoke(args=["batch", "revoke", str(batch_id), "--reason", "recall"]).exit_code == 0
    actions = session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)).all()
    assert actions == ["batch.request", "batch.approve", "batch.activate", "batch.void", "batch.revoke"]


def test_audit_log_page(auth: Any, client: Any, session: Any, signing_key: Any, requested: Batch) -> None:
    auth.login(auth.user("inspector").email)
    page = client.get(f"/office/audit?kind=batch&record={requested.id}").get_data(as_text=True)
    assert "batch.request" in page and "p@x.vn" in page
