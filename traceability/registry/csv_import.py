"""Import the registry from CSV: all rows or none, every bad row reported with its line number.

Each kind of record has its own file (producers, areas, products, certifications), with a header of the
field names below. Re-importing a file changes nothing: records are matched by code (certifications by
product and decision number) and only real changes are written and audited.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterator, Mapping
from dataclasses import MISSING, dataclass, field, fields
from datetime import date
from types import MappingProxyType
from typing import Any

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from traceability.errors import DomainError, ValidationError
from traceability.i18n import N_
from traceability.registry import editing
from traceability.registry import services as registry
from traceability.registry.services import AreaData, CertificationData, ProducerData, ProductData

MAX_REPORTED = 50
LIST_SEPARATORS = (";", "|")


class BadRow(ValidationError):
    """A row (or the header, line 1) that cannot be read as a record of its kind."""

    code = "bad_row"


@dataclass(frozen=True)
class RowError:
    """A line of the file and what is wrong with it."""

    line: int
    error: DomainError

    @property
    def message(self) -> str:
        """Return the problem in the reader's language (English outside a request)."""
        return self.error.localized()


class ImportRejected(ValidationError):
    """The file had bad rows; nothing from it was applied."""

    code = "import_rejected"

    def __init__(self, errors: list[RowError], rows: int) -> None:
        if rows:
            message = N_("Nothing was imported: %(bad)d of %(rows)d rows have errors (see below).")
        else:
            message = N_("Nothing was imported: the first line does not name the right columns (see below).")
        super().__init__(
            message,
            params={"bad": len(errors), "rows": rows},
            errors=[{"line": e.line, "message": e.message} for e in errors],
        )
        self.errors = errors
        self.rows = rows


@dataclass
class ImportResult:
    kind: str
    created: int = 0
    updated: int = 0
    unchanged: int = 0

    @property
    def rows(self) -> int:
        return self.created + self.updated + self.unchanged


# A converter turns a cell's text (never empty) into a field's value; the field name is for its message.
Converter = Callable[[str, str], Any]


def plain_text(name: str, raw: str) -> str:
    """Return the cell as it is (the registry services check and normalise it)."""
    return raw


def iso_date(name: str, raw: str) -> date:
    """Return the cell as a date written YYYY-MM-DD."""
    try:
        return date.fromisoformat(raw)
    except ValueError as error:
        raise BadRow(
            N_("%(field)s must be a date as YYYY-MM-DD, not '%(value)s'"),
            field=name,
            params={"field": name, "value": raw},
        ) from error


def whole_number(name: str, raw: str) -> int:
    """Return the cell as a whole number."""
    try:
        return int(raw)
    except ValueError as error:
        raise BadRow(
            N_("%(field)s must be a whole number, not '%(value)s'"),
            field=name,
            params={"field": name, "value": raw},
        ) from error


def text_list(name: str, raw: str) -> list[str]:
    """Return the cell's items, separated by ; (or | when the cell has no ;)."""
    separator = next((s for s in LIST_SEPARATORS if s in raw), ";")
    return [part.strip() for part in raw.split(separator) if part.strip()]


@dataclass(frozen=True)
class Kind:
    """A kind of record the import holds: its data class, its key column and how to read its cells."""

    name: str
    data_class: type[Any]
    key_column: str
    extra_columns: tuple[str, ...] = ()
    # The converter of every field that is not plain text (tests/registry/test_csv_import.py checks each
    # field's converter against its type, so a new date or list field cannot be read as text by mistake).
    converters: Mapping[str, Converter] = field(default_factory=dict)

    @property
    def columns(self) -> list[str]:
        return [*self.extra_columns, *(f.name for f in fields(self.data_class))]

    @property
    def required(self) -> list[str]:
        return [
            *self.extra_columns,
            *(f.name for f in fields(self.data_class) if f.default is MISSING and f.default_factory is MISSING),
        ]

    def converter(self, name: str) -> Converter:
        """Return the converter of a field."""
        return self.converters.get(name, plain_text)


KINDS: Mapping[str, Kind] = MappingProxyType(
    {
        "producers": Kind("producers", ProducerData, "code", converters={"address_as_of": iso_date}),
        "areas": Kind(
            "areas",
            AreaData,
            "code",
            converters={"code_issued_on": iso_date, "certifications": text_list, "producers": text_list},
        ),
        "products": Kind("products", ProductData, "code", converters={"areas": text_list}),
        "certifications": Kind(
            "certifications",
            CertificationData,
            "decision_number",
            ("product",),
            converters={"stars": whole_number, "decision_date": iso_date},
        ),
    }
)


def _rows(text: str) -> Iterator[tuple[int, list[str]]]:
    """Yield (line where the record starts, cells) after the header; quoted cells may span lines."""
    reader = csv.reader(io.StringIO(text))
    next(reader, None)
    previous_end = reader.line_num
    for cells in reader:
        yield previous_end + 1, cells
        previous_end = reader.line_num


def _convert(kind: Kind, row: dict[str, str]) -> tuple[Any, str | None]:
    """Build the kind's data object from a row; return it and the product code for certifications."""
    values: dict[str, Any] = {}
    for name in (f.name for f in fields(kind.data_class)):
        raw = (row.get(name) or "").strip()
        if raw:
            values[name] = kind.converter(name)(name, raw)
        elif name in kind.required:
            raise BadRow(N_("%(field)s is empty"), field=name, params={"field": name})
    product = (row.get("product") or "").strip() or None
    if kind.extra_columns and product is None:
        raise BadRow(N_("%(field)s is empty"), field="product", params={"field": "product"})
    return kind.data_class(**values), product


def _apply(session: Session, kind: Kind, data: Any, product_code: str | None, actor: str) -> str:
    """Save one record and return "created", "updated" or "unchanged"."""
    if kind.name == "certifications":
        assert product_code is not None
        product = registry.product_by_code(session, product_code)
        if product is None:
            raise BadRow(N_("unknown product '%(product)s'"), field="product", params={"product": product_code})
        known = {c.id for c in product.certifications}
        saved = editing.add_certification(session, product, data, actor=actor)
        return "unchanged" if saved.id in known else "created"
    finders: dict[str, Callable[[Session, str], Any]] = {
        "producers": registry.producer_by_code,
        "areas": registry.area_by_code,
        "products": registry.product_by_code,
    }
    savers: dict[str, Callable[..., Any]] = {
        "producers": registry.save_producer,
        "areas": registry.save_area,
        "products": registry.save_product,
    }
    existing = finders[kind.name](session, data.code)
    before = editing.snapshot(existing) if existing is not None else None
    saved = savers[kind.name](session, data)
    return editing.audit_change(session, actor, kind.name.rstrip("s"), saved.code, before, editing.snapshot(saved))


def decode(raw: bytes) -> str:
    """Decode an uploaded file as UTF-8 (a spreadsheet's byte-order mark is fine)."""
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise ValidationError(
            N_("the file is not UTF-8 text (byte %(byte)s); save it from the spreadsheet as 'CSV UTF-8'"),
            field="file",
            params={"byte": error.start},
        ) from error


def _header(kind: Kind, text: str) -> list[str]:
    """Return the file's column names, or raise ImportRejected when they do not fit the kind."""
    header = next(csv.reader(io.StringIO(text)), None)
    if not header:
        raise ValidationError(N_("the file is empty: the first line must name the columns"), field="file")
    header = [h.strip() for h in header]
    unknown = [h for h in header if h not in kind.columns]
    missing = [c for c in kind.required if c not in header]
    problems = []
    if unknown:
        problems.append(
            BadRow(
                N_("unknown columns %(columns)s (the columns for %(kind)s are: %(expected)s)"),
                params={"columns": ", ".join(unknown), "kind": kind.name, "expected": ", ".join(kind.columns)},
            )
        )
    if missing:
        problems.append(BadRow(N_("missing columns %(columns)s"), params={"columns": ", ".join(missing)}))
    if len(set(header)) != len(header):
        problems.append(BadRow(N_("a column appears twice")))
    if problems:
        raise ImportRejected([RowError(1, problem) for problem in problems], 0)
    return header


def _apply_row(session: Session, kind: Kind, row: dict[str, str], actor: str) -> str:
    """Save one row in a savepoint, so that a bad row leaves nothing behind; return its outcome."""
    savepoint = session.begin_nested()
    try:
        data, product_code = _convert(kind, row)
        outcome = _apply(session, kind, data, product_code, actor)
    except SQLAlchemyError as error:
        savepoint.rollback()
        raise BadRow(N_("the database refused the row")) from error
    except DomainError:
        savepoint.rollback()
        raise
    savepoint.commit()
    return outcome


def import_csv(session: Session, kind_name: str, text: str, *, actor: str) -> ImportResult:
    """Apply every row of a CSV file, or raise ImportRejected and leave the session for the caller to roll back.

    Each row runs in a savepoint so one bad row does not hide the errors of the rows after it.
    """
    kind = KINDS.get(kind_name)
    if kind is None:
        raise ValidationError(
            N_("choose what the file holds: %(kinds)s"), field="kind", params={"kinds": ", ".join(KINDS)}
        )
    header = _header(kind, text)
    result = ImportResult(kind.name)
    errors: list[RowError] = []
    seen: dict[str, int] = {}
    rows = 0
    for line, cells in _rows(text):
        if not any(cell.strip() for cell in cells):
            continue  # a blank line
        rows += 1
        row = dict(zip(header, cells, strict=False))
        key = "/".join((row.get(c) or "").strip().upper() for c in (*kind.extra_columns, kind.key_column))
        try:
            if len(cells) > len(header):
                raise BadRow(
                    N_("the row has %(cells)s cells but the header names %(columns)s"),
                    params={"cells": len(cells), "columns": len(header)},
                )
            if key in seen:
                raise BadRow(
                    N_("%(column)s %(key)s appears again (first on line %(line)s)"),
                    params={"column": kind.key_column, "key": key, "line": seen[key]},
                )
            seen[key] = line
            outcome = _apply_row(session, kind, row, actor)
        except DomainError as error:
            errors.append(RowError(line, error))
            if len(errors) >= MAX_REPORTED:
                break
            continue
        setattr(result, outcome, getattr(result, outcome) + 1)
    if errors:
        raise ImportRejected(errors, rows)
    if rows == 0:
        raise ValidationError(N_("the file has a header but no rows"), field="file")
    return result
