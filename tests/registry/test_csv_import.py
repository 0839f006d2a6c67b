"""The CSV import's cell converters, the converter each field gets, and the import service itself."""

from __future__ import annotations

from dataclasses import fields
from datetime import date
from typing import Any

import pytest

from traceability.errors import ValidationError
from traceability.registry import csv_import
from traceability.registry.csv_import import (
    KINDS,
    BadRow,
    ImportRejected,
    iso_date,
    plain_text,
    text_list,
    whole_number,
)


@pytest.mark.parametrize(
    ("converter", "raw", "value"),
    [
        (plain_text, "Hợp tác xã A", "Hợp tác xã A"),
        (plain_text, "55.5", "55.5"),  # numbers other than whole ones are the services' to read
        (iso_date, "2024-03-01", date(2024, 3, 1)),
        (whole_number, "4", 4),
        (whole_number, "-3", -3),
        (text_list, "VietGAP; ASC", ["VietGAP", "ASC"]),
        (text_list, "NT-A|NT-B", ["NT-A", "NT-B"]),
        (text_list, "a;b|c", ["a", "b|c"]),  # ; wins when a cell has both
        (text_list, " ; x ;; ", ["x"]),
        (text_list, "one", ["one"]),
    ],
)
def test_converters_read_good_cells(converter: csv_import.Converter, raw: str, value: Any) -> None:
    assert converter("field", raw) == value


@pytest.mark.parametrize(
    ("converter", "raw", "message"),
    [
        (iso_date, "01/03/2024", "decision_date must be a date as YYYY-MM-DD, not '01/03/2024'"),
        (iso_date, "2024-02-30", "decision_date must be a date as YYYY-MM-DD, not '2024-02-30'"),
        (whole_number, "4.5", "decision_date must be a whole number, not '4.5'"),
        (whole_number, "four", "decision_date must be a whole number, not 'four'"),
    ],
)
def test_converters_refuse_bad_cells(converter: csv_import.Converter, raw: str, message: str) -> None:
    with pytest.raises(BadRow) as refused:
        converter("decision_date", raw)
    assert (refused.value.message, refused.value.field) == (message, "decision_date")


def _expected_converter(annotation: str) -> csv_import.Converter:
    if "list" in annotation:
        return text_list
    if "date" in annotation:
        return iso_date
    if annotation == "int":
        return whole_number
    return plain_text


@pytest.mark.parametrize("kind", KINDS.values(), ids=list(KINDS))
def test_every_field_has_the_converter_its_type_needs(kind: csv_import.Kind) -> None:
    for field in fields(kind.data_class):
        assert kind.converter(field.name) is _expected_converter(str(field.type)), field.name
    assert set(kind.converters) <= {f.name for f in fields(kind.data_class)}


def test_a_good_file_is_imported_and_counted(session: Any) -> None:
    text = (
        "code,name,type,commune,district,province_code,address_scheme,address_as_of\n"
        "NT-A,Hợp tác xã A,cooperative,Xã Phước Dinh,Huyện Thuận Nam,58,pre2025,2024-03-01\n"
        "\n"
        "CM-B,Hộ B,farm,Xã Tân Thành,,96,2025,2025-08-01\n"
    )
    result = csv_import.import_csv(session, "producers", text, actor="test")
    assert (result.kind, result.created, result.updated, result.unchanged, result.rows) == ("producers", 2, 0, 0, 2)
    again = csv_import.import_csv(session, "producers", text, actor="test")
    assert (again.created, again.unchanged) == (0, 2)


def test_bad_rows_are_all_reported_with_their_lines(session: Any) -> None:
    text = (
        "product,stars,score,decision_number,decision_date,authority,authority_level\n"
        "NOPE,3,55,1/QĐ,2025-08-01,UBND,provincial\n"
        ",3,55,2/QĐ,2025-08-01,UBND,provincial\n"
        "X,three,55,4/QĐ,2025-08-01,UBND,provincial\n"
        "X,3,55,3/QĐ,2025-08-01,UBND,provincial,extra\n"
        "X,3,55,3/QĐ,2025-08-01,UBND,provincial\n"
        "x,3,55,3/qđ,2025-08-01,UBND,provincial\n"
    )
    with pytest.raises(ImportRejected) as rejected:
        csv_import.import_csv(session, "certifications", text, actor="test")
    assert [(e.line, e.message) for e in rejected.value.errors] == [
        (2, "unknown product 'NOPE'"),
        (3, "product is empty"),
        (4, "stars must be a whole number, not 'three'"),
        (5, "the row has 8 cells but the header names 7"),
        (6, "unknown product 'X'"),
        (7, "decision_number X/3/QĐ appears again (first on line 6)"),
    ]
    assert rejected.value.message == "Nothing was imported: 6 of 6 rows have errors (see below)."
    assert rejected.value.details["errors"][0] == {"line": 2, "message": "unknown product 'NOPE'"}


@pytest.mark.parametrize(
    ("header", "messages"),
    [
        (
            "code,name,colour",
            [
                "unknown columns colour (the columns for products are: code, name, producer, product_set, gtin, "
                "description, areas)",
                "missing columns producer, product_set",
            ],
        ),
        ("code,name,producer,product_set,name", ["a column appears twice"]),
    ],
)
def test_a_wrong_header_is_reported_as_line_1(session: Any, header: str, messages: list[str]) -> None:
    with pytest.raises(ImportRejected) as rejected:
        csv_import.import_csv(session, "products", header + "\nA,B,C,D\n", actor="test")
    assert [(e.line, e.message) for e in rejected.value.errors] == [(1, m) for m in messages]
    assert rejected.value.rows == 0


@pytest.mark.parametrize(
    ("kind", "text", "message"),
    [
        ("people", "code\nA\n", "choose what the file holds: producers, areas, products, certifications"),
        ("areas", "", "the file is empty: the first line must name the columns"),
        ("products", "code,name,producer,product_set\n\n", "the file has a header but no rows"),
    ],
)
def test_a_file_that_cannot_be_read_is_refused(session: Any, kind: str, text: str, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        csv_import.import_csv(session, kind, text, actor="test")


def test_only_utf_8_is_read() -> None:
    assert csv_import.decode("\ufeffcode\n".encode()) == "code\n"
    with pytest.raises(ValidationError, match=r"not UTF-8 text \(byte 0\)"):
        csv_import.decode("code".encode("utf-16"))
