"""The JSON API and published documents, checked against the OpenAPI document the app serves."""

from __future__ import annotations

from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from openapi_core import OpenAPI
from openapi_core.contrib.werkzeug import WerkzeugOpenAPIRequest, WerkzeugOpenAPIResponse
from sqlalchemy import select

from traceability.stamps import codec
from traceability.stamps.signing import sign_body
from traceability.verification.models import Channel, Scan

BASE = "https://ocop.example.vn"


@pytest.fixture
def api(client: Any) -> Any:
    """Return a getter that validates every request and response against the served OpenAPI document."""
    document = client.get("/api/v1/openapi.json", base_url=BASE)
    assert document.status_code == 200 and document.is_json
    spec = OpenAPI.from_dict(document.get_json())

    def get(path: str, **query: str) -> Any:
        response = client.get(path, query_string=query, base_url=BASE)
        spec.validate_response(WerkzeugOpenAPIRequest(response.request), WerkzeugOpenAPIResponse(response))
        return response

    return get


def test_genuine(api: Any, issued: Any, session: Any) -> None:
    response = api("/api/v1/verify", code=issued.url(0))
    body = response.get_json()
    assert (body["verdict"], body["flags"], body["checked_by"]) == ("genuine", ["genuine"], "signature")
    assert body["product"]["name"] == "Nho xanh Ninh Thuận"
    assert body["producer"]["province"] == "Ninh Thuận"
    assert body["producer"]["province_now"] == {"code": "56", "name": "Khánh Hòa"}
    assert body["material_areas"][0]["growing_area_code"] == "VN-58-587-23011-001-22"
    assert body["certification"]["stars"] == 4
    assert body["stamp"]["state"] == "activated" and body["stamp"]["lot"] == "L2026-07"
    assert body["scans"]["count"] == 1
    assert response.headers["Cache-Control"] == "no-store"
    assert session.scalars(select(Scan.channel)).all() == [Channel.API]
    session.commit()  # end the read (SQLite takes the write lock at BEGIN)
    # The bare token works as well as the URL.
    assert api("/api/v1/verify", code=issued.stamps()[0].token).get_json()["verdict"] == "genuine"


def test_not_genuine_codes_carry_no_registry_data(api: Any, issued: Any) -> None:
    body = codec.parse(issued.url(0)).body
    forged = api("/api/v1/verify", code=codec.stamp_url(BASE, sign_body(Ed25519PrivateKey.generate(), body)))
    assert forged.status_code == 200
    data = forged.get_json()
    assert data["verdict"] == "forged"
    assert not {"stamp", "product", "producer", "material_areas", "certification"} & data.keys()

    malformed = api("/api/v1/verify", code="https://ocop.example.vn/v/123").get_json()
    assert malformed["verdict"] == "malformed" and malformed["reasons"]["malformed"]

    inactive = api("/api/v1/verify", code=issued.url(15)).get_json()
    assert inactive["flags"] == ["not_activated"] and inactive["product"]["code"] == "NT-SP01"


def test_a_genuine_code_under_another_address_is_suspicious(api: Any, app: Any, issued: Any) -> None:
    token = issued.stamps()[0].token
    elsewhere = api("/api/v1/verify", code="https://evil.example/v/" + token).get_json()
    assert elsewhere["verdict"] == "suspicious" and elsewhere["flags"] == ["suspicious"]
    assert "points to evil.example, not the OCOP service" in elsewhere["reasons"]["suspicious"]
    assert elsewhere["product"]["code"] == "NT-SP01"  # the token itself is ours
    assert api("/api/v1/verify", code=token).get_json()["verdict"] == "genuine"  # a bare token has no address
    assert api("/api/v1/verify", code=issued.url(0)).get_json()["verdict"] == "genuine"
    # Stamps printed under a former address stay good once it is configured.
    former = issued.url(0, "https://ocop.gov.vn")
    assert api("/api/v1/verify", code=former).get_json()["verdict"] == "suspicious"
    app.config["STAMP_URL_PREFIXES"] = ["HTTPS://OCOP.gov.vn/"]
    assert api("/api/v1/verify", code=former).get_json()["verdict"] == "genuine"
    assert api("/api/v1/verify", code=issued.url(0)).get_json()["verdict"] == "genuine"


def test_a_batch_revocation_reason_stays_with_staff(api: Any, issued: Any, session: Any) -> None:
    from traceability.stamps import batches

    batches.revoke(session, issued.batch, actor="t", reason="Cửa hàng Minh Anh bán hàng giả")
    session.commit()
    body = api("/api/v1/verify", code=issued.url(0)).get_json()
    assert body["reasons"]["revoked"] == "the whole batch was withdrawn by the programme office"
    assert "Minh Anh" not in response_text(body)


def response_text(body: Any) -> str:
    import json

    return json.dumps(body, ensure_ascii=False)


def test_errors_are_json(api: Any, client: Any) -> None:
    missing = api("/api/v1/verify")
    assert missing.status_code == 422 and missing.is_json
    assert missing.get_json()["field"] == "code"
    unknown = client.get("/api/v1/nothing-here", headers={"Accept": "text/html"})
    assert unknown.status_code == 404 and unknown.is_json and unknown.get_json()["message"]


def test_keys_trust_list_and_revocations(api: Any, issued: Any, publication_key: Any) -> None:
    assert api("/.well-known/jwks.json").get_json()["keys"][0]["kid"] == "1"
    trust = api("/.well-known/ocop-trust-list.json").get_json()
    assert trust["payload"]["keys"][0]["status"] == "active"
    revocations = api("/api/v1/revocations").get_json()
    assert revocations["payload"]["type"] == "ocop-revocations"


def test_openapi_document_names_every_api_route(app: Any) -> None:
    import json
    from importlib import resources

    document = json.loads(resources.files("traceability.verification").joinpath("openapi.json").read_text())
    routes = {r.rule for r in app.url_map.iter_rules() if r.rule.startswith(("/api/", "/.well-known/"))}
    routes = {
        r for r in routes if r.startswith(("/api/v1/verify", "/api/v1/revocations", "/api/v1/openapi", "/.well-known"))
    }
    assert routes <= document["paths"].keys()
