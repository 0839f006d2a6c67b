"""The API answers as its OpenAPI document says: schemathesis generates requests from the document.

Both ways: requests valid under the document must not be refused (4xx), and invalid ones must be.
"""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

import pytest
import schemathesis
from flask import Flask
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode

EXAMPLES = 15  # per operation and mode: bounded and derandomized, so the suite stays fast and repeatable
DOCUMENT = json.loads(resources.files("traceability.verification").joinpath("openapi.json").read_text("utf-8"))
OPERATIONS = [(path, method.upper()) for path, item in DOCUMENT["paths"].items() for method in item]


@pytest.fixture
def api(app: Flask, session: Any, signing_key: Any, publication_key: Any) -> Any:
    session.commit()  # the app's requests write scans: the test's own transaction must not hold the lock
    return schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)


def run(operation: Any, mode: GenerationMode) -> None:
    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
    )
    def check(case: Any) -> None:
        case.call_and_validate()

    check()


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
@pytest.mark.parametrize(("path", "method"), OPERATIONS, ids=[f"{m} {p}" for p, m in OPERATIONS])
def test_every_operation_answers_as_documented(api: Any, path: str, method: str, mode: GenerationMode) -> None:
    try:
        run(api[path][method], mode)
    except Unsatisfiable:
        # No parameters: no request can break the document, so there is nothing negative to send.
        assert mode is GenerationMode.NEGATIVE


@pytest.mark.parametrize(
    ("code", "status"),
    [
        ("\x1c", 200),  # valid under the document (one character): a verdict, `malformed`
        ("\x1c\x1d\x1e\x1f", 200),
        ("\u00a0", 200),
        ("x" * 4096, 200),
        ("x" * 4097, 422),  # beyond maxLength: refused, as the document says
        ("https://ocop.example.vn/v/" + "1" * 5000, 422),
        (" ", 422),  # only spaces: the document's pattern asks for one other character
        ("\t\n", 422),
    ],
)
def test_the_verify_edge_cases_agree_with_the_document(api: Any, code: str, status: int) -> None:
    operation = api["/api/v1/verify"]["GET"]
    case = operation.Case(query={"code": code})
    response = case.call()
    assert response.status_code == status, response.text
    case.validate_response(response)
