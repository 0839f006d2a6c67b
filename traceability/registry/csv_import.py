"""Import the registry from CSV: all rows or none, every bad row reported with its line number.

Each kind of record has its own file (producers, areas, products, certifications), with a header of the
field names below. Re-importing a file changes nothing: records are matched by code (certifications by
product and decision number) and only real changes are written and audited.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterator
from dataclasses import MISSING, dataclass, fields
from datetime import date
from typing import Any

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from traceability.errors import DomainError, ValidationError
from traceability.registry import editing
from traceability.registry import services as registry
from traceability.registry.services import AreaData, CertificationData, ProducerData, ProductData

MAX_REPORTED = 50
LIST_SEPARATORS = (";", "|")


@dataclass(frozen=True)
class RowError:
    line: int
    message: str


class ImportRejected(ValidationError):
    """The file had bad rows; nothing from it was applied."""

    code = "import_rejected"

    def __init__(self, errors: list[RowError], rows: int) -> None:
        shown = "; ".join(f"line {e.line}: {e.message}" for e in errors[:5])
        more = f" (and {len(errors) - 5} more)" if len(errors) > 5 else ""
        super().__init__(
            f"nothing was imported: {len(errors)} of {rows} rows have errors — {shown}{more}",
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


@dataclass(frozen=True)
class Kind:
    name: str
    data_class: type[Any]
    key_column: str
    extra_columns: tuple[str, ...] = ()

    @property
    def columns(self) -> list[str]:
        return [*self.extra_columns, *(f.name for f in fields(self.data_class))]

    @property
    def required(self) -> list[str]:
        return [
            *self.extra_columns,
            *(f.name for f in fields(self.data_class) if f.default is MISSING and f.default_factory is MISSING),
        ]


KINDS: dict[str, Kind] = {
    "producers": Kind("producers", ProducerData, "code"),
    "areas": Kind("areas", AreaData, "code"),
    "products": Kind("products", ProductData, "code"),
    "certifications": Kind("certifications", CertificationData, "decision_number", ("product",)),
}


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
    types = {f.name: f for f in fields(kind.data_class)}
    for name, field_info in types.items():
        raw = (row.get(name) or "").strip()
        if raw == "":
            if name in kind.required:
                raise ValidationError(f"{name} is empty", field=name)
            continue
        annotation = str(field_info.type)
        if "list" in annotation:
            separator = next((s for s in LIST_SEPARATORS if s in raw), ";")
            values[name] = [part.strip() for part in raw.split(separator) if part.strip()]
        elif "date" in annotation:
            try:
                values[name] = date.fromisoformat(raw)
            except ValueError as error:
                raise ValidationError(f"{name} must be a date as YYYY-MM-DD, not '{raw}'", field=name) from error
        elif annotation == "int":
            try:
                values[name] = int(raw)
            except ValueError as error:
                raise ValidationError(f"{name} must be a whole number, not '{raw}'", field=name) from error
        else:
            values[name] = raw
    product = (row.get("product") or "").strip() or None
    if kind.extra_columns and product is None:
        raise ValidationError("product is empty", field="product")
    return kind.data_class(**values), product


def _apply(session: Session, kind: Kind, data: Any, product_code: str | None, actor: str) -> str:
    """Save one record and return "created", "updated" or "unchanged"."""
    if kind.name == "certifications":
        assert product_code is not None
        product = registry.product_by_code(session, product_code)
        if product is None:
            raise ValidationError(f"unknown product '{product_code}'", field="product")
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
            f"the file is not UTF-8 text (byte {error.start}); save it from the spreadsheet as 'CSV UTF-8'",
            field="file",
        ) from error


def import_csv(session: Session, kind_name: str, text: str, *, actor: str) -> ImportResult:
    """Apply every row of a CSV file, or raise ImportRejected and leave the session for the caller to roll back.

    Each row runs in a savepoint so one bad row does not hide the errors of the rows after it.
    """
    kind = KINDS.get(kind_name)
    if kind is None:
        raise ValidationError(f"choose what the file holds: {', '.join(KINDS)}", field="kind")
    header = next(csv.reader(io.StringIO(text)), None)
    if not header:
        raise ValidationError("the file is empty: the first line must name the columns", field="file")
    header = [h.strip() for h in header]
    unknown = [h for h in header if h not in kind.columns]
    missing = [c for c in kind.required if c not in header]
    if unknown or missing or len(set(header)) != len(header):
        problems = []
        if unknown:
            problems.append(f"unknown columns {', '.join(unknown)}")
        if missing:
            problems.append(f"missing columns {', '.join(missing)}")
        if len(set(header)) != len(header):
            problems.append("a column appears twice")
        raise ImportRejected(
            [RowError(1, "; ".join(problems) + f" (the columns for {kind.name} are: {', '.join(kind.columns)})")], 0
        )
    result = ImportResult(kind.name)
    errors: list[RowError] = []
    seen: dict[str, int] = {}
    rows = 0
    for line, cells in _rows(text):
        if not any(cell.strip() for cell in cells):
            continue  # a blank line
        rows += 1
        if len(cells) > len(header):
            errors.append(RowError(line, f"the row has {len(cells)} cells but the header names {len(header)}"))
            continue
        row = dict(zip(header, cells, strict=False))
        key = "/".join((row.get(c) or "").strip().upper() for c in (*kind.extra_columns, kind.key_column))
        if key in seen:
            errors.append(RowError(line, f"{kind.key_column} {key} appears again (first on line {seen[key]})"))
            continue
        seen[key] = line
        savepoint = session.begin_nested()
        try:
            data, product_code = _convert(kind, row)
            outcome = _apply(session, kind, data, product_code, actor)
            savepoint.commit()
        except (DomainError, SQLAlchemyError) as error:
            savepoint.rollback()
            message = error.localized() if isinstance(error, DomainError) else "the database refused the row"
            errors.append(RowError(line, message))
            if len(errors) >= MAX_REPORTED:
                break
            continue
        setattr(result, outcome, getattr(result, outcome) + 1)
    if errors:
        raise ImportRejected(errors, rows)
    if rows == 0:
        raise ValidationError("the file has a header but no rows", field="file")
    return result
