"""What learners see of their progress: reads over many rows, returned as plain dataclasses.

With `PROGRESS_CREDIT_ACROSS_LANGUAGES` on, a tutorial completed in one language counts as
completed in every language, and the resume point follows the learner from one language to
another. That credit is applied here, when reading, so no rows are invented for languages the
learner never opened.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db.models import Max
from django.db.models.functions import Coalesce

from progress.models import Course, Progress, Tutorial, Video


@dataclass(frozen=True)
class State:
    """What the watch page shows and the heartbeat answers."""

    completed: bool
    percent: int
    resume_at: float

    def as_dict(self) -> dict[str, Any]:
        return {"completed": self.completed, "percent": self.percent, "resume_at": self.resume_at}


def _credit_across_languages() -> bool:
    return bool(settings.PROGRESS_CREDIT_ACROSS_LANGUAGES)


def _resume_from(rows: list[Progress], *, own: Progress | None, duration: int) -> float:
    """The resume point: this language's, or with cross-language credit the most recent of any."""
    if _credit_across_languages() and rows:
        latest = max(rows, key=lambda r: r.last_watched_at)
        resume = latest.resume_at
        return resume if resume < duration - 1 else 0.0
    return own.resume_at if own else 0.0


def state_for(*, learner, video: Video, row: Progress | None = None) -> State:
    """The learner's state for one video (completed, percent watched, where to resume).

    A caller that holds the learner's fresh row for this video passes it as `row`; without
    cross-language credit that saves the query.
    """
    if row is not None and not _credit_across_languages():
        rows = [row]
    else:
        rows = list(Progress.objects.filter(learner=learner, tutorial_id=video.tutorial_id))
    own = next((r for r in rows if r.language == video.language), None)
    completed = bool(own and own.completed)
    if _credit_across_languages():
        completed = any(r.completed for r in rows)
    return State(
        completed=completed,
        percent=own.percent if own else 0,
        resume_at=_resume_from(rows, own=own, duration=video.duration_seconds),
    )


@dataclass(frozen=True)
class TutorialRow:
    tutorial: Tutorial
    video: Video | None
    completed: bool
    percent: int
    resume_at: float
    last_watched_at: datetime | None


@dataclass(frozen=True)
class CourseOverview:
    """One course in one language, as a learner sees it: every tutorial and where to go next."""

    course: Course
    language: str
    rows: list[TutorialRow] = field(default_factory=list)
    last_watched: TutorialRow | None = None
    continue_at: TutorialRow | None = None

    @property
    def completed_count(self) -> int:
        return sum(1 for r in self.rows if r.completed)

    @property
    def percent(self) -> int:
        return self.completed_count * 100 // len(self.rows) if self.rows else 0


def course_overview(*, learner, course: Course, language: str) -> CourseOverview:
    """Every tutorial of a course in a language, with the learner's progress (none if anonymous).

    `continue_at` is where "Continue where you left off" goes: the most recently watched tutorial
    that is not completed, else the first tutorial in order that is not completed, else nothing
    (the course is done). Three queries whatever the number of tutorials.
    """
    tutorials = list(course.tutorials.order_by("order", "title"))
    videos = {v.tutorial_id: v for v in Video.objects.filter(tutorial__course=course, language=language)}
    mine: list[Progress] = []
    if learner is not None and learner.is_authenticated:
        mine = list(Progress.objects.filter(learner=learner, tutorial__course=course))
    by_tutorial: dict[int, list[Progress]] = {}
    for row in mine:
        by_tutorial.setdefault(row.tutorial_id, []).append(row)
    rows = []
    for tutorial in tutorials:
        video = videos.get(tutorial.pk)
        if video is None:
            continue  # not available in this language
        # Links need video → tutorial → course; hand over the rows already loaded (no N+1).
        tutorial.course = course
        video.tutorial = tutorial
        progress_rows = by_tutorial.get(tutorial.pk, [])
        own = next((r for r in progress_rows if r.language == language), None)
        completed = (
            any(r.completed for r in progress_rows) if _credit_across_languages() else bool(own and own.completed)
        )
        rows.append(
            TutorialRow(
                tutorial=tutorial,
                video=video,
                completed=completed,
                percent=own.percent if own else 0,
                resume_at=_resume_from(progress_rows, own=own, duration=video.duration_seconds),
                last_watched_at=max((r.last_watched_at for r in progress_rows), default=None)
                if _credit_across_languages()
                else (own.last_watched_at if own else None),
            )
        )
    touched = [r for r in rows if r.last_watched_at is not None]
    last = max(touched, key=lambda r: r.last_watched_at, default=None)  # type: ignore[arg-type, return-value]
    unfinished = [r for r in touched if not r.completed]
    continue_at = max(unfinished, key=lambda r: r.last_watched_at, default=None)  # type: ignore[arg-type, return-value]
    if continue_at is None and touched:
        continue_at = next((r for r in rows if not r.completed), None)
    return CourseOverview(course=course, language=language, rows=rows, last_watched=last, continue_at=continue_at)


def my_learning(*, learner) -> list[CourseOverview]:
    """Every (course, language) the learner has started, most recently watched first."""
    started = (
        Progress.objects.filter(learner=learner)
        .values("tutorial__course", "language")
        .annotate(last=Max(Coalesce("position_at", "updated_at")))
        .order_by("-last")
    )
    courses = Course.objects.in_bulk({s["tutorial__course"] for s in started})
    return [
        course_overview(learner=learner, course=courses[s["tutorial__course"]], language=s["language"]) for s in started
    ]


def languages_of(*, course: Course | None) -> list[str]:
    """The languages in which at least one tutorial (of the course, if given) can be watched, sorted."""
    videos = Video.objects.filter(tutorial__course=course) if course else Video.objects.all()
    return sorted(set(videos.values_list("language", flat=True)))


def format_position(seconds: float) -> str:
    """`mm:ss` (or `h:mm:ss` past an hour) for "Continue watching … at mm:ss"."""
    whole = int(seconds)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes:02d}:{secs:02d}"
