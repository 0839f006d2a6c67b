"""Registry edits from the office, each checked by the registry services and written to the audit log.

Functions take the session first and never commit.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Generic, TypeVar

from sqlalchemy.orm import Session

from traceability.audit import services as audit
from traceability.errors import Conflict, NotFound, Term
from traceability.i18n import N_
from traceability.registry import services as registry
from traceability.registry import validation
from traceability.registry.models import Certification, MaterialArea, Producer, Product
from traceability.registry.services import AreaData, CertificationData, ProducerData, ProductData

_SKIPPED = {"id", "created_at", "producer_id", "product_id"}
_Record = TypeVar("_Record", Producer, MaterialArea, Product)
_Data = TypeVar("_Data", ProducerData, AreaData, ProductData)


def _value(value: Any) -> Any:
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")  # 1.50 and 1.5 are the same hectares
    if isinstance(value, list):
        return [_value(v) for v in value]
    return value


def snapshot(record: Producer | MaterialArea | Product | Certification) -> dict[str, Any]:
    """Return a record's columns and named links, comparable before and after an edit."""
    values: dict[str, Any] = {
        attr.key: _value(getattr(record, attr.key))
        for attr in type(record).__mapper__.column_attrs
        if attr.key not in _SKIPPED
    }
    if isinstance(record, MaterialArea):
        values["producers"] = sorted(p.code for p in record.producers)
    if isinstance(record, Product):
        values["producer"] = record.producer.code
        values["areas"] = sorted(a.code for a in record.areas)
    if isinstance(record, Certification):
        values["product"] = record.product.code
    return values


class ProducerNotFound(NotFound):
    """No producer has this code."""

    code = "producer_not_found"


class AreaNotFound(NotFound):
    """No raw-material area has this code."""

    code = "area_not_found"


class CertificationNotFound(NotFound):
    """No certification has this id."""

    code = "certification_not_found"


class DuplicateCode(Conflict):
    """A new record given the code of an existing one (edit that one instead)."""

    code = "duplicate_code"


class CodeChanged(Conflict):
    """An edit that would change a record's code, which stamps and imports refer to."""

    code = "code_changed"


def producer_or_404(session: Session, code: str) -> Producer:
    """Return the producer with this code or raise ProducerNotFound."""
    found = registry.producer_by_code(session, code)
    if found is None:
        raise ProducerNotFound(N_("no producer has the code '%(code)s'"), params={"code": code})
    return found


def area_or_404(session: Session, code: str) -> MaterialArea:
    """Return the raw-material area with this code or raise AreaNotFound."""
    found = registry.area_by_code(session, code)
    if found is None:
        raise AreaNotFound(N_("no raw-material area has the code '%(code)s'"), params={"code": code})
    return found


def certification_or_404(session: Session, certification_id: int) -> Certification:
    """Return the certification or raise CertificationNotFound."""
    found = session.get(Certification, certification_id)
    if found is None:
        raise CertificationNotFound(N_("there is no certification %(id)s"), params={"id": certification_id})
    return found


def _refuse_duplicate(existing: object | None, kind: str, code: str) -> None:
    if existing is not None:
        raise DuplicateCode(
            N_("a %(kind)s with the code %(code)s exists already: edit it instead"),
            field="code",
            params={"kind": Term(kind), "code": code},
        )


def _refuse_code_change(code: str, data_code: str) -> None:
    if validation.code(data_code) != code:
        raise CodeChanged(N_("a record's code cannot change: stamps and imports refer to it"), field="code")


@dataclass(frozen=True)
class _Editable(Generic[_Record, _Data]):
    """How the office creates and edits one kind of registry record, whose code never changes."""

    kind: str  # in the audit log: registry.<kind>.create, <kind>:<code>
    label: str  # in messages: an English msgid, translated with the message
    by_code: Callable[[Session, str], _Record | None]
    or_404: Callable[[Session, str], _Record]
    write: Callable[[Session, _Data], _Record]

    def save(self, session: Session, data: _Data, *, actor: str, existing_code: str | None) -> _Record:
        """Create a record (existing_code None) or edit the one with existing_code; audit the change."""
        if existing_code is None:
            _refuse_duplicate(self.by_code(session, data.code), self.label, data.code.strip().upper())
            before = None
        else:
            current = self.or_404(session, existing_code)
            _refuse_code_change(current.code, data.code)
            before = snapshot(current)
        saved = self.write(session, data)
        audit_change(session, actor, self.kind, saved.code, before, snapshot(saved))
        return saved


_PRODUCERS = _Editable("producer", N_("producer"), registry.producer_by_code, producer_or_404, registry.save_producer)
_AREAS = _Editable("area", N_("raw-material area"), registry.area_by_code, area_or_404, registry.save_area)
_PRODUCTS = _Editable(
    "product", N_("product"), registry.product_by_code, registry.product_or_404, registry.save_product
)


def save_producer(session: Session, data: ProducerData, *, actor: str, existing_code: str | None = None) -> Producer:
    """Create a producer (existing_code None) or edit the one with existing_code; audit the change."""
    return _PRODUCERS.save(session, data, actor=actor, existing_code=existing_code)


def save_area(session: Session, data: AreaData, *, actor: str, existing_code: str | None = None) -> MaterialArea:
    """Create or edit a raw-material area; audit the change."""
    return _AREAS.save(session, data, actor=actor, existing_code=existing_code)


def save_product(session: Session, data: ProductData, *, actor: str, existing_code: str | None = None) -> Product:
    """Create or edit a product; audit the change."""
    return _PRODUCTS.save(session, data, actor=actor, existing_code=existing_code)


def add_certification(session: Session, product: Product, data: CertificationData, *, actor: str) -> Certification:
    """Record a certification decision for a product; audit it with the certifications it superseded."""
    before = [snapshot(c) for c in product.certifications]
    known = {c.id for c in product.certifications}
    saved = registry.add_certification(session, product, data)
    if saved.id not in known:
        audit.record(
            session,
            actor,
            "registry.certification.create",
            f"product:{product.code}",
            before={"certifications": before},
            after={"certifications": [snapshot(c) for c in product.certifications]},
        )
    return saved


def set_certification_status(
    session: Session, certification: Certification, status: str, reason: str, *, actor: str
) -> Certification:
    """Change a certification's status (revoked, in re-evaluation...) with its reason; audit it."""
    before = snapshot(certification)
    saved = registry.set_certification_status(session, certification, status, reason)
    audit.record(
        session,
        actor,
        "registry.certification.status",
        f"certification:{saved.id}",
        before=before,
        after=snapshot(saved),
    )
    return saved


def audit_change(
    session: Session, actor: str, kind: str, code: str, before: dict[str, Any] | None, after: dict[str, Any]
) -> str:
    """Audit a create or update and return "created", "updated" or "unchanged" (which writes nothing)."""
    if before == after:
        return "unchanged"
    action = "create" if before is None else "update"
    audit.record(session, actor, f"registry.{kind}.{action}", f"{kind}:{code}", before=before, after=after)
    return f"{action}d"
