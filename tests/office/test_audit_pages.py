"""The audit log for people: sentences, what changed, filters, pages, and a CSV export a spreadsheet opens safely."""

from __future__ import annotations

import ast
import csv
import io
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, text, update

from tests.office.analytics_support import Stamped
from traceability.audit import export as audit_export
from traceability.audit import sentences
from traceability.audit import services as audit
from traceability.audit.models import AuditEntry
from traceability.stamps import batches

pytestmark = pytest.mark.usefixtures("english")

PACKAGE = Path(__file__).resolve().parents[2] / "traceability"


def office(auth: Any, role: str = "inspector", email: str | None = None) -> Any:
    user = auth.user(role, email=email)
    assert auth.login(user.email).status_code == 302
    return user


def rows_of(html: str) -> list[str]:
    """Return the text of each row of the log's table."""
    body = html[html.index("<tbody>") : html.index("</tbody>")]
    return [re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", row)).strip() for row in re.split(r"<tr[ >]", body)[1:]]


def at(session: Any, entry_id: int, when: datetime) -> None:
    session.execute(update(AuditEntry).where(AuditEntry.id == entry_id).values(at=when))


# --- Sentences and changes ------------------------------------------------------------------------------


def test_an_entry_reads_as_a_sentence_with_what_changed(auth: Any, client: Any, session: Any, stamped: Stamped) -> None:
    batches.revoke(session, stamped.batch, actor="user:lan@ocop.vn", reason="UX test: lô bị thu hồi")
    session.commit()
    office(auth)
    html = client.get(f"/office/audit?kind=batch&record={stamped.batch.id}&action=batch.revoke").get_data(as_text=True)
    [row] = rows_of(html)
    assert f"lan@ocop.vn revoked batch {stamped.batch.id} (Nho xanh Ninh Thuận, 30 stamps)." in row
    assert "Status issued → revoked" in row and "Revoked because — → UX test: lô bị thu hồi" in row
    assert "\\u" not in html and "{&#34;" not in html and '{"' not in html  # no JSON, no escapes


def test_rows_written_before_the_fix_read_correctly_too(auth: Any, client: Any, session: Any) -> None:
    """Older rows hold JSON with \\u escapes (ensure_ascii): the page shows the letters."""
    stored = '{"revocation_reason": "UX test: l\\u00f4 b\\u1ecb thu h\\u1ed3i", "status": "revoked"}'
    session.execute(
        text(
            "INSERT INTO audit_log (at, actor, action, target, before, after) "
            "VALUES (:at, 'user:an@ocop.vn', 'batch.revoke', 'batch:12', :before, :after)"
        ),
        {"at": datetime(2026, 3, 1, 2, 0, tzinfo=UTC), "before": '{"status": "issued"}', "after": stored},
    )
    session.commit()
    office(auth)
    [row] = rows_of(client.get("/office/audit?action=batch.revoke").get_data(as_text=True))
    assert "an@ocop.vn revoked batch 12" in row and "UX test: lô bị thu hồi" in row


def test_new_entries_are_stored_as_letters(session: Any) -> None:
    entry = audit.record(session, "user:a", "batch.revoke", "batch:1", after={"reason": "lô bị thu hồi"})
    session.commit()
    raw = session.execute(text("SELECT after FROM audit_log WHERE id = :id"), {"id": entry.id}).scalar_one()
    assert (raw if isinstance(raw, dict) else __import__("json").loads(raw)) == {"reason": "lô bị thu hồi"}


def test_a_vietnamese_reader_gets_vietnamese_sentences(auth: Any, client: Any, session: Any, stamped: Stamped) -> None:
    batches.revoke(session, stamped.batch, actor="user:lan@ocop.vn", reason="hàng giả")
    session.commit()
    office(auth)
    html = client.get("/office/audit?action=batch.revoke&lang=vi").get_data(as_text=True)
    assert f"lan@ocop.vn đã thu hồi lô tem {stamped.batch.id} (Nho xanh Ninh Thuận, 30 tem)." in html


@pytest.mark.parametrize(
    ("actor", "said"),
    [("user:lan@ocop.vn", "lan@ocop.vn"), ("cli:root", "root (command line)"), ("system", "The system")],
)
def test_who_acted(auth: Any, client: Any, session: Any, actor: str, said: str) -> None:
    audit.record(session, actor, "user.lock", "user:7", after={"email": "ba@htx.vn", "locked_until": "2026-03-01"})
    session.commit()
    office(auth)
    rows = rows_of(client.get("/office/audit?action=user.lock").get_data(as_text=True))
    assert f"{said} locked the account ba@htx.vn after repeated wrong passwords." in rows[0]


def recorded_action_codes() -> set[str]:
    """Return every action code the services record: literals, RANGE_ACTIONS, and registry.<kind>.<verb>."""
    codes: set[str] = set()
    registry_kinds: set[str] = set()
    for path in PACKAGE.rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Call):
                name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
                action = node.args[2] if len(node.args) > 2 else None
                if name in ("record", "_audit") and isinstance(action, ast.Constant) and isinstance(action.value, str):
                    codes.add(action.value)
                if name == "_Editable" and node.args and isinstance(node.args[0], ast.Constant):
                    registry_kinds.add(str(node.args[0].value))
            if isinstance(node, ast.Assign | ast.AnnAssign):
                target = node.targets[0] if isinstance(node, ast.Assign) else node.target
                if getattr(target, "id", "") == "RANGE_ACTIONS" and isinstance(node.value, ast.Dict):
                    codes.update(str(v.value) for v in node.value.values if isinstance(v, ast.Constant))
    codes.update(f"registry.{kind}.{verb}" for kind in registry_kinds for verb in ("create", "update"))
    return {code for code in codes if "." in code}


def test_every_recorded_action_has_a_sentence_and_a_name() -> None:
    codes = recorded_action_codes()
    assert {"batch.revoke", "batch.void", "registry.product.update", "user.lock", "audit.export"} <= codes
    assert not codes - sentences.SENTENCES.keys(), "add these to audit/sentences.py SENTENCES and NAMES"
    assert sentences.SENTENCES.keys() == sentences.NAMES.keys()


@pytest.mark.parametrize(
    ("value", "field", "written"),
    [
        (None, None, ""),
        (True, None, "✓"),
        ([[0, 300, "issued"]], "ranges", "1–300 ISSUED"),  # people count stamps from 1
        ([[0, 10, "activated"], [10, 30, "issued"]], "ranges", "1–10 ACTIVATED; 11–30 ISSUED"),
        ([[4, 5, "voided"]], "ranges", "5 VOIDED"),
        ([0, 20], "span", "1–20"),
        (["VietGAP", "hữu cơ"], "certifications", "VietGAP; hữu cơ"),
        ({"stars": 4, "score": None}, None, "stars: 4"),
        ({"status": "issued", "lot": "issued"}, None, "status: ISSUED, lot: issued"),
        ("lô bị thu hồi", "reason", "lô bị thu hồi"),
        ("revoked", "status", "REVOKED"),
        ("inspector", "role", "INSPECTOR"),
        ("issued", "lot", "issued"),  # only states, statuses and roles are words to translate
    ],
)
def test_values_are_written_for_reading(value: Any, field: str | None, written: str) -> None:
    assert sentences.text(value, str.upper, field) == written


def test_a_vietnamese_reader_reads_states_roles_and_records_in_vietnamese(
    auth: Any, client: Any, session: Any, stamped: Stamped
) -> None:
    batches.revoke(session, stamped.batch, actor="user:lan@ocop.vn", reason="hàng giả")
    audit.record(session, "user:lan@ocop.vn", "user.create", "user:9", after={"email": "a@b.vn", "role": "inspector"})
    audit.record(session, "user:lan@ocop.vn", "batch.activate", "batch:1", after={"span": [0, 20]})
    audit.record(
        session,
        "user:lan@ocop.vn",
        "batch.approve",
        "batch:1",
        before={"status": "requested"},
        after={"status": "issued"},
    )
    session.commit()
    office(auth)
    html = client.get("/office/audit?lang=vi").get_data(as_text=True)
    rows = rows_of(html)
    revoked = next(row for row in rows if "đã thu hồi lô tem" in row)
    assert "đã cấp → đã thu hồi" in revoked, revoked
    assert f"Lịch sử của lô tem {stamped.batch.id}" in revoked and "batch:" not in revoked
    created = next(row for row in rows if "a@b.vn" in row)
    assert "cán bộ kiểm tra" in created and "inspector" not in created, created
    approved = next(row for row in rows if "đã duyệt lô tem 1" in row)
    assert "chờ duyệt → đã cấp" in approved, approved
    # The state's name on every batch page (labels.STATE_LABELS), not a second wording of it.
    assert '<span class="before">chờ duyệt</span>' in html
    activated = next(row for row in rows if "kích hoạt" in row)
    assert "(từ 1 đến 20)" in activated, activated
    shown = re.sub(r'data-action="[^"]*"', "", html[html.index("<tbody>") :])
    assert not re.search(r"\b(batch|user)\.[a-z_]+\b", shown)  # no raw action codes in what people read


# --- Filters and pages ----------------------------------------------------------------------------------


@pytest.fixture
def history(session: Any) -> list[AuditEntry]:
    """Three entries by two people on three days (Vietnam time), on two batches and a user."""
    made = [
        audit.record(session, "user:lan@ocop.vn", "batch.approve", "batch:1", after={"quantity": 5, "product": "A"}),
        audit.record(session, "user:minh@ocop.vn", "batch.revoke", "batch:2", after={"quantity": 9, "product": "B"}),
        audit.record(session, "user:lan@ocop.vn", "user.disable", "user:3", after={"email": "x@htx.vn"}),
    ]
    session.flush()
    # 17:30 UTC on 1 March is 00:30 on 2 March in Vietnam: the day boundary is Vietnam's.
    for entry, when in zip(
        made,
        (
            datetime(2026, 3, 1, 17, 30, tzinfo=UTC),
            datetime(2026, 3, 2, 3, 0, tzinfo=UTC),
            datetime(2026, 3, 3, 3, 0, tzinfo=UTC),
        ),
        strict=True,
    ):
        at(session, entry.id, when)
    session.commit()
    return made


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("", ["user.disable", "batch.revoke", "batch.approve"]),
        ("person=LAN", ["user.disable", "batch.approve"]),
        ("action=batch.revoke", ["batch.revoke"]),
        ("kind=batch", ["batch.revoke", "batch.approve"]),
        ("kind=batch&record=1", ["batch.approve"]),
        ("target=batch:2", ["batch.revoke"]),  # the links of earlier versions
        ("since=2026-03-02", ["user.disable", "batch.revoke", "batch.approve"]),
        ("since=2026-03-03", ["user.disable"]),
        ("until=2026-03-01", []),  # 17:30 UTC on 1 March is already 2 March in Vietnam
        ("since=2026-03-02&until=2026-03-02", ["batch.revoke", "batch.approve"]),
        ("person=lan&kind=user", ["user.disable"]),
        ("person=100%", []),  # % is a letter, not a wildcard
    ],
)
def test_filters(auth: Any, client: Any, history: list[AuditEntry], query: str, expected: list[str]) -> None:
    office(auth, email="reader@ocop.vn")  # creating the reader is itself logged (actor "test"): filter it out
    html = client.get(f"/office/audit?{query}").get_data(as_text=True)
    found = re.findall(r'<tr data-action="([a-z_.]+)">', html[html.index("<tbody>") :])
    assert [code for code in found if code != "user.create"] == expected


@pytest.mark.parametrize(
    ("query", "field", "message"),
    [
        ("since=01/03/2026", "since", "Not a valid date value."),
        ("since=2026-03-05&until=2026-03-01", "until", "The end date is before the start date."),
        ("record=12", "kind", "Choose the kind of record the number or code belongs to."),
        ("action=batch.explode", "action", "Not a valid choice."),
    ],
)
def test_bad_filters_are_explained_at_the_top(
    auth: Any, client: Any, history: list[AuditEntry], query: str, field: str, message: str
) -> None:
    office(auth)
    response = client.get(f"/office/audit?{query}")
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    summary = html[html.index('class="error-summary"') : html.index("</div>", html.index('class="error-summary"'))]
    assert f'<a href="#{field}">' in summary and message in summary
    assert "<tbody>" not in html  # no rows under filters that were not understood
    value = dict(item.split("=") for item in query.split("&"))[field] if field in query else None
    if value and field != "action":
        assert f'value="{value}"' in html  # what was typed stays in the field


def test_pages_of_fifty(auth: Any, client: Any, session: Any) -> None:
    for n in range(60):
        audit.record(session, "user:bot@ocop.vn", "batch.download", f"batch:{n}", after={"format": "pdf"})
    session.commit()
    office(auth)
    first = client.get("/office/audit?action=batch.download").get_data(as_text=True)
    assert len(rows_of(first)) == 50 and "60 entries match." in first and "Page 1 of 2" in first
    assert 'href="/office/audit?page=2&amp;action=batch.download"' in first or "page=2" in first
    second = client.get("/office/audit?action=batch.download&page=2").get_data(as_text=True)
    assert len(rows_of(second)) == 10 and "downloaded the print files of batch 0." in second
    assert len(rows_of(client.get("/office/audit?action=batch.download&page=99").get_data(as_text=True))) == 10


# --- CSV export -----------------------------------------------------------------------------------------


def test_the_export_is_the_filtered_rows_in_utf8_with_a_mark(
    auth: Any, client: Any, session: Any, history: list[AuditEntry]
) -> None:
    reader = office(auth)
    with client.get("/office/audit.csv?person=lan") as response:  # a stream: closing it ends its request
        body = response.get_data()
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert response.headers["Content-Disposition"].startswith('attachment; filename="ocop-audit-')
    assert response.headers["Cache-Control"] == "no-store"
    assert body.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    assert rows[0] == ["When", "Who", "Action code", "What happened", "Record", "Changes", "Before", "After"]
    assert [r[2] for r in rows[1:]] == ["user.disable", "batch.approve"]
    assert rows[2][0] == "2026-03-02T00:30:00+07:00" and rows[2][3] == "lan@ocop.vn approved batch 1 (A, 5 stamps)."
    assert rows[2][7] == '{"product": "A", "quantity": 5}'
    exported = session.scalar(select(AuditEntry).where(AuditEntry.action == "audit.export"))
    assert exported.actor == reader.label and exported.after == {"filters": {"person": "lan"}, "rows": 2}


def test_the_export_keeps_vietnamese_and_defuses_formulas(auth: Any, client: Any, session: Any) -> None:
    audit.record(session, '=HYPERLINK("http://evil")', "batch.revoke", "batch:4", after={"revocation_reason": "lô giả"})
    audit.record(session, "@SUM(1+1)", "batch.revoke", "batch:5", after={"revocation_reason": "-2+3"})
    session.commit()
    office(auth)
    with client.get("/office/audit.csv?action=batch.revoke") as response:
        body = response.get_data().decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(body)))
    assert rows[1][1] == "'@SUM(1+1)" and rows[2][1] == '\'=HYPERLINK("http://evil")'
    assert "lô giả" in body and "\\u" not in body
    assert not [cell for row in rows for cell in row if cell[:1] in ("=", "+", "-", "@")]


@pytest.mark.parametrize(
    ("value", "safe"),
    [("=1+1", "'=1+1"), ("+1", "'+1"), ("-1", "'-1"), ("@A1", "'@A1"), ("\t=1", "'\t=1"), ("lô 12", "lô 12"), ("", "")],
)
def test_cells_never_start_a_formula(value: str, safe: str) -> None:
    assert audit_export.cell(value) == safe


def test_a_bad_filter_exports_nothing(auth: Any, client: Any, session: Any) -> None:
    office(auth)
    response = client.get("/office/audit.csv?since=yesterday")
    assert response.status_code == 422 and response.mimetype == "text/html"
    assert session.scalar(select(AuditEntry).where(AuditEntry.action == "audit.export")) is None


@pytest.mark.parametrize("path", ["/office/audit", "/office/audit.csv"])
def test_only_the_office_reads_the_log(auth: Any, client: Any, factory: Any, session: Any, path: str) -> None:
    anonymous = client.get(path)
    assert anonymous.status_code == 403 and "/login?next=" in anonymous.get_data(as_text=True)
    producer = auth.user("producer", producer=factory.producer())
    auth.login(producer.email)
    assert client.get(path).status_code == 403
    assert session.scalar(select(AuditEntry).where(AuditEntry.action == "audit.export")) is None
