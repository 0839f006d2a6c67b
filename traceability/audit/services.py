"""Write and read audit entries. Entries join the caller's transaction: no action without its entry."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from traceability.audit.models import AuditEntry


def _plain(value: Any) -> Any:
    """Turn dates, decimals, enums and bytes into JSON values, recursively."""
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_plain(v) for v in value]
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, Enum):
        return _plain(value.value)
    if isinstance(value, bytes):
        return "<secret>"  # never copy key material or batch secrets into the log
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)


def _stored(value: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """Return value as the plain JSON object the log keeps (Vietnamese kept as text, not \\u escapes)."""
    if value is None:
        return None
    stored: dict[str, Any] = json.loads(json.dumps(_plain(value), ensure_ascii=False))
    return stored


def record(
    session: Session,
    actor: str,
    action: str,
    target: str,
    *,
    before: Mapping[str, Any] | None = None,
    after: Mapping[str, Any] | None = None,
) -> AuditEntry:
    """Add an audit entry to the session (it commits or rolls back with the action it describes)."""
    entry = AuditEntry(
        actor=actor[:200],
        action=action,
        target=target[:120],
        before=_stored(before),
        after=_stored(after),
    )
    session.add(entry)
    return entry


def entries(
    session: Session, *, target: str | None = None, action_prefix: str | None = None, limit: int = 200
) -> Sequence[AuditEntry]:
    """Return the newest entries first, optionally for one target or family of actions."""
    query = select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit)
    if target:
        query = query.where(AuditEntry.target == target)
    if action_prefix:
        query = query.where(AuditEntry.action.startswith(action_prefix))
    return session.scalars(query).all()


@dataclass(frozen=True)
class AuditFilter:
    """Which entries a reader asks for; every part is optional, and the parts narrow each other."""

    actor: str | None = None  # part of the actor's name, any case: "lan@" finds "user:lan@ocop.vn"
    action: str | None = None  # one action code
    target_kind: str | None = None  # "batch", "product"...
    target_id: str | None = None  # with target_kind: "12", "NT-SP01"
    since: datetime | None = None  # inclusive
    until: datetime | None = None  # exclusive


@dataclass(frozen=True)
class AuditPage:
    rows: Sequence[AuditEntry]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


def _filtered(query: Select[Any], wanted: AuditFilter) -> Select[Any]:
    if wanted.actor:
        query = query.where(func.lower(AuditEntry.actor).contains(wanted.actor.lower(), autoescape=True))
    if wanted.action:
        query = query.where(AuditEntry.action == wanted.action)
    if wanted.target_kind and wanted.target_id:
        query = query.where(AuditEntry.target == f"{wanted.target_kind}:{wanted.target_id}")
    elif wanted.target_kind:
        query = query.where(AuditEntry.target.startswith(f"{wanted.target_kind}:", autoescape=True))
    if wanted.since is not None:
        query = query.where(AuditEntry.at >= wanted.since)
    if wanted.until is not None:
        query = query.where(AuditEntry.at < wanted.until)
    return query


def search(session: Session, wanted: AuditFilter, *, page: int = 1, per_page: int = 50) -> AuditPage:
    """Return one page of the entries that match, newest first, and how many match in all."""
    total = count(session, wanted)
    page = min(max(1, page), max(1, -(-total // per_page)))
    query = _filtered(select(AuditEntry), wanted).order_by(AuditEntry.id.desc())
    rows = session.scalars(query.offset((page - 1) * per_page).limit(per_page)).all()
    return AuditPage(rows, total, page, per_page)


def count(session: Session, wanted: AuditFilter) -> int:
    """Return how many entries match."""
    return session.scalar(_filtered(select(func.count()).select_from(AuditEntry), wanted)) or 0


def stream(session: Session, wanted: AuditFilter, *, batch_size: int = 500) -> Iterator[AuditEntry]:
    """Yield every matching entry, newest first, a few hundred rows in memory at a time."""
    query = _filtered(select(AuditEntry), wanted).order_by(AuditEntry.id.desc())
    yield from session.scalars(query.execution_options(yield_per=batch_size))
