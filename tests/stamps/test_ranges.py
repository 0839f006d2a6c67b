"""Stamp ranges without a database: allowed moves, cutting and merging, counting states."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from traceability.stamps import ranges
from traceability.stamps.models import RangeState, StampRange
from traceability.stamps.ranges import InvalidTransition

EARLIER = datetime(2026, 1, 1, tzinfo=UTC)
NOW = datetime(2026, 2, 1, tzinfo=UTC)
ISSUED, ACTIVATED, VOIDED, REVOKED = RangeState.ISSUED, RangeState.ACTIVATED, RangeState.VOIDED, RangeState.REVOKED


def stored(*spans: tuple[int, int, RangeState]) -> list[StampRange]:
    return [
        StampRange(start=start, end=end, state=state, changed_at=EARLIER, changed_by="office", reason="before")
        for start, end, state in spans
    ]


def shape(segments: list[ranges.Segment]) -> list[tuple[int, int, RangeState]]:
    return [(s.start, s.end, s.state) for s in segments]


@pytest.mark.parametrize(
    ("before", "span", "state", "after"),
    [
        ([(0, 100, ISSUED)], (10, 20), ACTIVATED, [(0, 10, ISSUED), (10, 20, ACTIVATED), (20, 100, ISSUED)]),
        (
            [(0, 10, ISSUED), (10, 20, ACTIVATED), (20, 100, ISSUED)],
            (20, 30),
            ACTIVATED,
            [
                (0, 10, ISSUED),
                (10, 30, ACTIVATED),
                (30, 100, ISSUED),
            ],
        ),
        ([(0, 50, ACTIVATED), (50, 100, ISSUED)], (0, 100), VOIDED, [(0, 100, VOIDED)]),
        ([(0, 100, ACTIVATED)], (0, 100), ACTIVATED, [(0, 100, ACTIVATED)]),
    ],
)
def test_a_move_cuts_the_span_out_and_merges_neighbours_of_one_state(
    before: list[tuple[int, int, RangeState]], span: tuple[int, int], state: RangeState, after: list[Any]
) -> None:
    assert shape(ranges.move(stored(*before), *span, state)) == after


@pytest.mark.parametrize(("state", "target"), [(VOIDED, ACTIVATED), (REVOKED, VOIDED), (ACTIVATED, ISSUED)])
def test_a_stamp_never_moves_back(state: RangeState, target: RangeState) -> None:
    with pytest.raises(InvalidTransition, match=f"stamps 5..9 are {state.value} and cannot become {target.value}"):
        ranges.move(stored((0, 5, ISSUED), (5, 10, state)), 0, 10, target)


def test_only_what_the_move_touched_is_stamped_with_it() -> None:
    segments = ranges.move(stored((0, 10, ISSUED), (10, 20, ACTIVATED)), 3, 5, VOIDED)
    rows = ranges.stored(segments, 3, 5, now=NOW, actor="p", reason="torn")
    assert [(r.start, r.end, r.changed_at, r.changed_by, r.reason) for r in rows] == [
        (0, 3, EARLIER, "office", "before"),
        (3, 5, NOW, "p", "torn"),
        (5, 10, EARLIER, "office", "before"),
        (10, 20, EARLIER, "office", "before"),
    ]


def test_states_are_counted_over_a_span_and_looked_up_by_stamp() -> None:
    batch_ranges = stored((0, 10, ISSUED), (10, 15, ACTIVATED), (15, 16, VOIDED), (16, 30, ACTIVATED))
    assert ranges.count_states(batch_ranges, 8, 20) == {ISSUED: 2, ACTIVATED: 9, VOIDED: 1}
    assert ranges.state_of(batch_ranges, 15) is VOIDED
    assert ranges.state_of(batch_ranges, 30) is None
