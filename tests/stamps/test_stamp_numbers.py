"""Stamp numbers typed by producers and inspectors: ASCII digits only, a clear message otherwise."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from traceability.errors import ValidationError
from traceability.stamps import batches
from traceability.stamps.batches import BatchOptions
from traceability.stamps.models import Batch, RangeState
from traceability.stamps.producer_batches import stamp_number, stamp_span

pytestmark = pytest.mark.usefixtures("english")

OTHER_DIGITS = ["²", "٣", "３", "۳", "३", "𝟑", "1²", "¹⁰", "٣٣", "①"]


def batch() -> Batch:
    return Batch(id=7, quantity=100, secret=b"s" * 32)


@pytest.mark.parametrize("text", OTHER_DIGITS)
def test_non_ascii_digits_are_refused_with_a_message(text: str) -> None:
    with pytest.raises(ValidationError) as raised:
        stamp_number(batch(), text, "first")
    assert raised.value.details["field"] == "first"
    assert "digits 0-9" in raised.value.message or "neither a stamp number" in raised.value.message


@pytest.mark.parametrize("text", ["²", "٣"])
def test_spans_refuse_them_too(text: str) -> None:
    """The office's range revocation reads spans through the same function."""
    with pytest.raises(ValidationError):
        stamp_span(batch(), "1", text)
    with pytest.raises(ValidationError):
        stamp_span(batch(), text, None)


def test_ascii_digits_still_read() -> None:
    assert stamp_number(batch(), " 42 ", "first") == 41
    assert stamp_span(batch(), "3", "9") == (2, 8)


def test_people_count_from_one_and_serials_carry_the_stored_number() -> None:
    """Stamp 1 is the first (stored 0), stamp 100 the last of 100; a serial's own number is the stored one."""
    from traceability.stamps import serials

    stamps = batch()
    assert stamp_number(stamps, "1", "first") == 0
    assert stamp_number(stamps, "100", "last") == 99
    for text in ("0", "101"):
        with pytest.raises(ValidationError, match="from 1 to 100"):
            stamp_number(stamps, text, "first")
    serial = serials.serial(7, 0, stamps.secret or b"")
    assert stamp_number(stamps, serial, "first") == 0


@pytest.mark.parametrize(("action", "value"), [("activate", "²"), ("activate", "٣"), ("void", "²"), ("void", "٣")])
def test_the_portal_answers_422_and_changes_nothing(
    auth: Any, session: Any, store: Any, signing_key: Any, producer_user: Any, action: str, value: str
) -> None:
    product = producer_user.producer.products[0]
    request = batches.new_request(session, product, 10, BatchOptions(), actor="p", maximum=100, today=date.today())
    issued = batches.issue(session, store, request, actor="admin", today=date.today())
    session.commit()
    page = f"/portal/batches/{issued.id}"
    form = {f"{action}-first": value, f"{action}-last": "", f"{action}-reason": "torn"}
    response = auth.post(f"{page}/{action}", form, prefix=action, form_page=page)
    assert response.status_code == 422
    assert "digits 0-9" in response.get_data(as_text=True)
    session.expire_all()
    assert [(r.start, r.end, r.state) for r in session.get(Batch, issued.id).ranges] == [(0, 10, RangeState.ISSUED)]
