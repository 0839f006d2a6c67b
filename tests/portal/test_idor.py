"""No producer reaches another producer's data, and nobody anonymous reaches anyone's.

The walk enumerates app.url_map, so a route added later is covered without editing this test; a route
with a URL parameter this test cannot fill fails it, and a new public route must be named below.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from tests.conftest import csrf_token
from tests.registry.photo_support import camera_jpeg
from traceability.accounts.models import User
from traceability.audit.models import AuditEntry
from traceability.db import utcnow
from traceability.printing import jobs
from traceability.printing.models import JobStatus
from traceability.registry import photos
from traceability.registry.models import Certification, ProductPhoto
from traceability.stamps import batches
from traceability.stamps.batches import BatchOptions
from traceability.stamps.models import Batch

# Public by design: the shopper's pages and API, the load balancers' probes, static files, and the login itself.
PUBLIC_BLUEPRINTS = {"verification", "health", "ledger", "photos"}  # photos: approved product photos only
PUBLIC_ENDPOINTS = {"static", "accounts.login", "accounts.logout"}
SECRETS = ("SECRET-SP", "LOT-A-SECRET", "Hợp tác xã Bí Mật")
PREFIXES = ("", "activate-", "void-", "approve-", "reject-", "revoke-")


@pytest.fixture
def world(app: Flask, session: Any, factory: Any, store: Any, signing_key: Any, auth: Any) -> dict[str, Any]:
    """Producer A with a product, a requested and an issued batch; producer B; one user each."""
    today = date.today()
    producer_a = factory.producer("A-HTX", name="Hợp tác xã Bí Mật")
    product_a = factory.product("SECRET-SP", producer=producer_a)
    requested = batches.new_request(
        session, product_a, 10, BatchOptions(lot="LOT-A-SECRET"), actor="user:a", maximum=100, today=today
    )
    issued = batches.new_request(
        session, product_a, 20, BatchOptions(lot="LOT-A-SECRET"), actor="user:a", maximum=100, today=today
    )
    batches.issue(session, store, issued, actor="user:admin", today=today)
    session.commit()
    producer_b = factory.producer("B-HTX", name="Hợp tác xã Khác")
    factory.product("B-SP", producer=producer_b)
    user_a = auth.user("producer", producer=producer_a)
    user_b = auth.user("producer", producer=producer_b)
    token = next(batches.stamps(issued, store.load(signing_key.id), app.config["PUBLIC_BASE_URL"])).token
    # A finished print job of A's batch (its printer CSV, so "fmt": "csv" names one of its files).
    job = jobs.request_print(session, issued, None, "user:a", formats=("csv",), print_dir=app.config["PRINT_DIR"])
    session.commit()
    jobs.start_jobs(app).result(timeout=60)
    session.expire_all()
    assert job.status is JobStatus.DONE, job.error
    photo = photos.upload_photo(session, product_a, camera_jpeg(), actor="user:a", at=utcnow(), max_bytes=10**7)
    session.commit()
    return {
        "values": {
            "batch_id": issued.id,
            "fmt": "csv",
            "code": product_a.code,
            "certification_id": product_a.certifications[0].id,
            "user_id": user_a.id,
            "token": token,
            "filename": "portal.css",
            "report_id": 1,  # office-only: refused before any report is looked up
            "job_id": job.id,
            "photo_id": photo.id,
        },
        "requested": requested.id,
        "issued": issued.id,
        "product_a": product_a,
        "user_a": user_a,
        "user_b": user_b,
    }


def form_data(values: dict[str, Any], token: str) -> dict[str, Any]:
    """Return a form that would succeed on any of the routes if the caller were allowed."""
    data: dict[str, Any] = {f"{p}csrf_token": token for p in PREFIXES}
    for prefix in PREFIXES:
        data.update({f"{prefix}first": "0", f"{prefix}last": "9", f"{prefix}reason": "walk"})
    data.update({"product": values["product_id"], "quantity": "5", "layout": "a4-30mm", "status": "revoked"})
    return data


def protected_routes(app: Flask) -> list[Any]:
    rules = []
    for rule in app.url_map.iter_rules():
        blueprint = rule.endpoint.split(".", 1)[0] if "." in rule.endpoint else None
        if blueprint in PUBLIC_BLUEPRINTS or rule.endpoint in PUBLIC_ENDPOINTS:
            continue
        rules.append(rule)
    return rules


def url_for_rule(rule: Any, values: dict[str, Any]) -> str:
    missing = [name for name in rule.arguments if name not in values]
    assert not missing, f"{rule.endpoint} has URL parameters {missing}: teach test_idor.py to fill them"
    path = rule.rule
    for name in rule.arguments:
        path = path.replace(f"<{name}>", str(values[name]))
        for converter in ("int", "path", "string"):
            path = path.replace(f"<{converter}:{name}>", str(values[name]))
    return path


def state(session: Any, world: dict[str, Any]) -> Any:
    session.expire_all()
    return (
        session.scalar(select(func.count(Batch.id))),
        [(b.id, b.status, [(r.start, r.end, r.state) for r in b.ranges]) for b in session.scalars(select(Batch))],
        session.get(User, world["user_a"].id).is_active,
        [c.status for c in session.scalars(select(Certification))],
        [(p.id, p.status) for p in session.scalars(select(ProductPhoto).order_by(ProductPhoto.id))],
    )


def walk(app: Flask, client: FlaskClient, world: dict[str, Any], token: str, who: str) -> list[str]:
    """Request every protected route with every method; return what leaked."""
    problems = []
    values = {**world["values"], "product_id": world["product_a"].id}
    for rule in protected_routes(app):
        path = url_for_rule(rule, values)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            if method == "GET":
                response = client.get(path)
            else:
                response = client.open(path, method=method, data=form_data(values, token))
            body = response.get_data(as_text=True)
            owns_no_argument = not rule.arguments
            if response.status_code in (403, 404):
                continue
            if who == "producer B" and rule.endpoint.startswith(("portal.", "portal_photos.")) and owns_no_argument:
                # B's own pages (dashboard, request form): allowed, as long as nothing of A's shows.
                if any(secret in body for secret in SECRETS):
                    problems.append(f"{method} {path} shows producer A's data to {who}")
                continue
            problems.append(f"{method} {path} answered {response.status_code} to {who}")
    return problems


def test_every_route_refuses_other_producers_and_anonymous_users(
    app: Flask, auth: Any, session: Any, world: dict[str, Any]
) -> None:
    before = state(session, world)
    audit_before = session.scalar(select(func.count(AuditEntry.id)))

    anonymous = app.test_client()
    problems = walk(app, anonymous, world, csrf_token(anonymous, "/login"), "anonymous")

    other = app.test_client()
    assert auth.login(world["user_b"].email, client=other).status_code == 302
    problems += walk(app, other, world, csrf_token(other, "/portal/"), "producer B")

    assert not problems, "\n".join(problems)
    assert state(session, world) == before, "someone changed producer A's data"
    assert session.scalar(select(func.count(AuditEntry.id))) == audit_before


def test_the_walk_reaches_real_records(app: Flask, auth: Any, client: Any, world: dict[str, Any]) -> None:
    """Control: producer A opens the same URLs, so the refusals above are about ownership, not typos."""
    auth.login(world["user_a"].email)
    values = world["values"]
    portal_rules = [r for r in protected_routes(app) if r.endpoint.startswith("portal.") and "GET" in r.methods]
    assert len(portal_rules) >= 4
    for rule in portal_rules:
        response = client.get(url_for_rule(rule, values))
        response.close()  # a file download holds its file open until closed
        assert response.status_code == 200, (rule.endpoint, response.status_code)
    assert "LOT-A-SECRET" in client.get(f"/portal/batches/{world['requested']}").get_data(as_text=True)
