"""Fields a person must fill say so: the reason to void or revoke stamps is marked required (issue 11)."""

from __future__ import annotations

from typing import Any

from traceability.stamps.forms import ReasonedRangeForm, StampRangeForm


def test_the_reason_to_void_or_revoke_is_marked_required_and_activating_asks_none(app: Any) -> None:
    with app.test_request_context():
        reasoned = ReasonedRangeForm(prefix="void", meta={"csrf": False})
        assert reasoned.reason.flags.required and " required" in str(reasoned.reason())
        assert not StampRangeForm(prefix="activate", meta={"csrf": False}).reason.flags.required


def test_an_empty_reason_still_gets_the_services_sentence(app: Any) -> None:
    """The mark changes the label, not the check: the form itself lets an empty reason through to the service."""
    with app.test_request_context(method="POST", data={"void-first": "1", "void-reason": ""}):
        form = ReasonedRangeForm(prefix="void", meta={"csrf": False})
        assert form.validate(), form.errors
