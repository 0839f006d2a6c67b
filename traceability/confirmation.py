"""Two steps for what cannot be undone: a review page that says what will happen, then the confirmed post.

A form for an irreversible action (revoke, void, reject) posts without the confirmation field first: the view
runs the action's own checks in a dry run, rolls it back and renders the review page, whose form repeats the
values as hidden fields with `confirmed=1`. Only that second post acts. Without JavaScript, as with it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from flask import request
from sqlalchemy.orm import Session

from traceability.db import get_session

CONFIRM_FIELD = "confirmed"


def confirmed() -> bool:
    """Return whether this post is the reviewed one (its form carried confirmed=1)."""
    return request.form.get(CONFIRM_FIELD) == "1"


@contextmanager
def dry_run() -> Iterator[Session]:
    """Yield the request's session for an action's checks, and undo everything it did, whatever happens."""
    session = get_session()
    try:
        yield session
    finally:
        session.rollback()
