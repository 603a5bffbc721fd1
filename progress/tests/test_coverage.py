"""Watched coverage as whole-second intervals: rounding, union, and the completion rule."""

from __future__ import annotations

import itertools

from progress import coverage


def test_played_segments_round_to_the_nearest_second_and_stay_inside_the_video():
    assert coverage.to_seconds(segments=[[0.4, 10.6], [38.7, 41.0], [5.2, 5.4]], duration=40) == [(0, 11), (39, 40)]


def test_union_is_the_same_in_any_order_and_with_repeats():
    pieces = [(0, 10), (5, 15), (30, 35), (15, 20), (0, 10)]
    results = {tuple(coverage.merge(covered=[], added=list(p))) for p in itertools.permutations(pieces)}
    assert results == {((0, 20), (30, 35))}


def test_touching_intervals_merge_into_one():
    assert coverage.merge(covered=[(0, 5)], added=[(5, 9)]) == [(0, 9)]


def test_a_forty_second_video_completes_at_thirty_two_seconds_watched():
    assert not coverage.reaches(watched=31, duration=40, threshold=80)
    assert coverage.reaches(watched=32, duration=40, threshold=80)


def test_percent_is_whole_and_never_above_a_hundred():
    assert coverage.percent(watched=31, duration=40) == 77
    assert coverage.percent(watched=50, duration=40) == 100
    assert coverage.percent(watched=5, duration=0) == 0
