"""Domain errors reach people in their language: Vietnamese by default, English on request."""

from __future__ import annotations

import ast
import importlib
import pkgutil
from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest
from babel.messages.pofile import read_po

from traceability.config import PROJECT_ROOT
from traceability.errors import DomainError, NotFound, Term, ValidationError
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
        ("", "tem 56..56 đã hủy, không thể chuyển sang đã kích hoạt"),
        ("?lang=en", "stamps 56..56 are voided and cannot become activated"),
    ],
)
def test_activating_a_voided_stamp_explains_why_in_the_producers_language(
    auth: Any, session: Any, store: Any, signing_key: Any, producer_user: Any, query: str, message: str
) -> None:
    batch = issued_with_a_void(session, store, producer_user.producer.products[0])
    page = f"/portal/batches/{batch.id}"
    response = auth.post(f"{page}/activate{query}", {"activate-first": "56"}, prefix="activate", form_page=page)
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


# --- Every message a person can read from a domain error is in both catalogs (found statically). ---

PACKAGE = PROJECT_ROOT / "traceability"
CATALOGS = PACKAGE / "translations"


def _user_facing_errors() -> set[str]:
    """Return the names of DomainError and its subclasses whose message a person reads (all modules imported).

    Server-side faults (status 500 and up: a missing key file, a broken setting) are for the operator's log
    and the command line: the error handler shows people a fixed sentence instead of their message.
    """
    import traceability

    for module in pkgutil.walk_packages(traceability.__path__, "traceability."):
        importlib.import_module(module.name)
    names, todo = set(), [DomainError]
    while todo:
        cls = todo.pop()
        if cls.status < 500:
            names.add(cls.__name__)
        todo.extend(cls.__subclasses__())
    return names


def _callee(call: ast.Call) -> str | None:
    if isinstance(call.func, ast.Name):
        return call.func.id
    if isinstance(call.func, ast.Attribute):
        return call.func.attr
    return None


def _text(node: ast.expr) -> str | None:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


def _calls() -> Iterator[tuple[str, ast.Call]]:
    for path in sorted(PACKAGE.rglob("*.py")):
        where = str(path.relative_to(PROJECT_ROOT))
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), where)):
            if isinstance(node, ast.Call):
                yield f"{where}:{node.lineno}", node


def user_facing_msgids() -> dict[object, str]:
    """Return every N_/Nn_ msgid, Term constant and user-facing DomainError message, with where it is."""
    errors = _user_facing_errors()
    found: dict[object, str] = {}
    for where, call in _calls():
        name, args = _callee(call), call.args
        if name == "Nn_" and len(args) == 2 and _text(args[0]) and _text(args[1]):
            found.setdefault((_text(args[0]), _text(args[1])), where)
        elif name in ("N_", "Term") or (name in errors and args):
            text = _text(args[0]) if args else None
            if text:
                found.setdefault(text, where)
    return found


def built_messages() -> list[str]:
    """Return where a user-facing DomainError's message is built when raised (f-string, %, format, +, gettext)."""
    errors = _user_facing_errors()
    built = []
    for where, call in _calls():
        if _callee(call) not in errors or not call.args:
            continue
        first = call.args[0]
        formatted = isinstance(first, ast.JoinedStr | ast.BinOp)
        called = isinstance(first, ast.Call) and _callee(first) in (
            "format",
            "_",
            "gettext",
            "ngettext",
            "lazy_gettext",
        )
        if formatted or called:
            built.append(where)
    return built


def read_catalog(locale: str) -> dict[object, object]:
    with open(CATALOGS / locale / "LC_MESSAGES" / "messages.po", "rb") as handle:
        return {tuple(m.id) if isinstance(m.id, list | tuple) else m.id: m.string for m in read_po(handle) if m.id}


def _translated(value: object) -> bool:
    return all(value) if isinstance(value, list | tuple) else bool(value)


def test_the_scan_finds_the_messages_it_should() -> None:
    found = user_facing_msgids()
    assert "no product has the code '%(code)s'" in found  # N_ in a raise
    assert "recognized" in found  # a Term's msgid
    assert "Log in to see this page." in found
    assert len(found) > 200


@pytest.mark.parametrize("locale", ["vi", "en"])
def test_every_user_facing_message_is_in_the_catalog(locale: str) -> None:
    catalog = read_catalog(locale)
    missing = {
        msgid: where
        for msgid, where in user_facing_msgids().items()
        if msgid not in catalog or not _translated(catalog[msgid])
    }
    assert not missing, (
        f"add these to {locale}/messages.po (append; see traceability/translations/README.md), "
        f"then run pybabel compile: {missing}"
    )


def test_no_domain_error_message_is_built_when_raised() -> None:
    """Messages are N_ msgids with params, so that they can be translated where they are shown."""
    assert not built_messages(), "use N_('... %(name)s ...') and params={...} instead"
