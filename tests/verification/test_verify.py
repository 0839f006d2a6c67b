"""Verdicts online (registry) and offline (published keys only)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from traceability.ledger import services as ledger_services
from traceability.ledger.snapshot import open_export
from traceability.registry.services import set_certification_status
from traceability.stamps import batches, codec, keys
from traceability.stamps.batches import BatchOptions
from traceability.stamps.models import RangeState
from traceability.stamps.signing import jwks, keyring_from_jwks, sign_body
from traceability.verification.services import verify_code
from traceability.verification.verdicts import Verdict, check_offline

TODAY = date.today()
BASE = "https://ocop.gov.vn"


@pytest.fixture
def issued(session: Any, store: Any, signing_key: Any, factory: Any) -> Any:
    product = factory.product(stars=4)
    batch = batches.issue_direct(session, store, product, 20, BatchOptions(), actor="t", maximum=100, today=TODAY)
    batches.change_range(session, batch, 0, 10, RangeState.ACTIVATED, actor="t")
    session.commit()
    return batch, list(batches.stamps(batch, store.load(signing_key.id), BASE))


def verdicts(session: Any, url: str, day: date = TODAY) -> list[str]:
    return [f.value for f in verify_code(session, url, day).outcome.flags]


def test_verdicts_follow_the_registry(session: Any, issued: Any) -> None:
    batch, stamps = issued
    assert verdicts(session, stamps[0].url) == ["genuine"]
    assert verdicts(session, stamps[15].url) == ["not_activated"]
    batches.change_range(session, batch, 3, 4, RangeState.VOIDED, actor="t")
    assert verdicts(session, stamps[3].url) == ["revoked"]
    set_certification_status(session, batch.certification, "revoked", "food safety breach")
    assert verdicts(session, stamps[15].url) == ["certificate_expired", "not_activated"]
    batches.revoke(session, batch, actor="t", reason="recall")
    assert verdicts(session, stamps[0].url)[0] == "revoked"


def test_genuine_result_carries_the_registry_records(session: Any, issued: Any) -> None:
    batch, stamps = issued
    result = verify_code(session, stamps[1].token, TODAY)
    assert result.verdict is Verdict.GENUINE
    assert result.product is not None and result.product.id == batch.product_id
    assert result.certification is not None and result.certification.stars == 4


def test_expiry_online_and_offline(session: Any, issued: Any) -> None:
    batch, stamps = issued
    assert batch.certification is not None
    later = batch.certification.valid_until + timedelta(days=1)
    assert verdicts(session, stamps[0].url, later) == ["certificate_expired"]
    ring = keys.keyring(session)
    assert check_offline(stamps[0].url, ring, later).verdict is Verdict.CERTIFICATE_EXPIRED
    assert check_offline(stamps[0].url, ring, TODAY).verdict is Verdict.GENUINE


def test_signed_but_never_issued_is_forged(session: Any, store: Any, issued: Any, signing_key: Any) -> None:
    _batch, stamps = issued
    body = codec.parse(stamps[0].url).body
    private = store.load(signing_key.id)
    beyond = codec.StampBody(**{**{n: getattr(body, n) for n in codec.StampBody.__slots__}, "sequence": 20})
    outcome = verify_code(session, sign_body(private, beyond), TODAY).outcome
    assert outcome.verdict is Verdict.FORGED and not outcome.trusted


def test_forged_malformed_unknown_key(session: Any, issued: Any) -> None:
    _batch, stamps = issued
    body = codec.parse(stamps[0].url).body
    assert verdicts(session, sign_body(Ed25519PrivateKey.generate(), body)) == ["forged"]
    stranger = codec.StampBody(**{**{n: getattr(body, n) for n in codec.StampBody.__slots__}, "key_id": 999})
    assert verdicts(session, sign_body(Ed25519PrivateKey.generate(), stranger)) == ["unknown_key"]
    last = stamps[0].url[-1]
    assert verdicts(session, stamps[0].url[:-1] + ("1" if last != "1" else "2")) in (
        ["forged"],
        ["malformed"],
    )
    assert verdicts(session, "<script>alert(1)</script>") == ["malformed"]


def test_offline_keyring_from_exported_jwks(session: Any, issued: Any, signing_key: Any) -> None:
    _batch, stamps = issued
    document = jwks(keys.keyring(session).values())
    assert document["keys"][0] | {"x": "…"} == {
        "kty": "OKP",
        "crv": "Ed25519",
        "x": "…",
        "kid": str(signing_key.id),
        "use": "sig",
        "alg": "EdDSA",
        "ocop_use": "stamp",
        "ocop_status": "active",
    }
    ring = keyring_from_jwks(document)
    assert all(check_offline(s.url, ring, TODAY).verdict is Verdict.GENUINE for s in stamps)


def test_compromised_key_offline(session: Any, store: Any, issued: Any, signing_key: Any, factory: Any) -> None:
    batch, stamps = issued
    cut = datetime.now(UTC)
    later = batches.issue_direct(session, store, batch.product, 5, BatchOptions(), actor="t", maximum=100, today=TODAY)
    session.commit()
    late_stamp = next(batches.stamps(later, store.load(signing_key.id), BASE))
    keys.mark_compromised(session, signing_key.id, cut, "leak")
    session.commit()
    ring = keyring_from_jwks(jwks(keys.keyring(session).values()))
    publication = [k.public_key for k in keys.keyring(session).values() if k.purpose == "publication"]
    ledger = open_export(ledger_services.export(session), publication)
    assert check_offline(stamps[0].url, ring, TODAY, ledger=ledger).verdict is Verdict.GENUINE
    assert check_offline(late_stamp.url, ring, TODAY, ledger=ledger).verdict is Verdict.REVOKED
    # Without the ledger no stamp of a compromised key can be dated: none is trusted.
    assert check_offline(stamps[0].url, ring, TODAY).verdict is Verdict.REVOKED
    assert verdicts(session, late_stamp.url)[0] == "revoked"
    assert verdicts(session, stamps[0].url) == ["genuine"]


@pytest.mark.parametrize(
    ("member", "value", "message"),
    [
        ("ocop_compromised_at", "yesterday", "unreadable"),
        ("kid", "²", "kid '²'"),  # str.isdigit() says yes, int() raises: once a traceback
        ("kid", "٣", "kid '٣'"),  # int() reads 3: a key id has one spelling
    ],
)
def test_jwks_with_bad_compromise_members_is_refused(member: str, value: str, message: str) -> None:
    from traceability.stamps.signing import JWKSError, TrustedKey

    document = jwks([TrustedKey(3, Ed25519PrivateKey.generate().public_key(), "compromised")])
    document["keys"][0][member] = value
    with pytest.raises(JWKSError, match=message):
        keyring_from_jwks(document)


def test_a_publication_key_never_vouches_for_a_stamp(
    session: Any, store: Any, issued: Any, signing_key: Any, publication_key: Any
) -> None:
    _batch, stamps = issued
    body = codec.parse(stamps[0].url).body
    private = store.load(publication_key.id, "publication")
    fields = {n: getattr(body, n) for n in codec.StampBody.__slots__}
    as_itself = sign_body(private, codec.StampBody(**{**fields, "key_id": publication_key.id}))
    as_stamp_key = sign_body(private, body)
    document = jwks(keys.keyring(session).values())
    assert [(k["kid"], k["ocop_use"]) for k in document["keys"]] == [
        (str(signing_key.id), "stamp"),
        (str(publication_key.id), "publication"),
    ]
    ring = keyring_from_jwks(document)
    assert list(ring) == [signing_key.id]
    assert list(keyring_from_jwks(document, purpose="publication")) == [publication_key.id]
    assert check_offline(as_itself, ring, TODAY).verdict is Verdict.UNKNOWN_KEY
    assert check_offline(as_stamp_key, ring, TODAY).verdict is Verdict.FORGED
    # Online, and with a key ring that holds both kinds of key, the same.
    assert check_offline(as_itself, keys.keyring(session), TODAY).verdict is Verdict.UNKNOWN_KEY
    assert verdicts(session, as_itself) == ["unknown_key"]
    assert verdicts(session, as_stamp_key) == ["forged"]


def test_jwks_without_ocop_use_reads_as_stamp_keys_and_an_unknown_use_is_refused() -> None:
    from traceability.stamps.signing import JWKSError, TrustedKey

    document = jwks([TrustedKey(3, Ed25519PrivateKey.generate().public_key())])
    del document["keys"][0]["ocop_use"]  # exported before publication keys existed
    assert list(keyring_from_jwks(document)) == [3] and keyring_from_jwks(document, purpose="publication") == {}
    document["keys"][0]["ocop_use"] = "anything"
    with pytest.raises(JWKSError, match="ocop_use"):
        keyring_from_jwks(document)
