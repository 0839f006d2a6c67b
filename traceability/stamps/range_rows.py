"""Indexed reads of a batch's stamp ranges: the one range holding a stamp, the few a move touches.

A batch fragmented by hundreds of single-stamp changes has hundreds of ranges; these reads use the
(batch_id, start) index so that neither a look-up nor a change costs more as they accumulate.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from traceability.stamps.models import StampRange


def range_at(session: Session, batch_id: int, sequence: int) -> StampRange | None:
    """Return the range holding one stamp: one indexed look-up on (batch_id, start), not the batch's ranges."""
    found = session.scalar(
        select(StampRange)
        .where(StampRange.batch_id == batch_id, StampRange.start <= sequence)
        .order_by(StampRange.start.desc())
        .limit(1)
    )
    return found if found is not None and sequence < found.end else None


def neighbourhood(session: Session, batch_id: int, start: int, end: int) -> list[StampRange]:
    """Return the ranges overlapping [start, end) and the one on each side: all that a move may cut or merge.

    Ranges cover a batch without gaps, so they are the ranges from the one holding start - 1 to the one
    starting at end; two index range scans, whatever the batch's number of ranges.
    """
    left = session.scalar(
        select(StampRange.start)
        .where(StampRange.batch_id == batch_id, StampRange.start <= max(start - 1, 0))
        .order_by(StampRange.start.desc())
        .limit(1)
    )
    return list(
        session.scalars(
            select(StampRange)
            .where(StampRange.batch_id == batch_id, StampRange.start >= (left or 0), StampRange.start <= end)
            .order_by(StampRange.start)
        )
    )
