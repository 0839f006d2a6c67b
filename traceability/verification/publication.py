"""What the service publishes for offline verifiers: the signed trust list and revocation bundle."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from traceability.ledger import services as ledger
from traceability.registry.models import Product
from traceability.registry.services import current_certification
from traceability.stamps import ledger_entries
from traceability.stamps.keys import active_publication_key, list_keys, trusted_key
from traceability.stamps.keystore import KeyStore
from traceability.stamps.models import Batch, BatchStatus, KeyStatus, RangeState, StampRange
from traceability.stamps.signing import jwk
from traceability.verification import trustlist


def _sign(session: Session, store: KeyStore, context: bytes, payload: dict[str, Any]) -> dict[str, Any]:
    """Sign with the active publication key; raise NoPublicationKey if there is none (never a stamp key)."""
    key = active_publication_key(session)
    return trustlist.sign_document(store.load(key.id, key.purpose.value), key.id, context, payload)


def trust_list(
    session: Session, store: KeyStore, issuer: str, now: datetime, ledger_origin: str | None = None
) -> dict[str, Any]:
    """Return the signed list of every key (stamp and publication) with its purpose, validity window and
    status, and the ledger's origin and verifier keys (checkpoints are signed by publication keys)."""
    keys = []
    for key in list_keys(session):
        entry = jwk(trusted_key(key))
        keys.append(
            {
                "kid": str(key.id),
                "x": entry["x"],
                "purpose": key.purpose.value,
                "status": key.status.value,
                "valid_from": trustlist.timestamp(key.created_at),
                "valid_to": trustlist.timestamp(key.retired_at) if key.retired_at else None,
                "compromised_at": trustlist.timestamp_ms(key.compromised_at) if key.compromised_at else None,
            }
        )
    payload = trustlist.trust_list_payload(keys, issuer, now)
    origin = ledger.log_origin(session, ledger_origin or ledger.default_origin(issuer))
    payload["ledger"] = {"origin": origin, "verifier_keys": ledger_entries.verifier_keys(session, origin)}
    return _sign(session, store, trustlist.TRUST_LIST_CONTEXT, payload)


def _not_activated_ranges(session: Session) -> list[dict[str, int]]:
    """Return the issued and printed (never activated) ranges of live batches, adjacent ones merged."""
    merged: list[dict[str, int]] = []
    rows = session.execute(
        select(StampRange.batch_id, StampRange.start, StampRange.end)
        .join(Batch)
        .where(StampRange.state.in_([RangeState.ISSUED, RangeState.PRINTED]), Batch.status == BatchStatus.ISSUED)
        .order_by(StampRange.batch_id, StampRange.start)
    )
    for batch_id, start, end in rows:
        last = merged[-1] if merged else None
        if last is not None and last["batch"] == batch_id and last["end"] == start:
            last["end"] = end
        else:
            merged.append({"batch": batch_id, "start": start, "end": end})
    return merged


def revocations(session: Session, store: KeyStore, now: datetime, today: date, max_age: timedelta) -> dict[str, Any]:
    """Return the signed revocation bundle: compromised keys, withdrawn batches, products, revoked or voided
    stamp ranges, and the ranges not activated yet (so offline checks do not call those genuine)."""
    compromised = [
        {
            "kid": str(key.id),
            # No "last_trusted_batch": the compromise time and the ledger's issue times decide trust.
            "compromised_at": trustlist.timestamp_ms(key.compromised_at) if key.compromised_at else None,
        }
        for key in list_keys(session)
        if key.status is KeyStatus.COMPROMISED
    ]
    revoked_batches = list(session.scalars(select(Batch.id).where(Batch.status == BatchStatus.REVOKED)))
    stamped = session.scalars(
        select(Product)
        .where(Product.id.in_(select(Batch.product_id).where(Batch.status == BatchStatus.ISSUED)))
        .options(selectinload(Product.certifications))
    )
    uncertified = [product.id for product in stamped if current_certification(product, today) is None]
    ranges = [
        {"batch": batch_id, "start": start, "end": end}
        for batch_id, start, end in session.execute(
            select(StampRange.batch_id, StampRange.start, StampRange.end)
            .join(Batch)
            .where(
                StampRange.state.in_([RangeState.REVOKED, RangeState.VOIDED]),
                Batch.status != BatchStatus.REVOKED,
            )
        )
    ]
    payload = trustlist.revocations_payload(
        issued_at=now,
        max_age=max_age,
        keys=compromised,
        batches=revoked_batches,
        products=uncertified,
        ranges=ranges,
        not_activated=_not_activated_ranges(session),
    )
    # The whole ledger, so an offline verifier can check a batch's entry without the network (None: empty).
    payload["ledger"] = ledger.export(session) if ledger.latest_checkpoint(session) is not None else None
    return _sign(session, store, trustlist.REVOCATIONS_CONTEXT, payload)
