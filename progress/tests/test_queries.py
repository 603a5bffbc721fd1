"""Figures over many learners: audience retention and course completion, as the Courses page shows them."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest

from progress import queries, tracking
from progress.tests.factories import learner, video

pytestmark = pytest.mark.django_db


def watch(user, v, *segments) -> None:
    beat = tracking.Heartbeat(
        id=uuid.uuid4(), position=segments[-1][1], at=datetime.now(UTC), segments=[list(s) for s in segments]
    )
    tracking.record_heartbeat(learner=user, video=v, heartbeat=beat)


@pytest.mark.parametrize(
    ("duration", "played", "expected"),
    [
        # A 40-second video: 5-second steps, so the curve shows where viewers stopped.
        (40, [[(0, 40)], [(0, 20)]], [(0, 1.0), (5, 1.0), (10, 1.0), (15, 1.0), (20, 0.5), (35, 0.5)]),
        # A 10-minute video: one point per minute, as the seed's player reported.
        (
            600,
            [[(0, 600)], [(0, 130), (300, 360)]],
            [(0, 1.0), (60, 1.0), (120, 1.0), (180, 0.5), (300, 1.0), (540, 0.5)],
        ),
    ],
)
def test_retention_shows_the_share_still_watching_at_each_step_of_the_video(duration, played, expected):
    v = video(duration=duration)
    for number, segments in enumerate(played):
        watch(learner(f"learner{number}"), v, *segments)
    curve = dict(queries.retention(tutorial_id=v.tutorial_id, language="English"))
    for second, share in expected:
        assert curve[second] == share, second
    assert max(curve) < duration


def test_course_completion_reads_a_fixed_number_of_queries_whatever_the_number_of_learners(
    django_assert_max_num_queries,
):
    videos = [video(tutorial=f"T{n}", duration=10, order=n) for n in range(3)]
    for number in range(12):
        user = learner(f"learner{number}")
        for v in videos[: number % 4]:
            watch(user, v, (0, 10))
    with django_assert_max_num_queries(6):
        [row] = queries.course_completion()
    assert (row.learners, row.tutorials, row.started, row.completed) == (9, 3, 18, 18)
    assert row.finished == 3 and row.completion_of_started == 1.0
    assert row.course_progress == pytest.approx((3 * (1 / 3) + 3 * (2 / 3) + 3 * 1) / 9)
