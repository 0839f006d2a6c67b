"""The offline kit: what an inspector's offline checker holds (the published keys and the signed revocation bundle)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from traceability.errors import DomainError
from traceability.stamps.keys import list_keys
from traceability.stamps.keystore import KeyStore
from traceability.stamps.models import SigningKey
from traceability.verification import publication


@dataclass(frozen=True)
class OfflineKit:
    keys: Sequence[SigningKey]
    bundle: dict[str, Any] | None  # the payload of the current revocation bundle; None without a signing key
    problem: str | None


def offline_kit(session: Session, store: KeyStore, now: datetime, today: date, max_age: timedelta) -> OfflineKit:
    """Return the published keys and what the current signed revocation bundle holds."""
    keys = list_keys(session)
    try:
        document = publication.revocations(session, store, now, today, max_age)
    except DomainError as error:
        return OfflineKit(keys, None, error.localized())
    return OfflineKit(keys, document["payload"], None)
