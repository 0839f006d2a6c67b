"""`traceability batch print`, end to end: issue through the CLI, print, read every code back with zbar."""

from __future__ import annotations

import csv
import io
import json
import zipfile
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.orm import Session

from tests.printing.conftest import decode_pdf
from traceability.printing.layouts import LAYOUTS
from traceability.stamps import batches
from traceability.stamps.models import RangeState
from traceability.verification.services import verify_code
from traceability.verification.verdicts import Verdict

COUNT = 130


@pytest.fixture
def product_code(factory: Any, signing_key: Any) -> str:
    """Return the code of a certified product, with an active signing key in place."""
    return str(factory.product(producer=factory.producer(short_name="HTX Nho Thái An")).code)


def issue(runner: Any, product_code: str, quantity: int = COUNT) -> int:
    """Issue a batch through the CLI and return its id."""
    result = runner.invoke(args=["batch", "issue", "--product", product_code, "--quantity", str(quantity), "--json"])
    assert result.exit_code == 0, result.output
    return int(json.loads(result.output)["batch"])


def test_print_decodes_to_exactly_the_csv_urls_verifies_and_reprints_identically(
    runner: Any, session: Session, product_code: str, tmp_path: Path
) -> None:
    batch_id = issue(runner, product_code)
    first, second = tmp_path / "first", tmp_path / "second"
    first.mkdir(), second.mkdir()
    args = ["batch", "print", str(batch_id), "--out", "x.pdf", "--csv", "x.csv", "--zip", "x.zip"]

    result = runner.invoke(args=[a if not a.startswith("x.") else str(first / a) for a in args])
    assert result.exit_code == 0, result.output
    # tests/printing/conftest.py prints for https://ocop.gov.vn, a production-length base URL: version 6.
    expected = "130 stamps on 3 sheets (a4-30mm, QR version 6-M, 0.508 mm modules = 6 dots at 300 dpi)"
    assert f"Printed batch {batch_id}: {expected}" in result.output
    assert "130 stamps marked printed." in result.output
    assert sorted(p.name for p in first.iterdir()) == ["x.csv", "x.pdf", "x.zip"]  # no temporary left

    with (first / "x.csv").open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    urls = [row["url"] for row in rows]
    assert len(set(urls)) == COUNT
    pages = decode_pdf((first / "x.pdf").read_bytes())
    per_sheet = LAYOUTS["a4-30mm"].per_sheet
    assert [len(codes) for codes in pages] == [per_sheet, per_sheet, COUNT - 2 * per_sheet]
    assert sorted(code for codes in pages for code in codes) == sorted(urls)
    for index, codes in enumerate(pages):  # each code on the sheet the CSV says
        assert sorted(codes) == sorted(r["url"] for r in rows if r["sheet"] == str(index + 1))
    with zipfile.ZipFile(first / "x.zip") as archive:
        assert sorted(archive.namelist()) == sorted(f"{row['serial']}.svg" for row in rows)

    session.expire_all()
    batch = batches.batch_or_404(session, batch_id)
    assert [(r.start, r.end, r.state) for r in batch.ranges] == [(0, COUNT, RangeState.PRINTED)]
    for url in urls:  # printed, not yet applied to goods: genuine signature, not activated
        verification = verify_code(session, url, date.today())
        assert verification.verdict is Verdict.NOT_ACTIVATED, (url, verification.verdict)
        assert Verdict.FORGED not in verification.outcome.findings
    session.commit()

    result = runner.invoke(args=[a if not a.startswith("x.") else str(second / a) for a in args])
    assert result.exit_code == 0, result.output
    assert "No stamp changed state" in result.output
    for name in ("x.pdf", "x.csv", "x.zip"):
        assert (first / name).read_bytes() == (second / name).read_bytes(), name


def test_print_leaves_activated_and_voided_stamps_as_they_are(
    runner: Any, session: Session, product_code: str, tmp_path: Path
) -> None:
    batch_id = issue(runner, product_code, 40)
    assert runner.invoke(args=["batch", "activate", str(batch_id), "--to", "9"]).exit_code == 0
    assert runner.invoke(args=["batch", "void", str(batch_id), "--from", "30", "--to", "34"]).exit_code == 0
    result = runner.invoke(args=["batch", "print", str(batch_id), "--out", str(tmp_path / "b.pdf")])
    assert result.exit_code == 0, result.output
    assert "25 stamps marked printed." in result.output
    session.expire_all()
    assert [(r.start, r.end, r.state.value) for r in batches.batch_or_404(session, batch_id).ranges] == [
        (0, 10, "activated"),
        (10, 30, "printed"),
        (30, 35, "voided"),
        (35, 40, "printed"),
    ]
    session.commit()


def test_print_options_layout_ecc_and_png(runner: Any, product_code: str, tmp_path: Path) -> None:
    batch_id = issue(runner, product_code, 20)
    options = [
        "--label",
        "40x40",
        "--dpi",
        "300",
        "--ecc",
        "Q",
        "--zip",
        str(tmp_path / "r.zip"),
        "--zip-format",
        "png",
    ]
    result = runner.invoke(args=["batch", "print", str(batch_id), "--out", str(tmp_path / "r.pdf"), *options])
    assert result.exit_code == 0, result.output
    assert "on 20 sheets (custom-40x40-roll@300, QR version 8-Q" in result.output
    with zipfile.ZipFile(tmp_path / "r.zip") as archive:
        names = archive.namelist()
        assert len(names) == 20 and all(n.endswith(".png") for n in names)
        from PIL import Image

        Image.open(io.BytesIO(archive.read(names[0]))).verify()


@pytest.mark.parametrize(
    ("setup", "extra", "message"),
    [
        ("none", [], "there is no batch 999"),
        ("requested", [], "has not been issued yet"),
        ("revoked", [], "is revoked; its stamps must not be printed"),
        ("issued", ["--layout", "a3"], "unknown layout 'a3'; choose one of: a4-20mm, a4-30mm, roll-30mm, a gLabels"),
        ("issued", ["--layout", "a4-20mm"], "labels of 20 × 20 mm are too small for this batch's QR code"),
        ("issued", ["--label", "25x25"], "the smallest module printed is 0.5 mm, which needs labels of at least"),
        ("issued", ["--label-template", "Avery:NOPE"], "no label product 'Avery:NOPE' in the gLabels templates"),
        ("issued", ["--label", "30x30", "--grid", "7x8"], "7 × 8 labels of 30 × 30 mm with these margins"),
        ("issued", ["--dpi", "50"], "50 is not in the range 100<=x<=4800"),
        ("issued", ["--ecc", "H"], "'H' is not one of 'M', 'Q'"),
        ("issued", ["--csv", "{tmp}/missing/x.csv"], "cannot write {tmp}/missing/x.csv"),
        ("issued", ["--csv", "{tmp}/out.pdf"], "each output needs its own file name"),
    ],
)
def test_print_refuses_clearly_and_writes_nothing(
    runner: Any,
    session: Session,
    product_code: str,
    tmp_path: Path,
    setup: str,
    extra: list[str],
    message: str,
) -> None:
    batch_id = 999
    if setup != "none":
        batch_id = issue(runner, product_code, 10)
    if setup == "requested":
        from traceability.registry.services import product_or_404

        request = batches.new_request(
            session,
            product_or_404(session, product_code),
            5,
            batches.BatchOptions(),
            actor="producer",
            maximum=100,
            today=date.today(),
        )
        session.commit()
        batch_id = request.id
    if setup == "revoked":
        assert runner.invoke(args=["batch", "revoke", str(batch_id), "--reason", "test"]).exit_code == 0
    folder = tmp_path / "out"
    folder.mkdir()
    args = ["batch", "print", str(batch_id), "--out", str(folder / "out.pdf"), *(a.format(tmp=folder) for a in extra)]
    result = runner.invoke(args=args)
    assert result.exit_code != 0
    assert message.format(tmp=folder) in result.output
    assert list(folder.iterdir()) == []  # nothing written, no temporary left


def test_batch_print_is_listed_under_batch(runner: Any) -> None:
    result = runner.invoke(args=["batch", "print", "--help"])
    assert result.exit_code == 0
    for option in ("--out", "--layout", "--label-template", "--label", "--grid", "--dpi", "--language", "--ecc"):
        assert option in result.output


@pytest.mark.parametrize(
    ("options", "stock", "sheets", "header"),
    [
        (["--label-template", "Avery:L7160", "--language", "en"], "avery-l7160", "1 sheet", "sheet 1/1"),
        (["--label", "30x30", "--grid", "6x8", "--dpi", "600"], "custom-30x30-6x8-g2-a4@600", "1 sheet", "tờ 1/1"),
        (["--layout", "roll-30mm"], "roll-30mm", "10 sheets", "Phiếu in OCOP"),
    ],
)
def test_a_glabels_product_and_custom_labels_print_and_decode(
    runner: Any, product_code: str, tmp_path: Path, options: list[str], stock: str, sheets: str, header: str
) -> None:
    from traceability.printing.stock import resolve_layout

    batch_id = issue(runner, product_code, 10)
    pdf = tmp_path / "labels.pdf"
    result = runner.invoke(args=["batch", "print", str(batch_id), "--out", str(pdf), *options])
    assert result.exit_code == 0, result.output
    assert f"10 stamps on {sheets} ({stock}, QR version 6-M" in result.output
    layout = resolve_layout(stock)
    pages = decode_pdf(pdf.read_bytes())
    assert sum(len(codes) for codes in pages) == 10
    assert header in extract_text(pdf.read_bytes())
    assert layout.dpi == int(stock.partition("@")[2] or layout.dpi)


def extract_text(pdf: bytes) -> str:
    """Return the text of every page."""
    import pypdfium2 as pdfium

    document = pdfium.PdfDocument(pdf)
    try:
        return "\n".join(document[i].get_textpage().get_text_range() for i in range(len(document)))
    finally:
        document.close()


def test_print_files_are_private_to_their_owner(runner: Any, product_code: str, tmp_path: Path) -> None:
    import os
    import stat

    batch_id = issue(runner, product_code, 10)
    pdf, listing = tmp_path / "p.pdf", tmp_path / "p.csv"
    result = runner.invoke(args=["batch", "print", str(batch_id), "--out", str(pdf), "--csv", str(listing)])
    assert result.exit_code == 0, result.output
    # They print genuine stamps: like the issue command's CSV, never readable by other accounts.
    assert {stat.S_IMODE(os.stat(path).st_mode) for path in (pdf, listing)} == {0o600}


def test_print_font_names_the_font_file_and_a_bad_one_is_refused_clearly(
    app: Any, runner: Any, product_code: str, tmp_path: Path
) -> None:
    from traceability.printing.fontfiles import find_fonts

    batch_id = issue(runner, product_code, 10)
    default, configured = tmp_path / "default.pdf", tmp_path / "configured.pdf"
    assert runner.invoke(args=["batch", "print", str(batch_id), "--out", str(default)]).exit_code == 0
    app.config["PRINT_FONT"] = find_fonts().regular
    assert runner.invoke(args=["batch", "print", str(batch_id), "--out", str(configured)]).exit_code == 0
    assert configured.read_bytes() == default.read_bytes()

    app.config["PRINT_FONT"] = str(tmp_path / "missing.ttf")
    folder = tmp_path / "out"
    folder.mkdir()
    result = runner.invoke(args=["batch", "print", str(batch_id), "--out", str(folder / "x.pdf")])
    assert result.exit_code != 0
    assert f"PRINT_FONT is '{tmp_path / 'missing.ttf'}', which is not a TrueType font file" in result.output
    assert list(folder.iterdir()) == []


def test_label_templates_lists_the_products_that_hold_a_stamp(app: Any) -> None:
    from traceability.printing.commands import label_templates_command

    result = app.test_cli_runner().invoke(label_templates_command, ["L7160"])
    assert result.exit_code == 0, result.output
    assert "Avery:L7160" in result.output and "avery-l7160" in result.output
    assert "L7651" not in app.test_cli_runner().invoke(label_templates_command, ["L7651"]).output  # too small
