"""Watched coverage of a video as a set of whole seconds, kept as sorted disjoint intervals.

A learner's coverage is the union of every segment they actually played, stored as a sorted list
of half-open `[start, end)` second intervals that neither overlap nor touch. Union is commutative,
associative and idempotent, so duplicate, late and out-of-order heartbeats all give the same
coverage — the property the seed's playhead-based rule lacked (seeking to 80 % "completed" a
tutorial there). Nothing here touches the database.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

Interval = tuple[int, int]


def to_seconds(*, segments: Iterable[Sequence[float]], duration: int) -> list[Interval]:
    """Round played segments (in seconds, floats) to whole-second intervals within the video.

    Each end is rounded to the nearest second, so a segment gains or loses at most half a second
    at each end; segments that round to nothing are dropped. The result is clipped to
    `[0, duration)` but not yet merged.
    """
    out: list[Interval] = []
    for start, end in segments:
        low = max(0, math.floor(start + 0.5))
        high = min(duration, math.floor(end + 0.5))
        if high > low:
            out.append((low, high))
    return out


def merge(*, covered: Iterable[Sequence[int]], added: Iterable[Sequence[int]] = ()) -> list[Interval]:
    """The union of two sets of intervals as sorted, disjoint, non-touching intervals.

    The result is the same whatever the order or repetition of the inputs.
    """
    merged: list[list[int]] = []
    for start, end in sorted((int(s), int(e)) for s, e in [*covered, *added] if e > s):
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    return [(s, e) for s, e in merged]


def total(intervals: Iterable[Sequence[int]]) -> int:
    """How many whole seconds the (disjoint) intervals cover."""
    return sum(end - start for start, end in intervals)


def clip(*, intervals: Iterable[Sequence[int]], duration: int) -> list[Interval]:
    """The intervals cut to `[0, duration)`: coverage never exceeds the video."""
    out = []
    for start, end in intervals:
        low, high = max(0, start), min(duration, end)
        if high > low:
            out.append((low, high))
    return out


def reaches(*, watched: int, duration: int, threshold: int) -> bool:
    """Whether `watched` seconds are at least `threshold` percent of `duration` (integers, exact).

    A 40-second video at 80 % needs 32 seconds: whole seconds, never whole minutes, so a video
    shorter than a minute can complete.
    """
    return duration > 0 and watched * 100 >= threshold * duration


def percent(*, watched: int, duration: int) -> int:
    """Whole percent watched, rounded down and never above 100."""
    if duration <= 0:
        return 0
    return min(100, watched * 100 // duration)
