"""What learners see of their progress: reads over many rows, returned as plain dataclasses.

With `PROGRESS_CREDIT_ACROSS_LANGUAGES` on, a tutorial completed in one language counts as
completed in every language, and the resume point follows the learner from one language to
another. That credit is applied here, when reading, so no rows are invented for languages the
learner never opened.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db.models import Case, Count, F, Max, Q, Sum, Value, When
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
    def progress(self) -> float:
        """Course progress (see `course_progress`), the figure the Courses page averages."""
        return course_progress(completed=self.completed_count, tutorials=len(self.rows))

    @property
    def percent(self) -> int:
        return as_percent(self.progress)


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


# --- figures over many learners (the Courses dashboard) ------------------------------------------
#
# Two completion figures answer two questions, and each is computed by one function here:
# - "Course progress": how far through a course (in one language) a learner is, as the share of
#   its tutorials they completed. My learning and the watch page show it per learner; the Courses
#   page shows its average over the learners of that course and language.
# - "Completion of started tutorials": of the tutorials learners began, the share they completed.


def course_progress(*, completed: int, tutorials: int) -> float:
    """Course progress as a share (0–1): tutorials completed ÷ tutorials in the course and language."""
    return completed / tutorials if tutorials else 0.0


def completion_of_started(*, completed: int, started: int) -> float:
    """Completion of started tutorials as a share (0–1): completed ÷ started learner-tutorials."""
    return completed / started if started else 0.0


def as_percent(share: float) -> int:
    """A share as the whole percent learners see (rounded down: 99.9 % is not "100 % complete")."""
    return int(100 * share + 1e-9)


@dataclass(frozen=True)
class CourseCompletion:
    """One course in one language, over the learners active in a range."""

    course: str
    language: str
    tutorials: int  # in the course, with a video in this language
    learners: int
    started: int  # learner × tutorial rows begun
    completed: int  # of those, completed
    progress_total: float  # the learners' course progress shares, summed
    finished: int  # learners who completed every tutorial of the course
    median_percent: float
    rewatchers: int  # learners who came back to a tutorial at least once
    revisits: int  # visits after each learner's first, summed

    @property
    def completion_of_started(self) -> float:
        return completion_of_started(completed=self.completed, started=self.started)

    @property
    def course_progress(self) -> float:
        """The average course progress of these learners (each as My learning shows it)."""
        return self.progress_total / self.learners if self.learners else 0.0


@dataclass(frozen=True)
class TutorialStats:
    tutorial_id: int
    course: str
    tutorial: str
    language: str
    learners: int
    completed: int
    revisits: int


def active_progress(
    *, since: datetime | None = None, before: datetime | None = None, course: str = "", language: str = ""
):
    """Progress rows last changed in [since, before), optionally of one course slug and language."""
    rows = Progress.objects.all()
    if since is not None:
        rows = rows.filter(updated_at__gte=since)
    if before is not None:
        rows = rows.filter(updated_at__lt=before)
    if course:
        rows = rows.filter(tutorial__course__slug=course)
    if language:
        rows = rows.filter(language=language)
    return rows


def _median(values: list[float]) -> float:
    return float(statistics.median(values)) if values else 0.0


def _course_progress_by_learner(rows) -> tuple[dict[tuple[int, str], list[float]], dict[tuple[int, str], int]]:
    """Each active learner's course progress per (course id, language), exactly as
    `course_overview` counts it: completed tutorials that have a video in the language (with
    cross-language credit, completed in any language) ÷ tutorials with a video in it."""
    pairs = set(rows.values_list("learner_id", "tutorial__course_id", "language").distinct())
    course_ids = {c for _, c, _ in pairs}
    tutorial_course = dict(Tutorial.objects.filter(course_id__in=course_ids).values_list("id", "course_id"))
    videos = set(Video.objects.filter(tutorial__course_id__in=course_ids).values_list("tutorial_id", "language"))
    languages_of: dict[int, list[str]] = {}
    for tutorial_id, language in videos:
        languages_of.setdefault(tutorial_id, []).append(language)
    tutorials_in: dict[tuple[int, str], int] = {}
    for tutorial_id, language in videos:
        key = (tutorial_course[tutorial_id], language)
        tutorials_in[key] = tutorials_in.get(key, 0) + 1
    done: dict[tuple[int, int, str], set[int]] = {}
    for learner_id, tutorial_id, language in Progress.objects.filter(
        learner_id__in=rows.values("learner_id"), tutorial__course_id__in=course_ids, completed=True
    ).values_list("learner_id", "tutorial_id", "language"):
        credited = languages_of.get(tutorial_id, []) if _credit_across_languages() else [language]
        for each in credited:
            if (tutorial_id, each) in videos:
                done.setdefault((learner_id, tutorial_course[tutorial_id], each), set()).add(tutorial_id)
    shares: dict[tuple[int, str], list[float]] = {}
    for learner_id, course_id, language in pairs:
        completed = len(done.get((learner_id, course_id, language), ()))
        tutorials = tutorials_in.get((course_id, language), 0)
        shares.setdefault((course_id, language), []).append(course_progress(completed=completed, tutorials=tutorials))
    return shares, tutorials_in


def course_completion(
    *, since: datetime | None = None, before: datetime | None = None, course: str = "", language: str = ""
) -> list[CourseCompletion]:
    """Per course and language, over learners whose progress changed in the range: tutorials
    started and completed, average course progress, learners who finished, median % watched and
    rewatches. Most learners first. A fixed number of queries whatever the number of learners."""
    rows = active_progress(since=since, before=before, course=course, language=language)
    grouped = (
        rows.values("tutorial__course_id", "tutorial__course__name", "language")
        .annotate(
            learners=Count("learner", distinct=True),
            started=Count("id"),
            completed=Count("id", filter=Q(completed=True)),
            rewatchers=Count("learner", distinct=True, filter=Q(visits__gt=1)),
            revisits=Sum(Case(When(visits__gt=1, then=F("visits") - 1), default=Value(0))),
        )
        .order_by("-learners", "tutorial__course__name", "language")
    )
    percents: dict[tuple[int, str], list[float]] = {}
    for course_id, each, watched, duration in rows.values_list(
        "tutorial__course_id", "language", "watched_seconds", "duration_seconds"
    ):
        percents.setdefault((course_id, each), []).append(min(100.0, 100.0 * watched / duration) if duration else 0.0)
    shares, tutorials_in = _course_progress_by_learner(rows)
    result = []
    for r in grouped:
        key = (r["tutorial__course_id"], r["language"])
        result.append(
            CourseCompletion(
                course=r["tutorial__course__name"],
                language=r["language"],
                tutorials=tutorials_in.get(key, 0),
                learners=r["learners"],
                started=r["started"],
                completed=r["completed"],
                progress_total=sum(shares.get(key, [])),
                finished=sum(1 for share in shares.get(key, []) if share >= 1),
                median_percent=_median(percents.get(key, [])),
                rewatchers=r["rewatchers"],
                revisits=r["revisits"] or 0,
            )
        )
    return result


def tutorial_ranking(
    *,
    since: datetime | None = None,
    before: datetime | None = None,
    course: str = "",
    language: str = "",
    limit: int = 20,
) -> list[TutorialStats]:
    """Tutorials (per language) ranked by learners active in the range, with completions and re-visits."""
    rows = (
        active_progress(since=since, before=before, course=course, language=language)
        .values("tutorial_id", "tutorial__course__name", "tutorial__title", "language")
        .annotate(
            learners=Count("learner", distinct=True),
            completed=Count("id", filter=Q(completed=True)),
            revisits=Sum(Case(When(visits__gt=1, then=F("visits") - 1), default=Value(0))),
        )
        .order_by("-learners", "-completed", "tutorial__title", "language")[:limit]
    )
    return [
        TutorialStats(
            tutorial_id=r["tutorial_id"],
            course=r["tutorial__course__name"],
            tutorial=r["tutorial__title"],
            language=r["language"],
            learners=r["learners"],
            completed=r["completed"],
            revisits=r["revisits"] or 0,
        )
        for r in rows
    ]


def retention_step(duration_seconds: int) -> int:
    """Seconds per point of a retention curve: minutes, as the seed's player reported them, but
    5-second steps for videos under 3 minutes, whose per-minute curve would be one or two points."""
    return 60 if duration_seconds >= 180 else 5


def retention(
    *, tutorial_id: int, language: str, since: datetime | None = None, before: datetime | None = None
) -> list[tuple[int, float]]:
    """Audience retention: for each step of the video, the share of its viewers who watched it.

    Returns (second the step starts at, share). A viewer "watched step k" when their watched
    seconds (the union of what they played) overlap [k·step, (k+1)·step); the step is
    `retention_step` of the longest duration. The first step is 1.0 whenever anyone played from
    the start.
    """
    rows = list(
        active_progress(since=since, before=before)
        .filter(tutorial_id=tutorial_id, language=language, watched_seconds__gt=0)
        .values_list("watched", "duration_seconds")
    )
    if not rows:
        return []
    longest = max(d for _, d in rows)
    step = retention_step(longest)
    steps = max(1, -(-longest // step))
    watching = [0] * steps
    for intervals, _ in rows:
        seen: set[int] = set()
        for start, end in intervals:
            seen.update(range(int(start // step), min(steps, int(-(-end // step)))))
        for index in seen:
            watching[index] += 1
    return [(index * step, count / len(rows)) for index, count in enumerate(watching)]
