"""Write and read audit entries. Entries join the caller's transaction: no action without its entry."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any

from sqlalchemy import select
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
        before=json.loads(json.dumps(_plain(before))) if before is not None else None,
        after=json.loads(json.dumps(_plain(after))) if after is not None else None,
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
