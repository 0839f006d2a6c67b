"""The producer portal and the programme office speak Vietnamese by default, English with ?lang=en."""

from __future__ import annotations

from typing import Any

import pytest


@pytest.fixture
def administrator(auth: Any) -> Any:
    user = auth.user("administrator")
    auth.login(user.email)
    return user


def page(client: Any, path: str) -> str:
    response = client.get(path)
    assert response.status_code == 200, path
    return str(response.get_data(as_text=True))


DASHBOARD_VI = ("Sản phẩm và lô tem của tôi", "Yêu cầu cấp tem", "Hạng sao", "Chưa có lô tem nào.", "Đăng xuất")
DASHBOARD_EN = ("My products and batches", "Request stamps", "Stars", "No batches yet.", "Log out")
QUEUE_VI = (
    "Yêu cầu chờ duyệt",
    "Nhật ký thao tác",
    "Thống kê lượt quét",
    "Không có yêu cầu cấp tem nào đang chờ duyệt.",
)
QUEUE_EN = ("Review queue", "Audit log", "Scan analytics", "No request is waiting for a decision.")


def test_the_producer_dashboard_is_vietnamese_by_default(client: Any, producer_user: Any) -> None:
    html = page(client, "/portal/")
    assert '<html lang="vi">' in html
    assert all(text in html for text in DASHBOARD_VI), [t for t in DASHBOARD_VI if t not in html]
    assert not [text for text in DASHBOARD_EN if text in html]


def test_the_producer_dashboard_is_english_on_request(client: Any, producer_user: Any) -> None:
    html = page(client, "/portal/?lang=en")
    assert '<html lang="en">' in html
    assert all(text in html for text in DASHBOARD_EN)
    assert not [text for text in DASHBOARD_VI if text in html]
    assert "Request stamps" in page(client, "/portal/batches/new")  # the switch is remembered


def test_the_office_queue_is_vietnamese_by_default_and_english_on_request(client: Any, administrator: Any) -> None:
    html = page(client, "/office/")
    assert all(text in html for text in QUEUE_VI), [t for t in QUEUE_VI if t not in html]
    assert not [text for text in QUEUE_EN if text in html]
    html = page(client, "/office/?lang=en")
    assert all(text in html for text in QUEUE_EN)
    assert not [text for text in QUEUE_VI if text in html]


def test_form_messages_and_stored_values_are_vietnamese(auth: Any, client: Any, producer_user: Any) -> None:
    """WTForms' own messages, enum values and layout names go through the catalog too."""
    response = auth.post("/portal/batches/new", {"product": "1", "quantity": "", "layout": "a4-30mm"})
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Vui lòng nhập mục này." in html and "This field is required." not in html
    assert "Tờ A4, 48 tem cỡ 30 mm" in html  # the layout choices
    auth.logout()
    auth.login(auth.user("administrator").email)
    html = page(client, "/office/users")
    assert "quản trị viên (văn phòng Chương trình OCOP)" in html and "chủ thể sản xuất" in html
    assert ">administrator<" not in html and ">producer<" not in html
    html = page(client, "/office/registry/")
    assert "Hợp tác xã" in html and ">cooperative<" not in html


def test_templates_follow_a_locale_switched_within_one_request(app: Any) -> None:
    """Templates find the catalog once per request (web._page_translations); force_locale still switches it."""
    from flask import render_template_string
    from flask_babel import force_locale

    with app.test_request_context("/?lang=vi"):
        assert render_template_string("{{ _('Log out') }}") == "Đăng xuất"
        with force_locale("en"):
            assert render_template_string("{{ _('Log out') }}") == "Log out"
        assert render_template_string("{{ _('Log out') }}") == "Đăng xuất"
