"""Domain errors reach people in their language: Vietnamese by default, English on request."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from traceability.errors import NotFound, Term, ValidationError
from traceability.stamps import batches
from traceability.stamps.batches import BatchOptions
from traceability.stamps.models import Batch, RangeState


def issued_with_a_void(session: Any, store: Any, product: Any) -> Batch:
    batch = batches.new_request(
        session, product, 100, BatchOptions(lot="L1"), actor="user:p", maximum=100_000, today=date.today()
    )
    batches.issue(session, store, batch, actor="user:admin", today=date.today())
    batches.change_range(session, batch, 55, 56, RangeState.VOIDED, actor="t", reason="lost")
    session.commit()
    return batch


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("", "tem 55..55 đã hủy, không thể chuyển sang đã kích hoạt"),
        ("?lang=en", "stamps 55..55 are voided and cannot become activated"),
    ],
)
def test_activating_a_voided_stamp_explains_why_in_the_producers_language(
    auth: Any, session: Any, store: Any, signing_key: Any, producer_user: Any, query: str, message: str
) -> None:
    batch = issued_with_a_void(session, store, producer_user.producer.products[0])
    page = f"/portal/batches/{batch.id}"
    response = auth.post(f"{page}/activate{query}", {"activate-first": "55"}, prefix="activate", form_page=page)
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)


@pytest.mark.parametrize(
    ("headers", "message"),
    [
        ({}, "bạn không có lô tem 999999"),
        ({"Accept-Language": "vi"}, "bạn không có lô tem 999999"),
        ({"Accept-Language": "en-US,en;q=0.9"}, "you have no batch 999999"),
    ],
)
def test_error_json_follows_accept_language(
    client: Any, producer_user: Any, headers: dict[str, str], message: str
) -> None:
    response = client.get("/portal/batches/999999", headers={"Accept": "application/json", **headers})
    assert response.status_code == 404
    assert response.get_json() == {"error": "not_found", "message": message}


def test_outside_a_request_the_message_is_english() -> None:
    error = ValidationError(
        "stamps %(first)s..%(last)s are %(state)s",
        field="first",
        params={"first": 1, "last": 2, "state": Term("voided")},
    )
    assert error.message == str(error) == error.localized() == "stamps 1..2 are voided"
    assert error.template == "stamps %(first)s..%(last)s are %(state)s"
    assert error.to_dict() == {"error": "invalid", "message": "stamps 1..2 are voided", "field": "first"}


def test_a_template_that_does_not_fit_its_params_falls_back_to_the_english_text(app: Any) -> None:
    error = NotFound("there is no batch %(batch)s", params={"id": 7})
    assert error.message == "there is no batch %(batch)s"
    with app.test_request_context("/?lang=vi"):
        assert error.localized() == "there is no batch %(batch)s"
