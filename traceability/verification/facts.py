"""What every verification reads and the office rarely changes, kept per process for a bounded time.

The key ring and a product's registry facts (product, producer, raw-material areas, certifications) are the
same for thousands of look-ups in a row, so each worker process keeps them for VERIFY_CACHE_SECONDS (0: not
at all). That is the staleness bound for a change made in *another* process (another web worker, the CLI): a
key marked compromised or a certificate revoked there reads as such here within that many seconds. A change
committed through a session of *this* process drops the cache at once (the listeners at the bottom), so the
worker that served the office's edit, and every test, sees it immediately.

What must never be stale is not cached: the batch, the state of the stamp's range, scans and claims are read
fresh by every verification (services.read_stamp), in one statement.

Cached records are detached ORM objects loaded with everything the page and the API read and `raiseload` on
the rest, so a template that reached for something else would fail loudly instead of querying.
"""

from __future__ import annotations

import threading
import time
import weakref
from collections.abc import Callable
from typing import Any, TypeVar

from sqlalchemy import Select, event, inspect, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import ORMExecuteState, Session, UOWTransaction, joinedload, raiseload, selectinload

from traceability.registry.models import Product
from traceability.registry.photos import ShownPhoto, approved_photo
from traceability.stamps.keys import keyring
from traceability.stamps.signing import TrustedKey

T = TypeVar("T")

# Tables whose rows are cached here (or feed what is): a committed write to any of them drops the cache.
WATCHED_TABLES = frozenset(
    {
        "signing_keys",
        "products",
        "producers",
        "material_areas",
        "certifications",
        "product_areas",
        "area_producers",
        "product_photos",
    }
)
MAX_ENTRIES = 10_000  # products a worker keeps at once; past it the cache starts again empty
_STALE = "verify_facts_stale"  # session.info flag: this transaction wrote a watched table


class FactCache:
    """Values by key, each kept `seconds` from loading; `invalidate` drops them all."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.generation = 0
        self._entries: dict[Any, tuple[float, Any]] = {}
        self._lock = threading.Lock()

    def get(self, key: Any, load: Callable[[], T]) -> T:
        """Return the kept value for `key`, or load it (and keep it unless the cache was dropped meanwhile)."""
        if self.seconds <= 0:
            return load()
        now = time.monotonic()
        found = self._entries.get(key)
        if found is not None and found[0] > now:
            value: T = found[1]
            return value
        generation = self.generation
        value = load()
        with self._lock:
            # A commit that dropped the cache while we read may have changed what we read: keep nothing then.
            if generation == self.generation:
                if len(self._entries) >= MAX_ENTRIES:
                    self._entries.clear()
                self._entries[key] = (now + self.seconds, value)
        return value

    def invalidate(self) -> None:
        """Drop every kept value."""
        with self._lock:
            self.generation += 1
            self._entries.clear()


_caches: weakref.WeakKeyDictionary[Engine, FactCache] = weakref.WeakKeyDictionary()


def configure(engine: Engine, seconds: float) -> None:
    """Keep verification facts read through `engine` for `seconds` (0: read them every time)."""
    _caches[engine] = FactCache(seconds)


def _engine(session: Session) -> Engine | None:
    bind = session.bind
    if bind is None:
        return None
    return bind if isinstance(bind, Engine) else bind.engine


def _cache(session: Session) -> FactCache | None:
    engine = _engine(session)
    return _caches.get(engine) if engine is not None else None


def _get(session: Session, key: Any, load: Callable[[], T]) -> T:
    cache = _cache(session)
    if cache is None or session.info.get(_STALE) or _touches_watched(session):
        # A transaction that changed the registry reads its own changes, never what other sessions saw.
        return load()
    return cache.get(key, load)


def trusted_keys(session: Session) -> dict[int, TrustedKey]:
    """Return every published key as a key ring (kept for VERIFY_CACHE_SECONDS)."""
    return _get(session, ("keyring",), lambda: keyring(session))


def product_facts(session: Session, product_id: int) -> Product | None:
    """Return a product with its producer, areas and certifications (kept for VERIFY_CACHE_SECONDS).

    Kept, it is detached and shared by the process's look-ups: read it, never change it.
    """
    if _cache(session) is None or session.info.get(_STALE) or _touches_watched(session):
        return session.scalars(_product_statement(product_id)).first()
    return _get(session, ("product", product_id), lambda: _load_product(session, product_id))


def shown_photo(session: Session, product_id: int) -> ShownPhoto | None:
    """Return the product's approved photo, if any (kept for VERIFY_CACHE_SECONDS)."""
    return _get(session, ("photo", product_id), lambda: approved_photo(session, product_id))


def _product_statement(product_id: int) -> Select[Product]:
    return (
        select(Product)
        .where(Product.id == product_id)
        .options(joinedload(Product.producer), selectinload(Product.areas), selectinload(Product.certifications))
    )


def _load_product(session: Session, product_id: int) -> Product | None:
    # A session of its own on the same connection and transaction: the caller's identity map (a test's
    # session holding this very product, say) is left alone, and closing it leaves the graph detached. What
    # the page and the API do not read is `raiseload`: reaching for it fails loudly instead of querying.
    with Session(bind=session.connection()) as reader:
        return reader.scalars(
            _product_statement(product_id).options(
                joinedload(Product.producer).raiseload("*"),
                selectinload(Product.areas).raiseload("*"),
                selectinload(Product.certifications).raiseload("*"),
                raiseload("*"),
            )
        ).first()


# Dropping the cache when this process commits a change to a watched table.


def _touches_watched(session: Session) -> bool:
    for record in (*session.new, *session.dirty, *session.deleted):
        table = getattr(inspect(record).mapper, "local_table", None)
        if getattr(table, "name", None) in WATCHED_TABLES:
            return True
    return False


@event.listens_for(Session, "before_flush")
def _note_flush(session: Session, _flush: UOWTransaction, _instances: Any) -> None:
    if _touches_watched(session):
        session.info[_STALE] = True


@event.listens_for(Session, "do_orm_execute")
def _note_statement(state: ORMExecuteState) -> None:
    if state.is_update or state.is_delete or state.is_insert:
        table = getattr(state.statement, "table", None)
        if getattr(table, "name", None) in WATCHED_TABLES:
            state.session.info[_STALE] = True


@event.listens_for(Session, "after_commit")
def _drop_on_commit(session: Session) -> None:
    if session.info.pop(_STALE, False):
        cache = _cache(session)
        if cache is not None:
            cache.invalidate()


@event.listens_for(Session, "after_soft_rollback")
def _forget_on_rollback(session: Session, _previous: Any) -> None:
    session.info.pop(_STALE, None)
