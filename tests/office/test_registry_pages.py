"""The registry in the browser and its CSV import: the foundation's validation, clear errors, audit."""

from __future__ import annotations

import io
from typing import Any

import pytest
from sqlalchemy import func, select

from traceability.audit.models import AuditEntry
from traceability.registry.models import Certification, MaterialArea, Producer, Product

pytestmark = pytest.mark.usefixtures("english")  # these tests read the English msgids

PRODUCER = {
    "code": "ct-htx02",
    "name": "Hợp tác xã Nông nghiệp Cà Mau",
    "short_name": "HTX Cà Mau",
    "type": "cooperative",
    "tax_code": "",
    "address": "Ấp 3",
    "commune": "Xã Tân Thành",
    "district": "",
    "province_code": "96",
    "province": "",
    "address_scheme": "2025",
    "address_as_of": "2025-08-01",
    "phone": "",
    "email": "",
}


@pytest.fixture
def admin(auth: Any) -> Any:
    user = auth.user("administrator")
    auth.login(user.email)
    return user


def test_create_and_edit_a_producer_with_audit(auth: Any, client: Any, session: Any, admin: Any) -> None:
    assert auth.post("/office/registry/producers/new", PRODUCER).status_code == 302
    producer = session.scalar(select(Producer))
    assert (producer.code, producer.province) == ("CT-HTX02", "Cà Mau")
    page = client.get("/office/registry/producers/CT-HTX02/edit").get_data(as_text=True)
    assert 'value="Hợp tác xã Nông nghiệp Cà Mau"' in page
    edited = {**PRODUCER, "code": "CT-HTX02", "phone": "0290 3831 234"}
    assert auth.post("/office/registry/producers/CT-HTX02/edit", edited).status_code == 302
    entries = session.scalars(select(AuditEntry).order_by(AuditEntry.id)).all()
    assert [e.action for e in entries if e.action.startswith("registry")] == [
        "registry.producer.create",
        "registry.producer.update",
    ]
    assert entries[-1].before["phone"] is None and entries[-1].after["phone"] == "0290 3831 234"
    assert entries[-1].actor == admin.label
    # Saving the same values again is not an edit.
    assert auth.post("/office/registry/producers/CT-HTX02/edit", edited).status_code == 302
    assert session.scalar(select(func.count(AuditEntry.id)).where(AuditEntry.action.startswith("registry"))) == 2


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"tax_code": "0123456788"}, "is not a valid tax code"),
        ({"province_code": "9"}, "2-digit official code"),
        ({"address_scheme": "2025", "district": "Huyện Cái Nước"}, "have no district"),
        ({"code": "a b"}, "is not a valid code"),
        ({"name": ""}, "This field is required"),
        ({"type": "corporation"}, "type must be one of"),
        ({"address_as_of": "yesterday"}, "Not a valid date value"),
        ({"province_code": "00", "province": ""}, "unknown province code 00"),
    ],
)
def test_producer_form_errors_are_clear_and_nothing_is_saved(
    auth: Any, session: Any, admin: Any, overrides: dict[str, str], message: str
) -> None:
    response = auth.post("/office/registry/producers/new", {**PRODUCER, **overrides})
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert session.scalar(select(func.count(Producer.id))) == 0


def test_a_new_record_never_overwrites_an_existing_code(auth: Any, session: Any, factory: Any, admin: Any) -> None:
    factory.producer("CT-HTX02", name="The original")
    response = auth.post("/office/registry/producers/new", PRODUCER)
    assert response.status_code == 422 and "exists already" in response.get_data(as_text=True)
    session.expire_all()
    assert session.scalar(select(Producer.name)) == "The original"


def test_products_areas_and_certifications(auth: Any, client: Any, session: Any, factory: Any, admin: Any) -> None:
    factory.producer("CT-HTX02")
    area = {
        "code": "ct-vung-01",
        "name": "Vùng tôm",
        "material": "tôm sú",
        "commune": "Xã Tân Thành",
        "province_code": "96",
        "address_scheme": "2025",
        "size_ha": "12.5",
        "latitude": "9.1",
        "longitude": "105.2",
        "certifications": "VietGAP; ASC",
        "producers": "CT-HTX02",
        "code_scope": "",
        "code_status": "",
    }
    assert auth.post("/office/registry/areas/new", area).status_code == 302
    bad_area = auth.post("/office/registry/areas/new", {**area, "code": "CT-VUNG-02", "latitude": "95"})
    assert bad_area.status_code == 422 and "latitude must be between -90 and 90" in bad_area.get_data(as_text=True)
    product = {
        "code": "ct-sp01",
        "name": "Tôm khô",
        "producer": "CT-HTX02",
        "product_set": "I.3.a",
        "gtin": "",
        "description": "",
        "areas": "CT-VUNG-01",
    }
    assert auth.post("/office/registry/products/new", product).status_code == 302
    bad_gtin = auth.post("/office/registry/products/new", {**product, "code": "CT-SP02", "gtin": "8930000000001"})
    assert bad_gtin.status_code == 422 and "not a valid GTIN" in bad_gtin.get_data(as_text=True)
    page = "/office/registry/products/CT-SP01"
    cert = {
        "stars": "4",
        "score": "75.5",
        "decision_number": "123/QĐ-UBND",
        "decision_date": "2025-09-01",
        "authority": "UBND tỉnh Cà Mau",
        "authority_level": "provincial",
        "application_type": "first",
    }
    low = auth.post(f"{page}/certifications", {**cert, "score": "60"}, form_page=page)
    assert low.status_code == 422 and "4 stars need a score of at least 70" in low.get_data(as_text=True)
    assert auth.post(f"{page}/certifications", cert, form_page=page).status_code == 302
    certification = session.scalar(select(Certification))
    assert certification.valid_until.isoformat() == "2028-08-31"
    assert '<td data-label="Điểm">75,50</td>' in client.get(page + "?lang=vi").get_data(as_text=True)
    response = auth.post(
        f"/office/registry/certifications/{certification.id}/status",
        {"status": "revoked", "reason": "misuse of the OCOP mark"},
        form_page=page,
    )
    assert response.status_code == 302
    actions = session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)).all()
    assert actions[-4:] == [
        "registry.area.create",
        "registry.product.create",
        "registry.certification.create",
        "registry.certification.status",
    ]
    assert session.scalar(select(Product).where(Product.code == "CT-SP01")).areas[0].code == "CT-VUNG-01"
    edit_page = client.get("/office/registry/areas/CT-VUNG-01/edit").get_data(as_text=True)
    assert 'value="12.5"' in edit_page and "VietGAP; ASC" in edit_page


PRODUCERS_CSV = '''code,name,type,commune,district,province_code,address_scheme,address_as_of,tax_code
NT-A,"Hợp tác xã A",cooperative,Xã Phước Dinh,Huyện Thuận Nam,58,pre2025,2024-03-01,
NT-B,"Hộ kinh doanh B, ""Nho""",household,Xã Nhơn Hải,Huyện Ninh Hải,58,pre2025,2024-03-01,
'''


def upload(auth: Any, kind: str, text: str | bytes) -> Any:
    data = text.encode("utf-8") if isinstance(text, str) else text
    return auth.post(
        "/office/registry/import",
        {"kind": kind, "file": (io.BytesIO(data), f"{kind}.csv")},
        content_type="multipart/form-data",
    )


def test_import_is_idempotent(auth: Any, session: Any, admin: Any) -> None:
    first = upload(auth, "producers", PRODUCERS_CSV)
    assert first.status_code == 200
    assert "2 created, 0 updated, 0 unchanged" in first.get_data(as_text=True)
    audit_count = session.scalar(select(func.count(AuditEntry.id)))
    again = upload(auth, "producers", "\ufeff" + PRODUCERS_CSV.replace("\n", "\r\n"))  # Excel's BOM and CRLF
    assert "0 created, 0 updated, 2 unchanged" in again.get_data(as_text=True)
    assert session.scalar(select(func.count(AuditEntry.id))) == audit_count
    assert session.scalar(select(Producer.name).where(Producer.code == "NT-B")) == 'Hộ kinh doanh B, "Nho"'
    changed = upload(auth, "producers", PRODUCERS_CSV.replace("Hợp tác xã A", "Hợp tác xã A mới"))
    assert "0 created, 1 updated, 1 unchanged" in changed.get_data(as_text=True)

    products = "code,name,producer,product_set,areas\nNT-SP9,Nho sấy,NT-A,I.3.a,\n"
    assert "1 created" in upload(auth, "products", products).get_data(as_text=True)
    certs = (
        "product,stars,score,decision_number,decision_date,authority,authority_level\n"
        "NT-SP9,3,55,77/QĐ-UBND,2025-08-01,UBND tỉnh Khánh Hòa,provincial\n"
    )
    assert "1 created" in upload(auth, "certifications", certs).get_data(as_text=True)
    assert "1 unchanged" in upload(auth, "certifications", certs).get_data(as_text=True)
    assert session.scalar(select(func.count(Certification.id))) == 1


def test_a_bad_row_is_reported_by_line_and_nothing_is_applied(auth: Any, session: Any, admin: Any) -> None:
    text = (
        PRODUCERS_CSV
        + 'NT-C,"Multi-line\nname",cooperative,Xã X,Huyện Y,58,pre2025,2024-03-01,\n'
        + "NT-D,Bad tax,enterprise,Xã X,Huyện Y,58,pre2025,2024-03-01,0123456788\n"
        + "NT-E,Bad date,farm,Xã X,Huyện Y,58,pre2025,01/03/2024,\n"
        + "NT-A,Duplicate,farm,Xã X,Huyện Y,58,pre2025,2024-03-01,\n"
    )
    response = upload(auth, "producers", text)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "Nothing was imported: 3 of 6 rows have errors" in page
    assert '<td class="number">6</td><td>&#39;0123456788&#39; is not a valid tax code' in page
    assert '<td class="number">7</td><td>address_as_of must be a date as YYYY-MM-DD' in page
    assert '<td class="number">8</td><td>code NT-A appears again (first on line 2)' in page
    assert session.scalar(select(func.count(Producer.id))) == 0
    assert session.scalar(select(func.count(AuditEntry.id)).where(AuditEntry.action.startswith("registry"))) == 0


@pytest.mark.parametrize(
    ("kind", "text", "message"),
    [
        ("producers", "code,name,colour\nA,B,red\n", "unknown columns colour"),
        ("producers", "code,name\nAB,B\n", "missing columns type, commune"),
        ("areas", "", "the file is empty"),
        ("producers", PRODUCERS_CSV.splitlines()[0] + "\n", "has a header but no rows"),
        ("producers", PRODUCERS_CSV.encode("utf-16"), "not UTF-8"),
        (
            "products",
            "code,name,producer,product_set\nSP1,X,NOBODY,I.3.a\n",
            '<td class="number">2</td><td>unknown producer',
        ),
        (
            "areas",
            "code,name,material,commune,province_code,address_scheme,size_ha\nA1,X,Y,Z,58,pre2025,-1\n",
            "size in hectares must be greater than 0",
        ),
        (
            "certifications",
            "product,stars,score,decision_number,decision_date,authority,authority_level\n"
            "NOPE,3,55,1/QĐ,2025-08-01,UBND,provincial\n",
            "unknown product",
        ),
        ("people", "code\nA\n", "choose what the file holds"),
        (
            "producers",
            "code,name,type,commune,province_code,address_scheme,address_as_of\nA,B,farm,X,58,2025,2025-08-01,extra\n",
            "the row has 8 cells but the header names 7",
        ),
    ],
)
def test_import_errors(auth: Any, session: Any, admin: Any, kind: str, text: str | bytes, message: str) -> None:
    response = upload(auth, kind, text)
    assert response.status_code == 422
    assert message in response.get_data(as_text=True).replace("&#39;", "'")
    assert session.scalar(select(func.count(Producer.id))) == 0
    assert session.scalar(select(func.count(MaterialArea.id))) == 0
