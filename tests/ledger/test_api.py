"""The public ledger API, checked against the served OpenAPI document; its proofs verify with ledger.merkle."""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import Any

import pytest
from openapi_core import OpenAPI
from openapi_core.contrib.werkzeug import WerkzeugOpenAPIRequest, WerkzeugOpenAPIResponse

from tests.ledger.conftest import ORIGIN
from traceability.ledger.checkpoint import open_checkpoint, parse_verifier_key
from traceability.ledger.entries import decode_entry
from traceability.ledger.merkle import leaf_hash, verify_consistency, verify_inclusion
from traceability.stamps import batches
from traceability.stamps.models import Batch

BASE = "https://ocop.example.vn"


@pytest.fixture
def api(client: Any) -> Any:
    """Return a getter that validates every response against the served OpenAPI document."""
    spec = OpenAPI.from_dict(client.get("/api/v1/openapi.json", base_url=BASE).get_json())

    def get(path: str, **query: Any) -> Any:
        response = client.get(path, query_string=query, base_url=BASE)
        spec.validate_response(WerkzeugOpenAPIRequest(response.request), WerkzeugOpenAPIResponse(response))
        return response

    return get


@pytest.fixture
def ledger(issue: Callable[..., Batch]) -> list[Batch]:
    """Return five batches issued one after another: entries 0..4."""
    return [issue(quantity) for quantity in (3, 4, 5, 6, 7)]


def _decode(path: list[str]) -> list[bytes]:
    return [base64.b64decode(node) for node in path]


def test_checkpoint_key_entries_and_proofs_agree(api: Any, ledger: list[Batch]) -> None:
    key_response = api("/api/v1/ledger/key")
    assert key_response.content_type == "text/plain; charset=utf-8"
    keys = [parse_verifier_key(line) for line in key_response.get_data(as_text=True).split()]
    checkpoint_response = api("/api/v1/ledger/checkpoint")
    assert checkpoint_response.content_type == "text/plain; charset=utf-8"
    checkpoint = open_checkpoint(checkpoint_response.get_data(as_text=True), keys, origin=ORIGIN)
    assert checkpoint.size == 5

    page = api("/api/v1/ledger/entries", start=0, end=5).get_json()
    assert [item["index"] for item in page["entries"]] == [0, 1, 2, 3, 4] and page["tree_size"] == 5
    for item, batch in zip(page["entries"], ledger, strict=True):
        entry = decode_entry(base64.b64decode(item["entry"]))
        assert item["fields"] == entry.as_dict() and entry.batch_id == batch.id
    leaves = [leaf_hash(base64.b64decode(item["entry"])) for item in page["entries"]]
    assert api("/api/v1/ledger/entries", start=3).get_json()["end"] == 5  # end defaults to the ledger's end

    for index, batch in enumerate(ledger):
        proof = api("/api/v1/ledger/proof/inclusion", batch=batch.id).get_json()
        assert (proof["leaf_index"], proof["tree_size"]) == (index, 5)
        verify_inclusion(leaves[index], index, 5, _decode(proof["audit_path"]), checkpoint.root_hash)

    older = api("/api/v1/ledger/proof/inclusion", batch=ledger[1].id, size=3).get_json()
    assert older["tree_size"] == 3
    from traceability.ledger.merkle import root_hash

    verify_inclusion(leaves[1], 1, 3, _decode(older["audit_path"]), root_hash(leaves[:3]))
    for first in range(6):
        path = api("/api/v1/ledger/proof/consistency", first=first, second=5).get_json()["consistency_path"]
        verify_consistency(first, 5, root_hash(leaves[:first]), checkpoint.root_hash, _decode(path))
    assert api("/api/v1/ledger/proof/consistency", first=2).get_json()["second"] == 5


@pytest.mark.parametrize(
    ("path", "query", "status"),
    [
        ("/api/v1/ledger/entries", {}, 422),
        ("/api/v1/ledger/entries", {"start": "x"}, 422),
        ("/api/v1/ledger/entries", {"start": "-1"}, 422),
        ("/api/v1/ledger/entries", {"start": str(2**63)}, 422),
        ("/api/v1/ledger/entries", {"start": "٣"}, 422),  # a digit, but not an ASCII one
        ("/api/v1/ledger/entries", {"start": "5"}, 404),  # past the end: nothing there yet
        ("/api/v1/ledger/entries", {"start": "3", "end": "3"}, 404),
        ("/api/v1/ledger/entries", {"start": "4", "end": "2"}, 404),
        ("/api/v1/ledger/proof/inclusion", {"batch": "abc"}, 422),
        ("/api/v1/ledger/proof/inclusion", {"batch": str(2**64)}, 422),
        ("/api/v1/ledger/proof/inclusion", {"batch": str(2**63 - 1)}, 404),
        ("/api/v1/ledger/proof/inclusion", {"batch": "BATCH", "size": "6"}, 404),
        ("/api/v1/ledger/proof/inclusion", {"batch": "BATCH", "size": "0"}, 404),
        ("/api/v1/ledger/proof/consistency", {"first": "3", "second": "2"}, 404),
        ("/api/v1/ledger/proof/consistency", {"first": "1", "second": "99"}, 404),
        ("/api/v1/ledger/proof/consistency", {"first": "1", "second": "1e3"}, 422),
    ],
)
def test_bad_parameters_are_a_clear_4xx(
    api: Any, ledger: list[Batch], path: str, query: dict[str, str], status: int
) -> None:
    query = {name: str(ledger[-1].id) if value == "BATCH" else value for name, value in query.items()}
    response = api(path, **query)
    assert response.status_code == status and response.is_json and response.get_json()["message"]


def test_unknown_batch_and_empty_ledger_are_404(api: Any, signing_key: Any) -> None:
    assert api("/api/v1/ledger/checkpoint").get_json()["error"] == "ledger_empty"
    assert api("/api/v1/ledger/proof/inclusion", batch=12345).get_json()["error"] == "ledger_entry_not_found"
    assert api("/api/v1/ledger/proof/inclusion", batch=0).status_code == 404
    assert api("/api/v1/ledger/entries", start=0, end=1).get_json()["error"] == "ledger_range_not_found"


def test_a_page_holds_at_most_max_span_entries(api: Any, ledger: list[Batch], monkeypatch: pytest.MonkeyPatch) -> None:
    from traceability.ledger import services

    monkeypatch.setattr(services, "MAX_SPAN", 2)
    page = api("/api/v1/ledger/entries", start=1, end=5).get_json()
    assert ([e["index"] for e in page["entries"]], page["end"]) == ([1, 2], 3)  # go on from end
    assert api("/api/v1/ledger/entries", start=4, end=99).get_json()["end"] == 5  # stops at the ledger's end


def test_the_stamp_page_and_api_name_the_ledger_entry(api: Any, client: Any, store: Any, ledger: list[Batch]) -> None:
    batch = ledger[2]
    stamp = next(batches.stamps(batch, store.load(batch.key_id), BASE, 0, 1))
    body = api("/api/v1/verify", code=stamp.url).get_json()
    assert body["ledger"] == {"index": 2, "tree_size": 5, "checkpoint_url": "/api/v1/ledger/checkpoint"}
    html = client.get("/v/" + stamp.token, base_url=BASE, headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "Ledger entry #2" in html and "/api/v1/ledger/entries?start=2&amp;end=3" in html
    vietnamese = client.get("/v/" + stamp.token, base_url=BASE, headers={"Accept-Language": "vi"})
    assert "Mục sổ cái số 2" in vietnamese.get_data(as_text=True)


def test_trust_list_and_revocation_bundle_carry_the_ledger(api: Any, ledger: list[Batch]) -> None:
    trust = api("/.well-known/ocop-trust-list.json").get_json()["payload"]["ledger"]
    keys = [parse_verifier_key(line) for line in trust["verifier_keys"]]
    assert trust["origin"] == ORIGIN and len(keys) == 1
    assert api("/api/v1/ledger/key").get_data(as_text=True) == "".join(f"{k}\n" for k in trust["verifier_keys"])
    exported = api("/api/v1/revocations").get_json()["payload"]["ledger"]
    assert exported["format"] == "ocop-ledger-export/v1" and len(exported["entries"]) == 5
    assert open_checkpoint(exported["checkpoint"], keys, origin=ORIGIN).size == 5
