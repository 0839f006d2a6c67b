"""Signing-key lifecycle: generate, adopt, rotate, retire and mark compromised."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from traceability.db import utcnow
from traceability.errors import Conflict, NotFound, ValidationError
from traceability.stamps.keystore import KeyStore
from traceability.stamps.models import Batch, BatchStatus, KeyStatus, SigningKey
from traceability.stamps.signing import TrustedKey, raw_public_bytes


class NoActiveKey(Conflict):
    code = "no_active_key"


def list_keys(session: Session) -> Sequence[SigningKey]:
    """Return every key the service has ever had, oldest first."""
    return session.scalars(select(SigningKey).order_by(SigningKey.id)).all()


def key_or_404(session: Session, key_id: int) -> SigningKey:
    """Return the key with this id or raise NotFound."""
    key = session.get(SigningKey, key_id)
    if key is None:
        raise NotFound(f"there is no key {key_id}")
    return key


def active_key(session: Session) -> SigningKey:
    """Return the key that signs new batches."""
    key = session.scalar(select(SigningKey).where(SigningKey.status == KeyStatus.ACTIVE).order_by(SigningKey.id.desc()))
    if key is None:
        raise NoActiveKey("there is no active signing key: run 'traceability keys generate'")
    return key


def _next_key_id(session: Session, store: KeyStore) -> int:
    highest = max([session.scalar(select(func.max(SigningKey.id))) or 0, *store.ids()])
    if highest >= 0xFFFF:
        raise Conflict("all 65,535 key ids are used")
    return highest + 1


def generate_key(session: Session, store: KeyStore, *, note: str | None = None) -> SigningKey:
    """Create a key pair, store the private half, and make it the active key (retiring the old one)."""
    private_key = Ed25519PrivateKey.generate()
    key_id = _next_key_id(session, store)
    store.save(key_id, private_key)
    for old in session.scalars(select(SigningKey).where(SigningKey.status == KeyStatus.ACTIVE)):
        old.status, old.retired_at = KeyStatus.RETIRED, utcnow()
    key = SigningKey(
        id=key_id, public_key=raw_public_bytes(private_key.public_key()), status=KeyStatus.ACTIVE, note=note
    )
    session.add(key)
    session.flush()
    return key


def adopt_stored_keys(session: Session, store: KeyStore) -> list[SigningKey]:
    """Register private keys found in the store but not in the database (a fresh database, old keys/)."""
    adopted = []
    known = {k.id for k in list_keys(session)}
    for key_id in store.ids():
        if key_id in known:
            continue
        public = raw_public_bytes(store.load(key_id).public_key())
        key = SigningKey(id=key_id, public_key=public, status=KeyStatus.RETIRED, retired_at=utcnow())
        session.add(key)
        adopted.append(key)
    session.flush()
    if adopted and session.scalar(select(SigningKey).where(SigningKey.status == KeyStatus.ACTIVE)) is None:
        newest = max(adopted, key=lambda k: k.id)
        newest.status, newest.retired_at = KeyStatus.ACTIVE, None
    session.flush()
    return adopted


def retire_key(session: Session, key_id: int) -> SigningKey:
    """Stop signing with a key; its stamps stay valid, so its public half stays published."""
    key = key_or_404(session, key_id)
    if key.status is KeyStatus.COMPROMISED:
        raise Conflict(f"key {key_id} is marked compromised; it cannot be retired")
    key.status, key.retired_at = KeyStatus.RETIRED, key.retired_at or utcnow()
    session.flush()
    return key


def mark_compromised(session: Session, key_id: int, at: datetime, note: str) -> SigningKey:
    """Record that a key leaked at `at`: batches issued before stay trusted, later ones are flagged.

    The key is not deleted: deleting it would turn every genuine stamp it signed into 'unknown key'.
    """
    key = key_or_404(session, key_id)
    if at.tzinfo is None:
        raise ValidationError("give the compromise time with a time zone, e.g. 2026-05-01T08:00:00+07:00")
    if at > utcnow():
        raise ValidationError("the compromise time cannot be in the future")
    last_batch = session.scalar(
        select(func.max(Batch.id)).where(Batch.key_id == key_id, Batch.issued_at.is_not(None), Batch.issued_at < at)
    )
    key.status, key.compromised_at, key.last_trusted_batch_id = KeyStatus.COMPROMISED, at, last_batch
    key.note = note
    session.flush()
    return key


def compromise(
    session: Session, store: KeyStore, key_id: int, at: datetime, note: str
) -> tuple[SigningKey, SigningKey | None]:
    """Mark a key compromised; if it was the active key, make a new active key in the same transaction.

    Without a replacement, nothing could sign new batches, the trust list or the revocation bundle
    that tells offline verifiers about the compromise, just when they need it most.
    """
    was_active = key_or_404(session, key_id).status is KeyStatus.ACTIVE
    replacement = generate_key(session, store, note=f"replaces compromised key {key_id}") if was_active else None
    return mark_compromised(session, key_id, at, note), replacement


def issued_batches_count(session: Session, key_id: int) -> int:
    """Return how many batches a key has signed."""
    return (
        session.scalar(
            select(func.count(Batch.id)).where(Batch.key_id == key_id, Batch.status != BatchStatus.REQUESTED)
        )
        or 0
    )


def trusted_key(key: SigningKey) -> TrustedKey:
    """Return the verifier's view of a stored key."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    return TrustedKey(
        key_id=key.id,
        public_key=Ed25519PublicKey.from_public_bytes(key.public_key),
        status=key.status.value,
        compromised_at=key.compromised_at,
        last_trusted_batch_id=key.last_trusted_batch_id,
    )


def keyring(session: Session) -> dict[int, TrustedKey]:
    """Return every published key as a key ring."""
    return {key.id: trusted_key(key) for key in list_keys(session)}
