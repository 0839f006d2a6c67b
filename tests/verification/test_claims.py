"""Scratch-off claims on the stamp page: the first claim, a copy exposed, wrong codes, limits, append-only."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Any

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from traceability.stamps import batches, scratch
from traceability.stamps.batches import BatchOptions
from traceability.stamps.models import Batch, RangeState
from traceability.verification.claims import ScratchClaim, ScratchFailure

BASE = "https://ocop.example.vn"
HOME = {"REMOTE_ADDR": "203.0.113.5"}
ELSEWHERE = {"REMOTE_ADDR": "198.51.100.9"}


@dataclass
class Scratched:
    batch: Batch
    private_key: Any

    def path(self, sequence: int) -> str:
        stamp = next(batches.stamps(self.batch, self.private_key, BASE, sequence, sequence + 1))
        return stamp.url.removeprefix(BASE)

    def token(self, sequence: int) -> str:
        return self.path(sequence).removeprefix("/v/")

    def code(self, sequence: int) -> str:
        assert self.batch.secret is not None
        return scratch.printed(scratch.scratch_code(self.batch.secret, sequence))


@pytest.fixture
def scratched(session: Session, store: Any, signing_key: Any, factory: Any) -> Scratched:
    """Return a scratch-off batch of 10 stamps, 0..4 activated."""
    product = factory.product("NT-SP01", producer=factory.producer("NT-P01"), stars=4)
    batch = batches.issue_direct(
        session, store, product, 10, BatchOptions(scratch_off=True), actor="test", maximum=100, today=date.today()
    )
    batches.change_range(session, batch, 0, 5, RangeState.ACTIVATED, actor="test")
    session.commit()
    return Scratched(batch, store.load(signing_key.id))


def claim(client: Any, scratched: Scratched, sequence: int, code: str, env: dict[str, str], **extra: str) -> Any:
    """Open the stamp's page and post its claim form, as a shopper without JavaScript would."""
    page = client.get(scratched.path(sequence), environ_base=env, headers={"Accept-Language": "en"})
    form = page.get_data(as_text=True).split('id="claim"')[1]
    fields = dict(re.findall(r'<input type="hidden" name="([a-z_]+)" value="([^"]*)"', form))
    data = {**fields, "scratch_code": code, **extra}
    return client.post("/claim", data=data, environ_base=env, headers={"Accept-Language": "en"})


def headline(html: str) -> str:
    found = re.search(r'<section class="verdict v-([a-z_]+)"', html)
    assert found is not None
    return found.group(1)


def test_the_first_claim_is_the_buyers_and_a_second_exposes_the_copy(
    client: Any, scratched: Scratched, session: Session
) -> None:
    first = claim(client, scratched, 0, scratched.code(0).lower(), HOME, province="01")
    html = first.get_data(as_text=True)
    assert first.status_code == 200 and headline(html) == "genuine"
    assert "this stamp is genuine and is now claimed by you" in html
    # The same buyer again (a reload): no copy.
    again = claim(client, scratched, 0, scratched.code(0), HOME).get_data(as_text=True)
    assert headline(again) == "genuine" and "claimed from your network" in again
    # Someone else holds a label with the same code: exposed, with when and where it was claimed first.
    copy = claim(client, scratched, 0, scratched.code(0), ELSEWHERE, province="79")
    html = copy.get_data(as_text=True)
    assert copy.status_code == 200 and headline(html) == "suspicious"
    assert re.search(r"This code was already claimed on \d\d:\d\d \d\d/\d\d/\d{4} \(Hà Nội\)", html)
    assert 'id="report"' in html
    # From now on every shopper is told: a code claimed twice is strong evidence, not a scan pattern.
    later = client.get(scratched.path(0), headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert headline(later) == "suspicious" and "scratch-off code was claimed on" in later
    body = client.get("/api/v1/verify", query_string={"code": BASE + scratched.path(0)}).get_json()
    assert body["verdict"] == "suspicious" and body["scratch_off"]["first_claim_province"] == "01"
    assert session.scalar(select(func.count(ScratchClaim.id))) == 2


def test_a_wrong_code_says_so_and_reveals_nothing(client: Any, scratched: Scratched, session: Session) -> None:
    wrong = "00000-00000" if scratched.code(1) != "00000-00000" else "11111-11111"
    response = claim(client, scratched, 1, wrong, HOME)
    html = response.get_data(as_text=True)
    assert response.status_code == 422 and "This is not the code under this stamp" in html
    assert headline(html) == "genuine"
    for sequence in range(10):
        assert scratched.code(sequence) not in html and scratched.code(sequence).replace("-", "") not in html
    assert session.scalar(select(func.count(ScratchFailure.id))) == 1
    malformed = claim(client, scratched, 1, "hello", HOME)
    assert malformed.status_code == 422 and "10 letters and digits" in malformed.get_data(as_text=True)


def test_a_stamp_takes_ten_wrong_codes_a_day(app: Any, client: Any, scratched: Scratched) -> None:
    wrong = "00000-00000" if scratched.code(2) != "00000-00000" else "11111-11111"
    for n in range(10):
        assert claim(client, scratched, 2, wrong, {"REMOTE_ADDR": f"10.0.{n}.1"}).status_code == 422
    locked = claim(client, scratched, 2, scratched.code(2), HOME)  # even the right code, from anyone
    assert locked.status_code == 429 and "too many wrong codes" in locked.get_data(as_text=True).lower()
    assert claim(client, scratched, 3, scratched.code(3), HOME).status_code == 200  # other stamps are free


def test_only_genuine_activated_scratch_off_stamps_take_claims(
    client: Any, scratched: Scratched, issued: Any, session: Session
) -> None:
    not_activated = client.get(scratched.path(7)).get_data(as_text=True)
    assert 'id="claim"' not in not_activated
    plain = client.get(issued.url(0).removeprefix(BASE)).get_data(as_text=True)
    assert 'id="claim"' not in plain
    token = re.search(r'name="csrf_token" value="([^"]+)"', plain)
    assert token is not None
    for code in (scratched.token(7), issued.url(0)):
        data = {"csrf_token": token.group(1), "code": code, "scratch_code": "00000-00000"}
        assert client.post("/claim", data=data).status_code == 422
    assert session.scalar(select(func.count(ScratchFailure.id))) == 0


def test_claims_are_rate_limited_per_client(app_config: dict[str, Any], scratched: Scratched) -> None:
    from traceability import create_app

    limited = create_app({**app_config, "RATELIMIT_ENABLED": True, "RATELIMIT_CLAIM": "2 per minute"})
    client = limited.test_client()
    statuses = [claim(client, scratched, n, "00000-00000", HOME).status_code for n in range(3)]
    assert statuses[:2] != [429, 429] and statuses[2] == 429
    assert claim(client, scratched, 3, scratched.code(3), ELSEWHERE).status_code == 200  # another client
    limited.extensions["db_engine"].dispose()


def test_claims_need_the_forms_csrf_token(client: Any, scratched: Scratched) -> None:
    data = {"code": scratched.token(0), "scratch_code": scratched.code(0)}
    assert client.post("/claim", data=data).status_code == 400


def test_the_claim_form_is_in_vietnamese_too(client: Any, scratched: Scratched) -> None:
    html = client.get(scratched.path(0)).get_data(as_text=True)
    claim_box = html.split('id="claim"')[1].split("</section>")[0]
    assert "Cào lớp phủ" in claim_box and "Scratch" not in claim_box


def test_claims_are_append_only(client: Any, scratched: Scratched, session: Session) -> None:
    claim(client, scratched, 0, scratched.code(0), HOME)
    claim(client, scratched, 1, "00000-00000" if scratched.code(1) != "00000-00000" else "11111-11111", HOME)
    for statement in (
        "UPDATE scratch_claims SET province_code = '79'",
        "DELETE FROM scratch_claims",
        "UPDATE scratch_failures SET sequence = 5",
        "DELETE FROM scratch_failures",
    ):
        with pytest.raises(DBAPIError, match="append-only"):
            session.execute(text(statement))
        session.rollback()
    assert session.scalar(select(func.count(ScratchClaim.id))) == 1


def test_nothing_public_shows_a_code(client: Any, scratched: Scratched) -> None:
    codes = [scratched.code(n) for n in range(10)]
    seen = client.get(scratched.path(0)).get_data(as_text=True)
    seen += client.get("/api/v1/verify", query_string={"code": BASE + scratched.path(0)}).get_data(as_text=True)
    for code in codes:
        assert code not in seen and code.replace("-", "") not in seen
