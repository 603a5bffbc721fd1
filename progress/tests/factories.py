"""Small builders for courses, videos and learners used across the progress tests."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from django.contrib.auth import get_user_model

from progress.models import Course, Tutorial, Video
from progress.tracking import Heartbeat

T0 = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)


def video(
    *,
    course: str = "BASH",
    tutorial: str = "Introduction",
    language: str = "English",
    duration: int = 40,
    threshold: int | None = None,
    order: int = 1,
) -> Video:
    course_row, _ = Course.objects.get_or_create(
        slug=course, defaults={"name": course, "completion_threshold": threshold}
    )
    tutorial_row, _ = Tutorial.objects.get_or_create(
        course=course_row, slug=tutorial, defaults={"title": tutorial.replace("-", " "), "order": order}
    )
    return Video.objects.create(
        tutorial=tutorial_row, language=language, duration_seconds=duration, source="/static/progress/videos/bash.webm"
    )


def learner(name: str = "asha"):
    return get_user_model().objects.create_user(name, password="learner-pass-123")


def beat(
    *segments: tuple[float, float], position: float | None = None, at_second: int = 0, id: str | None = None
) -> Heartbeat:
    """A heartbeat that played `segments`, sent `at_second` seconds after T0."""
    return Heartbeat(
        id=uuid.UUID(id) if id else uuid.uuid4(),
        position=position if position is not None else (segments[-1][1] if segments else 0.0),
        at=T0 + timedelta(seconds=at_second),
        segments=[list(s) for s in segments],
    )
