"""The kinds of mutation benchmarks/mutations.py makes from genuine stamps (see its docstring)."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from traceability.ledger.snapshot import LedgerSnapshot
from traceability.stamps import codec
from traceability.stamps.signing import KeyRing, sign_body
from traceability.verification.trustlist import Revocations

LIMIT_KIND = "limit: nonce only"
LOOKALIKE_DIGITS = [
    "０１２３４５６７８９",  # fullwidth
    "٠١٢٣٤٥٦٧٨٩",  # Arabic-Indic
    "۰۱۲۳۴۵۶۷۸۹",  # extended Arabic-Indic
    "𝟎𝟏𝟐𝟑𝟒𝟓𝟔𝟕𝟖𝟗",  # mathematical bold
    "⁰¹²³⁴⁵⁶⁷⁸⁹",  # superscripts
    "०१२३४५६७८९",  # Devanagari
    "OlZEhSbTBg",  # Latin letters that pass for digits
]
PREFIX_SWAPS = [
    ("http://", "https://"),
    ("http://", "HTTP://"),
    ("http://", "http:/"),
    ("http://", "http:\\\\"),
    ("127.0.0.1", "127.0.0.1."),
    ("127.0.0.1", "127.0.0.l"),
    ("127.0.0.1", "１２７.0.0.1"),
    ("127.0.0.1", "127\u30020.0.1"),
    ("/v/", "/V/"),
    ("/v/", "/v//"),
    ("/v/", "/ѵ/"),
    ("/v/", "／v／"),
    ("/v/", "/v/?"),
]
INSIDE = [" ", "\t", "\n", "\u00a0", "\u200b", "\u200c", "\u2060", "\ufeff", "\u202e", "\u3000", "-", "+"]
AROUND = ["\u200b", "\ufeff", "\u2060", "\u200e", "\u00ad"]  # not whitespace to str.strip(): a different code


@dataclass
class Setup:
    base: str
    urls: list[str]  # genuine stamps of the batches issued before the compromise
    later: list[str]  # genuine stamps of the batch the replacement key signed after it
    stolen: Any
    ring: KeyRing
    bundle: Revocations
    ledger: LedgerSnapshot
    products: list[int]


# --- mutations ------------------------------------------------------------------------------------------


def _token_and_prefix(url: str) -> tuple[str, str]:
    prefix, _, token = url.rpartition("/v/")
    return prefix + "/v/", token


def _digits(rng: random.Random, length: int) -> str:
    return "".join(rng.choice("0123456789") for _ in range(length))


def _flip(rng: random.Random, token: str, flips: int) -> str:
    chars = list(token)
    for position in rng.sample(range(len(chars)), flips):
        chars[position] = rng.choice([d for d in "0123456789" if d != chars[position]])
    return "".join(chars)


def _resign(setup: Setup, rng: random.Random, url: str, **changes: int) -> str:
    body = replace(codec.parse(url).body, **changes)
    return setup.base + "/v/" + sign_body(setup.stolen, body)


def _other(rng: random.Random, values: list[int], avoid: int, low: int, high: int) -> int:
    choice = rng.choice([*values, rng.randint(low, high)])
    return choice if choice != avoid else (avoid % high) + 1


def mutators(setup: Setup) -> dict[str, Callable[[random.Random], str]]:
    """Return each kind of mutation as a function of a random generator."""

    def pick(rng: random.Random) -> tuple[str, str, str]:
        url = rng.choice(setup.urls)
        prefix, token = _token_and_prefix(url)
        return url, prefix, token

    def body_of(url: str) -> codec.StampBody:
        return codec.parse(url).body

    def entry_count(url: str) -> int:
        entry = setup.ledger.entry(body_of(url).batch_id)
        return entry.stamp_count if entry else 1

    def flip(rng: random.Random) -> str:
        _url, prefix, token = pick(rng)
        return prefix + _flip(rng, token, 1)

    def multi_flip(rng: random.Random) -> str:
        _url, prefix, token = pick(rng)
        return prefix + _flip(rng, token, rng.randint(2, 12))

    def truncate(rng: random.Random) -> str:
        url, prefix, token = pick(rng)
        cut = rng.randint(1, 40)
        return rng.choice([prefix + token[:-cut], prefix + token[cut:], url[: -cut - 193], token[:-cut]])

    def extend(rng: random.Random) -> str:
        _url, prefix, token = pick(rng)
        more = _digits(rng, rng.randint(1, 40))
        return rng.choice([prefix + token + more, prefix + more + token, prefix + token + "/" + more])

    def splice(rng: random.Random) -> str:
        (_a, prefix, first), (_b, _p, second) = pick(rng), pick(rng)
        while second == first:
            second = pick(rng)[2]
        cut = rng.randint(1, len(first) - 1)
        return prefix + first[:cut] + second[cut:]

    def resign_sequence(rng: random.Random) -> str:
        url = rng.choice(setup.urls)
        return _resign(setup, rng, url, sequence=rng.randint(entry_count(url), 0xFFFFFF))

    def resign_product(rng: random.Random) -> str:
        url = rng.choice(setup.urls)
        return _resign(setup, rng, url, product_ref=_other(rng, setup.products, body_of(url).product_ref, 1, 0xFFFFFF))

    def resign_stars(rng: random.Random) -> str:
        url = rng.choice(setup.urls)
        stars = rng.choice([s for s in (3, 4, 5) if s != body_of(url).stars])
        return _resign(setup, rng, url, stars=stars, sequence=rng.randrange(entry_count(url)))

    def resign_valid_until(rng: random.Random) -> str:
        url = rng.choice(setup.urls)
        month = body_of(url).valid_until_month + rng.choice([-24, -1, 1, 12, 120])
        return _resign(setup, rng, url, valid_until_month=month, sequence=rng.randrange(entry_count(url)))

    def resign_batch(rng: random.Random) -> str:
        url = rng.choice(setup.urls)
        issued = list(setup.ledger.entries)
        after = body_of(rng.choice(setup.later)).batch_id  # issued after the compromise, by the new key
        batch = rng.choice([after, max(issued) + rng.randint(1, 1000), rng.randint(1, 0xFFFFFFFF)])
        batch = batch if batch != body_of(url).batch_id else max(issued) + 1
        return _resign(setup, rng, url, batch_id=batch, sequence=rng.randrange(40))

    def foreign_key(rng: random.Random) -> str:
        body = replace(body_of(rng.choice(setup.urls)), key_id=rng.choice([1, 2, 3, 77]))
        return setup.base + "/v/" + sign_body(Ed25519PrivateKey.generate(), body)

    def lookalike_digits(rng: random.Random) -> str:
        _url, prefix, token = pick(rng)
        chars, alphabet = list(token), rng.choice(LOOKALIKE_DIGITS)
        for position in rng.sample(range(len(chars)), rng.randint(1, 5)):
            digit = int(chars[position])
            chars[position] = alphabet[digit] if alphabet[digit] != chars[position] else "０"
        return rng.choice([prefix, ""]) + "".join(chars)

    def lookalike_prefix(rng: random.Random) -> str:
        url = rng.choice(setup.urls)
        old, new = rng.choice(PREFIX_SWAPS)
        return url.replace(old, new, 1) if old in url else url.replace("/v/", "/v/\u200b", 1)

    def whitespace(rng: random.Random) -> str:
        url, _prefix, _token = pick(rng)
        if rng.random() < 0.3:
            mark = rng.choice(AROUND)
            return rng.choice([mark + url, url + mark, mark + url + mark])
        position = (
            rng.randint(url.index("/v/") + 3, len(url) - 1) if rng.random() < 0.8 else rng.randint(1, len(url) - 1)
        )
        return url[:position] + rng.choice(INSIDE) + url[position:]

    def nonce_only(rng: random.Random) -> str:
        url = rng.choice(setup.urls)
        return _resign(setup, rng, url, nonce=(body_of(url).nonce + rng.randint(1, 255)) % 256)

    kinds: dict[str, Callable[[random.Random], str]] = {
        "digit flip (1)": flip,
        "digit flips (2-12)": multi_flip,
        "truncation": truncate,
        "extension": extend,
        "splice of two stamps": splice,
        "stolen key: sequence beyond": resign_sequence,
        "stolen key: other product": resign_product,
        "stolen key: other stars": resign_stars,
        "stolen key: other month": resign_valid_until,
        "stolen key: other batch": resign_batch,
        "another key's signature": foreign_key,
        "look-alike digits": lookalike_digits,
        "look-alike prefix": lookalike_prefix,
        "whitespace/invisible": whitespace,
    }
    kinds[LIMIT_KIND] = nonce_only
    return kinds


def generate(setup: Setup, count: int, seed: int) -> list[tuple[str, str]]:
    """Return `count` (kind, code) pairs in equal shares of the kinds, none a genuine code, plus the limit row
    (a small share apart)."""
    rng = random.Random(seed)
    kinds = mutators(setup)
    counted = [k for k in kinds if k != LIMIT_KIND]
    share, extra = divmod(count, len(counted))
    genuine = set(setup.urls) | set(setup.later)
    codes: list[tuple[str, str]] = []
    for n, kind in enumerate(counted):
        made = 0
        while made < share + (n < extra):
            code = kinds[kind](rng)
            if code not in genuine:  # a splice can cut where two stamps agree and give one back whole
                codes.append((kind, code))
                made += 1
    codes += [(LIMIT_KIND, kinds[LIMIT_KIND](rng)) for _ in range(min(1_000, max(count // 100, 1)))]
    return codes
