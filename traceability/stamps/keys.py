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
from traceability.stamps.models import Batch, BatchStatus, KeyPurpose, KeyStatus, SigningKey
from traceability.stamps.signing import TrustedKey, raw_public_bytes


class NoActiveKey(Conflict):
    code = "no_active_key"


class NoPublicationKey(Conflict):
    code = "no_publication_key"


def list_keys(session: Session) -> Sequence[SigningKey]:
    """Return every key the service has ever had, oldest first."""
    return session.scalars(select(SigningKey).order_by(SigningKey.id)).all()


def key_or_404(session: Session, key_id: int) -> SigningKey:
    """Return the key with this id or raise NotFound."""
    key = session.get(SigningKey, key_id)
    if key is None:
        raise NotFound(f"there is no key {key_id}")
    return key


def _active(session: Session, purpose: KeyPurpose) -> SigningKey | None:
    return session.scalar(
        select(SigningKey)
        .where(SigningKey.status == KeyStatus.ACTIVE, SigningKey.purpose == purpose)
        .order_by(SigningKey.id.desc())
    )


def active_key(session: Session) -> SigningKey:
    """Return the stamp key that signs new batches (never a publication key)."""
    key = _active(session, KeyPurpose.STAMP)
    if key is None:
        raise NoActiveKey("there is no active signing key: run 'traceability keys generate'")
    return key


def active_publication_key(session: Session) -> SigningKey:
    """Return the key that signs the trust list and the revocation bundle (never a stamp key)."""
    key = _active(session, KeyPurpose.PUBLICATION)
    if key is None:
        raise NoPublicationKey(
            "there is no active publication key to sign the trust list and revocation bundle: "
            "run 'traceability keys generate --purpose publication'"
        )
    return key


def _next_key_id(session: Session, store: KeyStore) -> int:
    stored = [key_id for purpose in KeyPurpose for key_id in store.ids(purpose.value)]
    highest = max([session.scalar(select(func.max(SigningKey.id))) or 0, *stored])
    if highest >= 0xFFFF:
        raise Conflict("all 65,535 key ids are used")
    return highest + 1


def generate_key(
    session: Session, store: KeyStore, *, note: str | None = None, purpose: KeyPurpose = KeyPurpose.STAMP
) -> SigningKey:
    """Create a key pair, store the private half, and make it the active key of its purpose (retiring the
    old one of that purpose)."""
    private_key = Ed25519PrivateKey.generate()
    key_id = _next_key_id(session, store)
    store.save(key_id, private_key, purpose.value)
    active = select(SigningKey).where(SigningKey.status == KeyStatus.ACTIVE, SigningKey.purpose == purpose)
    for old in session.scalars(active):
        old.status, old.retired_at = KeyStatus.RETIRED, utcnow()
    key = SigningKey(
        id=key_id,
        public_key=raw_public_bytes(private_key.public_key()),
        status=KeyStatus.ACTIVE,
        purpose=purpose,
        note=note,
    )
    session.add(key)
    session.flush()
    return key


def adopt_stored_keys(session: Session, store: KeyStore) -> list[SigningKey]:
    """Register private keys found in the store but not in the database (a fresh database, old keys/)."""
    adopted: list[SigningKey] = []
    known = {k.id: k.purpose for k in list_keys(session)}
    for purpose in KeyPurpose:
        found = []
        for key_id in store.ids(purpose.value):
            if key_id in known:
                if known[key_id] is not purpose:
                    raise Conflict(
                        f"key {key_id} is stored as a {purpose.value} key but registered as {known[key_id].value}"
                    )
                continue
            public = raw_public_bytes(store.load(key_id, purpose.value).public_key())
            key = SigningKey(
                id=key_id, public_key=public, status=KeyStatus.RETIRED, purpose=purpose, retired_at=utcnow()
            )
            session.add(key)
            known[key_id] = purpose
            found.append(key)
        session.flush()
        if found and _active(session, purpose) is None:
            newest = max(found, key=lambda k: k.id)
            newest.status, newest.retired_at = KeyStatus.ACTIVE, None
        adopted.extend(found)
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
    """Mark a key compromised; if it was the active key of its purpose, make a new active key of that
    purpose in the same transaction.

    Without a replacement, nothing could sign new batches, the trust list or the revocation bundle
    that tells offline verifiers about the compromise, just when they need it most.
    """
    key = key_or_404(session, key_id)
    replacement = (
        generate_key(session, store, note=f"replaces compromised key {key_id}", purpose=key.purpose)
        if key.status is KeyStatus.ACTIVE
        else None
    )
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
        purpose=key.purpose.value,
        compromised_at=key.compromised_at,
        last_trusted_batch_id=key.last_trusted_batch_id,
    )


def keyring(session: Session) -> dict[int, TrustedKey]:
    """Return every published key as a key ring."""
    return {key.id: trusted_key(key) for key in list_keys(session)}
