"""Every number the dashboards, `/api/stats/` and the exports show: the one place they ask.

Each question is answered by one of two sources, chosen once per query by `source()`: the
rollups (`dashboard.rollup_source`) when the scope has no filter, GROUP BY over raw events
(`dashboard.raw_source`) otherwise. Both follow the definitions in `rollups.definitions`; the
tests and `bench/dashboard.py` check that they give the same numbers.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from types import ModuleType

from django.db.models import Case, Count, F, Q, Sum, Value, When

from dashboard import raw_source, rollup_source
from dashboard.rows import CityPoint, Comparison, CountRow, Totals, TrendPoint, VisitRow, ratio
from dashboard.scope import Scope, bucket_of, buckets
from rollups import definitions
from rollups.models import Place

__all__ = [
    "CityPoint",
    "Comparison",
    "CountRow",
    "Totals",
    "TrendPoint",
    "VisitRow",
    "bucket_of",
    "buckets",
]


def source(scope: Scope) -> ModuleType:
    """The source that answers a scope: rollups without filters, raw events with them."""
    return rollup_source if scope.uses_rollups else raw_source


def totals(*, scope: Scope) -> Totals:
    """Visitors (distinct over the whole range), visits, views, bounces and duration of a scope."""
    return source(scope).totals(scope=scope)


def compare(*, scope: Scope) -> Comparison:
    """Totals of the scope and of the previous period of the same length."""
    return Comparison(current=totals(scope=scope), previous=totals(scope=scope.previous()))


def trend(*, scope: Scope) -> list[TrendPoint]:
    """Visitors (distinct within each bucket), visits and page views per bucket of the grain."""
    return source(scope).trend(scope=scope)


def visits_by(*, scope: Scope, dimension: str, limit: int = 10) -> list[VisitRow]:
    """Visits per value of a visit dimension (from each visit's first event), most first."""
    if dimension not in definitions.VISIT_DIMENSIONS:
        raise ValueError(f"unknown visit dimension {dimension!r}")
    return source(scope).visits_by(scope=scope, dimension=dimension, limit=limit)


def counts_by(*, scope: Scope, dimension: str, limit: int = 10, with_visitors: bool = False) -> list[CountRow]:
    """Page views (or events, for dimensions that count events) per value, most first.

    With `with_visitors`, also the distinct visitors of each row over the whole range (for
    dimensions that keep visitor sets: pages, courses, tutorial languages).
    """
    if dimension not in definitions.EVENT_DIMENSIONS:
        raise ValueError(f"unknown event dimension {dimension!r}")
    return source(scope).counts_by(scope=scope, dimension=dimension, limit=limit, with_visitors=with_visitors)


def cities(*, scope: Scope, limit: int = 200) -> list[CityPoint]:
    """Visits per city with the city's coordinates (None when enrichment had none)."""
    rows = visits_by(scope=scope, dimension="city", limit=limit)
    parts = [tuple((r.value.split("|") + ["", "", ""])[:3]) for r in rows]
    wanted = Q()
    for country, region, city in parts:
        wanted |= Q(country=country, region=region, city=city)
    places = {}
    if parts:
        places = {(p.country, p.region, p.city): p for p in Place.objects.filter(wanted)}
    points = []
    for (country, region, city), row in zip(parts, rows, strict=True):
        if not city:
            continue
        place = places.get((country, region, city))
        points.append(
            CityPoint(
                country=country,
                region=region,
                city=city,
                visits=row.visits,
                latitude=place.latitude if place else None,
                longitude=place.longitude if place else None,
            )
        )
    return points


# --- courses (learner progress) ------------------------------------------------------------------


@dataclass(frozen=True)
class CompletionRow:
    course: str
    language: str
    learners: int
    started: int  # learner × tutorial rows begun
    completed: int
    median_percent: float
    rewatchers: int  # learners who came back to a tutorial at least once
    revisits: int  # visits after each learner's first, summed

    @property
    def rate(self) -> float:
        return ratio(self.completed, self.started)

    @property
    def partial(self) -> int:
        return self.started - self.completed


@dataclass(frozen=True)
class TutorialRow:
    tutorial_id: int
    course: str
    tutorial: str
    language: str
    learners: int
    completed: int
    revisits: int


def _progress(scope: Scope):
    from progress.models import Progress

    rows = Progress.objects.filter(updated_at__gte=scope.start_at(), updated_at__lt=scope.end_before())
    if "course" in scope.filters:
        rows = rows.filter(tutorial__course__slug=scope.filters["course"])
    if "language" in scope.filters:
        rows = rows.filter(language=scope.filters["language"])
    return rows


def _median(values: list[float]) -> float:
    values = sorted(values)
    if not values:
        return 0.0
    middle = len(values) // 2
    return float(values[middle]) if len(values) % 2 else (values[middle - 1] + values[middle]) / 2


def completion(*, scope: Scope) -> list[CompletionRow]:
    """Per course and language: learners, tutorials started and completed, median % watched, rewatches.

    Counts learner progress active in the range (last updated in it). The median is taken over
    each learner-tutorial's percent watched, read as one (watched, duration) pair per row.
    """
    rows = (
        _progress(scope)
        .values("tutorial__course__name", "language")
        .annotate(
            learners=Count("learner", distinct=True),
            started=Count("id"),
            completed=Count("id", filter=Q(completed=True)),
            rewatchers=Count("learner", distinct=True, filter=Q(visits__gt=1)),
            revisits=Sum(Case(When(visits__gt=1, then=F("visits") - 1), default=Value(0))),
        )
        .order_by("-learners", "tutorial__course__name", "language")
    )
    percents: dict[tuple[str, str], list[float]] = defaultdict(list)
    for course, language, watched, duration in _progress(scope).values_list(
        "tutorial__course__name", "language", "watched_seconds", "duration_seconds"
    ):
        percents[(course, language)].append(min(100.0, 100.0 * watched / duration) if duration else 0.0)
    return [
        CompletionRow(
            course=r["tutorial__course__name"],
            language=r["language"],
            learners=r["learners"],
            started=r["started"],
            completed=r["completed"],
            median_percent=_median(percents[(r["tutorial__course__name"], r["language"])]),
            rewatchers=r["rewatchers"],
            revisits=r["revisits"] or 0,
        )
        for r in rows
    ]


def tutorials(*, scope: Scope, limit: int = 20) -> list[TutorialRow]:
    """Tutorials (per language) ranked by learners, with completions and re-visits."""
    rows = (
        _progress(scope)
        .values("tutorial_id", "tutorial__course__name", "tutorial__title", "language")
        .annotate(
            learners=Count("learner", distinct=True),
            completed=Count("id", filter=Q(completed=True)),
            revisits=Sum(Case(When(visits__gt=1, then=F("visits") - 1), default=Value(0))),
        )
        .order_by("-learners", "-completed", "tutorial__title", "language")[:limit]
    )
    return [
        TutorialRow(
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


def retention(*, scope: Scope, tutorial_id: int, language: str) -> list[tuple[int, float]]:
    """Audience retention: for each step of the video, the share of its viewers who watched it.

    Returns (second the step starts at, share). A viewer "watched step k" when their watched
    seconds (the union of what they played) overlap [k·step, (k+1)·step); the step is
    `retention_step` of the longest duration. The first step is 1.0 whenever anyone played from
    the start.
    """
    rows = list(
        _progress(scope)
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
        seen = set()
        for start, end in intervals:
            seen.update(range(int(start // step), min(steps, int(-(-end // step)))))
        for index in seen:
            watching[index] += 1
    return [(index * step, count / len(rows)) for index, count in enumerate(watching)]
