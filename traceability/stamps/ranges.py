"""Stamp states kept as ranges: which moves are allowed, and how a move cuts and merges a batch's ranges.

No session and no clock: ranges in, ranges out. The batch service (batches.change_range) locks the batch,
reads only the ranges a move can touch (those overlapping the span and one on each side: ranges cover a
batch without gaps), calls `move` on them and stores the result in their place.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from traceability.errors import Conflict, Term
from traceability.i18n import N_
from traceability.stamps.models import RangeState, StampRange

REASON_MAX = 500  # what a stamp range keeps as the reason for its state


class InvalidTransition(Conflict):
    code = "invalid_transition"


# Which range states a stamp may move to from each state. Voided and revoked are final: a stamp that
# left circulation never comes back, so a found "lost" roll cannot be laundered into genuine stamps.
TRANSITIONS: dict[RangeState, frozenset[RangeState]] = {
    RangeState.ISSUED: frozenset({RangeState.PRINTED, RangeState.ACTIVATED, RangeState.VOIDED, RangeState.REVOKED}),
    RangeState.PRINTED: frozenset({RangeState.ACTIVATED, RangeState.VOIDED, RangeState.REVOKED}),
    RangeState.ACTIVATED: frozenset({RangeState.VOIDED, RangeState.REVOKED}),
    RangeState.VOIDED: frozenset({RangeState.REVOKED}),
    RangeState.REVOKED: frozenset(),
}


@dataclass(frozen=True, slots=True)
class Segment:
    """Stamps [start, end) in one state; `origin` is the stored range it was cut from (None: newly moved)."""

    start: int
    end: int
    state: RangeState
    origin: StampRange | None


def state_of(ranges: Iterable[StampRange], sequence: int) -> RangeState | None:
    """Return the state of one stamp, or None if no range holds it."""
    for stamp_range in ranges:
        if stamp_range.start <= sequence < stamp_range.end:
            return stamp_range.state
    return None


def count_states(ranges: Iterable[StampRange], start: int, end: int) -> dict[RangeState, int]:
    """Return how many stamps of [start, end) are in each state."""
    counts: dict[RangeState, int] = {}
    for stamp_range in ranges:
        overlap = min(end, stamp_range.end) - max(start, stamp_range.start)
        if overlap > 0:
            counts[stamp_range.state] = counts.get(stamp_range.state, 0) + overlap
    return counts


def move(ranges: Iterable[StampRange], start: int, end: int, new_state: RangeState) -> list[Segment]:
    """Return the ranges with stamps [start, end) moved to new_state, neighbours of one state merged.

    Raise InvalidTransition, naming the first stamps that may not make the move.
    """
    return _merge(_cut(ranges, start, end, new_state))


def _cut(ranges: Iterable[StampRange], start: int, end: int, new_state: RangeState) -> list[Segment]:
    """Split each range at the span's ends and give the part inside the span its new state."""
    segments: list[Segment] = []
    for current in ranges:
        overlap_start, overlap_end = max(start, current.start), min(end, current.end)
        if overlap_start >= overlap_end:
            segments.append(Segment(current.start, current.end, current.state, current))
            continue
        if current.state is not new_state and new_state not in TRANSITIONS[current.state]:
            raise InvalidTransition(
                N_("stamps %(first)s..%(last)s are %(state)s and cannot become %(new_state)s"),
                params={
                    "first": overlap_start,
                    "last": overlap_end - 1,
                    "state": Term(current.state.value),
                    "new_state": Term(new_state.value),
                },
            )
        if current.start < overlap_start:
            segments.append(Segment(current.start, overlap_start, current.state, current))
        segments.append(Segment(overlap_start, overlap_end, new_state, None))
        if overlap_end < current.end:
            segments.append(Segment(overlap_end, current.end, current.state, current))
    return segments


def _merge(segments: Iterable[Segment]) -> list[Segment]:
    """Join neighbouring segments of one state, so a batch keeps as few ranges as its states allow."""
    merged: list[Segment] = []
    for segment in sorted(segments, key=lambda s: s.start):
        if merged and merged[-1].state is segment.state and merged[-1].end == segment.start:
            previous = merged.pop()
            merged.append(Segment(previous.start, segment.end, segment.state, previous.origin or segment.origin))
        else:
            merged.append(segment)
    return merged


def stored(
    segments: Iterable[Segment], start: int, end: int, *, now: datetime, actor: str, reason: str | None
) -> list[StampRange]:
    """Return the segments as new range rows: those touching [start, end) stamped with this change, the rest
    keeping who changed them last, when and why."""
    rows = []
    for segment in segments:
        origin = segment.origin
        touched = segment.start < end and segment.end > start
        changed_by: str | None
        changed_at, changed_by, why = now, actor, reason if touched else None
        if not touched and origin is not None:
            changed_at, changed_by, why = origin.changed_at, origin.changed_by, origin.reason
        rows.append(
            StampRange(
                start=segment.start,
                end=segment.end,
                state=segment.state,
                changed_at=changed_at,
                changed_by=changed_by,
                reason=why,
            )
        )
    return rows
