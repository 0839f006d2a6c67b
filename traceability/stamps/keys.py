"""Signing-key lifecycle: generate, adopt, rotate, retire and mark compromised."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from traceability.audit import services as audit
from traceability.db import utcnow
from traceability.errors import Conflict, NotFound, Term, ValidationError
from traceability.i18n import N_
from traceability.stamps.keystore import KeyStore
from traceability.stamps.models import Batch, BatchStatus, KeyPurpose, KeyStatus, SigningKey
from traceability.stamps.signing import TrustedKey, raw_public_bytes

# The names of key purposes, translated where an error names one (errors.Term).
PURPOSE_NAMES = (N_("stamp"), N_("publication"))


class NoActiveKey(Conflict):
    code = "no_active_key"


class NoPublicationKey(Conflict):
    code = "no_publication_key"


class KeyNotFound(NotFound):
    """No key has this id."""


class KeyCompromised(Conflict):
    """The key is marked compromised: it neither signs nor retires."""


class KeyIdsExhausted(Conflict):
    """Every key id a stamp can carry (1..65535) is taken."""


class KeyPurposeMismatch(Conflict):
    """A stored private key's purpose differs from the one the database records for its id."""


def snapshot(key: SigningKey) -> dict[str, Any]:
    """Return what the audit log and the `keys` commands show of a key (never the private half)."""
    return {
        "kid": key.id,
        "purpose": key.purpose.value,
        "status": key.status.value,
        "created_at": key.created_at.isoformat(),
        "retired_at": key.retired_at.isoformat() if key.retired_at else None,
        "compromised_at": key.compromised_at.isoformat() if key.compromised_at else None,
    }


def list_keys(session: Session) -> Sequence[SigningKey]:
    """Return every key the service has ever had, oldest first."""
    return session.scalars(select(SigningKey).order_by(SigningKey.id)).all()


def key_or_404(session: Session, key_id: int) -> SigningKey:
    """Return the key with this id or raise NotFound."""
    key = session.get(SigningKey, key_id)
    if key is None:
        raise KeyNotFound(N_("there is no key %(key)s"), params={"key": key_id})
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
        raise NoActiveKey(N_("there is no active signing key: run 'traceability keys generate'"))
    return key


def active_publication_key(session: Session) -> SigningKey:
    """Return the key that signs the trust list and the revocation bundle (never a stamp key)."""
    key = _active(session, KeyPurpose.PUBLICATION)
    if key is None:
        raise NoPublicationKey(
            N_(
                "there is no active publication key to sign the trust list and revocation bundle: "
                "run 'traceability keys generate --purpose publication'"
            )
        )
    return key


def _next_key_id(session: Session, store: KeyStore) -> int:
    stored = [key_id for purpose in KeyPurpose for key_id in store.ids(purpose.value)]
    highest = max([session.scalar(select(func.max(SigningKey.id))) or 0, *stored])
    if highest >= 0xFFFF:
        raise KeyIdsExhausted(N_("all 65,535 key ids are used"))
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


def rotate_key(
    session: Session, store: KeyStore, *, actor: str, note: str | None = None, purpose: KeyPurpose = KeyPurpose.STAMP
) -> SigningKey:
    """Make a new active key of a purpose, retiring the old one, and record who did it."""
    key = generate_key(session, store, note=note, purpose=purpose)
    audit.record(session, actor, "key.generate", f"key:{key.id}", after=snapshot(key))
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
                    raise KeyPurposeMismatch(
                        N_("key %(key)s is stored as a %(purpose)s key but registered as %(registered)s"),
                        params={"key": key_id, "purpose": Term(purpose.value), "registered": Term(known[key_id].value)},
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


def retire_key(session: Session, key_id: int, *, actor: str) -> SigningKey:
    """Stop signing with a key; its stamps stay valid, so its public half stays published."""
    key = key_or_404(session, key_id)
    if key.status is KeyStatus.COMPROMISED:
        raise KeyCompromised(N_("key %(key)s is marked compromised; it cannot be retired"), params={"key": key_id})
    before = snapshot(key)
    key.status, key.retired_at = KeyStatus.RETIRED, key.retired_at or utcnow()
    session.flush()
    audit.record(session, actor, "key.retire", f"key:{key_id}", before=before, after=snapshot(key))
    return key


def mark_compromised(session: Session, key_id: int, at: datetime, note: str) -> SigningKey:
    """Record that a key leaked at `at`: stamps of batches issued strictly before stay trusted, the rest read
    revoked.

    The boundary is the issue time the registry and the ledger record, never a batch number: batch ids are
    given when a batch is requested, and the thief writes whatever batch number he likes into a stamp. The key
    is not deleted: deleting it would turn every genuine stamp it signed into 'unknown key'.
    """
    key = key_or_404(session, key_id)
    if at.tzinfo is None:
        raise ValidationError(N_("give the compromise time with a time zone, e.g. 2026-05-01T08:00:00+07:00"))
    if at > utcnow():
        raise ValidationError(N_("the compromise time cannot be in the future"))
    # last_trusted_batch_id is no longer written (nor read): kept as a column only for rows written before.
    key.status, key.compromised_at, key.last_trusted_batch_id = KeyStatus.COMPROMISED, at, None
    key.note = note
    session.flush()
    return key


def trusted_batches_count(session: Session, key: SigningKey) -> int:
    """Return how many batches of a compromised key stay trusted (issued strictly before the compromise)."""
    if key.compromised_at is None:
        return 0
    return (
        session.scalar(
            select(func.count(Batch.id)).where(
                Batch.key_id == key.id, Batch.issued_at.is_not(None), Batch.issued_at < key.compromised_at
            )
        )
        or 0
    )


def compromise(
    session: Session, store: KeyStore, key_id: int, at: datetime, note: str, *, actor: str
) -> tuple[SigningKey, SigningKey | None]:
    """Mark a key compromised; if it was the active key of its purpose, make a new active key of that
    purpose in the same transaction.

    Without a replacement, nothing could sign new batches, the trust list or the revocation bundle
    that tells offline verifiers about the compromise, just when they need it most.
    """
    key = key_or_404(session, key_id)
    before = snapshot(key)
    replacement = (
        generate_key(session, store, note=f"replaces compromised key {key_id}", purpose=key.purpose)
        if key.status is KeyStatus.ACTIVE
        else None
    )
    key = mark_compromised(session, key_id, at, note)
    after = {**snapshot(key), "note": note, "replacement": replacement.id if replacement else None}
    audit.record(session, actor, "key.compromise", f"key:{key_id}", before=before, after=after)
    return key, replacement


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
    )


def keyring(session: Session) -> dict[int, TrustedKey]:
    """Return every published key as a key ring."""
    return {key.id: trusted_key(key) for key in list_keys(session)}
