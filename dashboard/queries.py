"""Every number the dashboards and `/api/stats/` show: SQL aggregates returned as dataclasses.

Pages and the stats API call only these functions, so they can never disagree. Each function
answers from the rollups (`rollups.models`) when the scope has no filter, and by GROUP BY over raw
events otherwise (the rollups are per single dimension, so "Chrome users in India" needs the
events). Both paths follow the definitions in `rollups.update`; the tests and `bench/dashboard.py`
check that they give the same numbers.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from django.db import connection
from django.db.models import (
    Case,
    Count,
    F,
    FloatField,
    IntegerField,
    Q,
    QuerySet,
    Sum,
    TextField,
    Value,
    When,
)
from django.db.models.expressions import Window
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Cast, Coalesce, Concat, Lead, NullIf, RowNumber

from dashboard.scope import Scope
from events.models import DroppedEvents, Event, Session, Site
from rollups import visitor_sets
from rollups.models import DailyMetric, Place
from rollups.update import VISIT_ATTRIBUTES, WATCH_PREFIX, watch_parts

PAGE_VIEW = Q(category="page_interaction", name="page_view")
VISIT_DIMENSIONS = (
    "country",
    "region",
    "city",
    "browser",
    "os",
    "device",
    "device_type",
    "screen",
    "language",
    "referrer",
    "channel",
    "utm_source",
    "utm_medium",
    "utm_campaign",
    "visitor_type",
    "entry",
    "exit",
)
# Event dimensions: counted per event on its own day. The counter is pageviews except where noted.
EVENT_DIMENSIONS = ("page", "event_name", "course", "tutorial_language", "course_language", "tutorial")
COUNTED_EVENTS = ("event", "exit_link")  # counted in `events`
# Visits may run past midnight; raw queries read this much around the range to see whole visits.
VISIT_MARGIN = timedelta(days=1)


# --- results ---------------------------------------------------------------------------------


def _ratio(part: float, whole: float) -> float:
    return part / whole if whole else 0.0


@dataclass(frozen=True)
class Totals:
    visitors: int = 0
    visits: int = 0
    pageviews: int = 0
    events: int = 0
    bounces: int = 0
    duration: int = 0
    visit_pageviews: int = 0
    new_visits: int = 0
    returning_visits: int = 0

    @property
    def pages_per_visit(self) -> float:
        return _ratio(self.visit_pageviews, self.visits)

    @property
    def bounce_rate(self) -> float:
        return _ratio(self.bounces, self.visits)

    @property
    def visit_duration(self) -> float:
        return _ratio(self.duration, self.visits)


@dataclass(frozen=True)
class Comparison:
    current: Totals
    previous: Totals

    def change(self, metric: str) -> float | None:
        """Relative change from the previous period (None when it had nothing to compare with)."""
        before, now = getattr(self.previous, metric), getattr(self.current, metric)
        return (now - before) / before if before else None


@dataclass(frozen=True)
class TrendPoint:
    bucket: date
    visitors: int
    visits: int
    pageviews: int


@dataclass(frozen=True)
class VisitRow:
    value: str
    visits: int
    bounces: int
    duration: int
    pageviews: int

    @property
    def bounce_rate(self) -> float:
        return _ratio(self.bounces, self.visits)

    @property
    def visit_duration(self) -> float:
        return _ratio(self.duration, self.visits)

    @property
    def pages_per_visit(self) -> float:
        return _ratio(self.pageviews, self.visits)


@dataclass(frozen=True)
class CountRow:
    value: str
    count: int  # page views, or events for COUNTED_EVENTS
    visitors: int | None = None  # distinct over the whole range
    engaged_seconds: float = 0.0

    @property
    def average_time(self) -> float:
        """Average engaged seconds per view (pages only)."""
        return _ratio(self.engaged_seconds, self.count)


@dataclass(frozen=True)
class CityPoint:
    country: str
    region: str
    city: str
    visits: int
    latitude: float | None
    longitude: float | None


# --- shared pieces ----------------------------------------------------------------------------


def _metrics(scope: Scope, dimensions: Iterable[str]) -> QuerySet[DailyMetric]:
    return DailyMetric.objects.filter(
        site=scope.site, dimension__in=list(dimensions), day__gte=scope.start, day__lte=scope.end
    )


def _visitor_expr() -> Coalesce:
    return Coalesce(NullIf(F("visitor_id"), Value("")), F("session_id"))


def _events(scope: Scope, *, margin: timedelta = timedelta(0)) -> QuerySet[Event]:
    """Raw events of the scope's site, range and filters (widened by `margin` on both sides)."""
    events = Event.objects.filter(
        site=scope.site, timestamp__gte=scope.start_at() - margin, timestamp__lt=scope.end_before() + margin
    )
    f = scope.filters
    for name in ("country", "device_type", "browser", "path"):
        if name in f:
            events = events.filter(**{name: f[name]})
    if "course" in f:
        events = events.filter(path__startswith=f"{WATCH_PREFIX}{f['course']}/")
    if "language" in f:
        events = events.filter(path__regex=rf"^{re.escape(WATCH_PREFIX)}[^/]+/[^/]+/{re.escape(f['language'])}(/|$)")
    return events


def _adapt(moment: datetime) -> object:
    return connection.ops.adapt_datetimefield_value(moment)


def _duration_sql(started: str, ended: str) -> str:
    if connection.vendor == "postgresql":
        return f"FLOOR(EXTRACT(EPOCH FROM ({ended} - {started})))"
    # Milliseconds first, so float error in julianday() cannot truncate a whole second away.
    return f"(CAST(ROUND((julianday({ended}) - julianday({started})) * 86400000) AS INTEGER) / 1000)"


def _day_sql(moment: str) -> str:
    return f"CAST({moment} AS DATE)" if connection.vendor == "postgresql" else f"date({moment})"


_FIRST_EVENT_SQL = {
    "total": "''",
    "region": "f.country || '|' || f.region",
    "city": "f.country || '|' || f.region || '|' || f.city",
    "referrer": "f.referrer_host",
    "visitor_type": "CASE WHEN f.is_new_visitor IS NULL THEN '' WHEN f.is_new_visitor THEN 'new' ELSE 'returning' END",
    "entry": "s.pv_path",
    "exit": "s.pv_path",
}
_FIRST_EVENT_COLUMNS = VISIT_ATTRIBUTES  # one definition, shared with the rollups


def _raw_visits(scope: Scope, dimension: str, *, by_day: bool = False) -> list[tuple]:
    """(value, visits, bounces, duration, pageviews) per value (and per start day) from events."""
    is_pv = Case(When(PAGE_VIEW, then=Value(1)), default=Value(0), output_field=IntegerField())
    windows = {
        "rn": Window(RowNumber(), partition_by=[F("session_id")], order_by=[F("timestamp").asc(), F("id").asc()]),
    }
    if dimension in ("entry", "exit"):
        # Numbered within (visit, is page view): row 1 of the page views is the entry (or exit).
        order = (
            [F("timestamp").asc(), F("id").asc()] if dimension == "entry" else [F("timestamp").desc(), F("id").desc()]
        )
        windows["pv_k"] = Window(RowNumber(), partition_by=[F("session_id"), is_pv], order_by=order)
    ev = (
        _events(scope, margin=VISIT_MARGIN)
        .annotate(is_pv=is_pv, **windows)
        .values("id", "session_id", "timestamp", "path", *_FIRST_EVENT_COLUMNS, "is_pv", *windows)
    )
    ev_sql, params = ev.query.sql_with_params()
    value = _FIRST_EVENT_SQL.get(dimension, f"f.{dimension}")
    pv_path, has_pv = "NULL", ""
    if dimension in ("entry", "exit"):
        # The entry (exit) page travels with the visit's aggregate: no second join over events.
        pv_path = "MAX(CASE WHEN is_pv = 1 AND pv_k = 1 THEN path END)"
        has_pv = "AND s.pv_path IS NOT NULL"
    day = f", {_day_sql('s.started')}" if by_day else ""
    sql = (
        f"WITH ev AS ({ev_sql}), "
        "s AS (SELECT session_id, MIN(timestamp) AS started, MAX(timestamp) AS ended, SUM(is_pv) AS views, "
        f"{pv_path} AS pv_path FROM ev GROUP BY session_id) "
        f"SELECT {value} AS v{day}, COUNT(*), SUM(CASE WHEN s.views < 2 THEN 1 ELSE 0 END), "
        f"SUM({_duration_sql('s.started', 's.ended')}), SUM(s.views) "
        f"FROM s JOIN ev f ON f.session_id = s.session_id AND f.rn = 1 "
        f"WHERE s.started >= %s AND s.started < %s {has_pv} GROUP BY 1{', 2' if by_day else ''}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, (*params, _adapt(scope.start_at()), _adapt(scope.end_before())))
        return cursor.fetchall()


# --- overview ---------------------------------------------------------------------------------


def totals(*, scope: Scope) -> Totals:
    """Visitors (distinct over the whole range), visits, views, bounces and duration of a scope."""
    if scope.uses_rollups:
        rows = (
            _metrics(scope, ["total", "visitor_type"])
            .values("dimension", "value")
            .annotate(
                events=Sum("events"),
                pageviews=Sum("pageviews"),
                visits=Sum("visits"),
                bounces=Sum("bounces"),
                duration=Sum("duration"),
                visit_pageviews=Sum("visit_pageviews"),
            )
        )
        by_key = {(r["dimension"], r["value"]): r for r in rows}
        visitors = visitor_sets.distinct(
            site_id=scope.site.pk, dimension="total", values=[""], start=scope.start, end=scope.end
        )[""]
        total = by_key.get(("total", ""), {})
        return Totals(
            visitors=visitors,
            visits=total.get("visits") or 0,
            pageviews=total.get("pageviews") or 0,
            events=total.get("events") or 0,
            bounces=total.get("bounces") or 0,
            duration=total.get("duration") or 0,
            visit_pageviews=total.get("visit_pageviews") or 0,
            new_visits=(by_key.get(("visitor_type", "new")) or {}).get("visits") or 0,
            returning_visits=(by_key.get(("visitor_type", "returning")) or {}).get("visits") or 0,
        )
    counts = _events(scope).aggregate(
        visitors=Count(_visitor_expr(), distinct=True), events=Count("id"), pageviews=Count("id", filter=PAGE_VIEW)
    )
    visits = {row[0]: row for row in _raw_visits(scope, "visitor_type")}
    summed = [sum(int(r[i] or 0) for r in visits.values()) for i in range(1, 5)]
    return Totals(
        visitors=counts["visitors"],
        visits=summed[0],
        pageviews=counts["pageviews"],
        events=counts["events"],
        bounces=summed[1],
        duration=summed[2],
        visit_pageviews=summed[3],
        new_visits=int(visits.get("new", (0, 0))[1]),
        returning_visits=int(visits.get("returning", (0, 0))[1]),
    )


def compare(*, scope: Scope) -> Comparison:
    """Totals of the scope and of the previous period of the same length."""
    return Comparison(current=totals(scope=scope), previous=totals(scope=scope.previous()))


def bucket_of(day: date, grain: str) -> date:
    """The first day of the day / ISO week / month / year that `day` falls in."""
    if grain == "week":
        return day - timedelta(days=day.weekday())
    if grain == "month":
        return day.replace(day=1)
    if grain == "year":
        return day.replace(month=1, day=1)
    return day


def buckets(*, scope: Scope) -> list[date]:
    """Every bucket of the scope's range at its grain, oldest first (empty ones included)."""
    found, day = [], scope.start
    while day <= scope.end:
        bucket = bucket_of(day, scope.grain)
        if not found or found[-1] != bucket:
            found.append(bucket)
        day += timedelta(days=1)
    return found


def trend(*, scope: Scope) -> list[TrendPoint]:
    """Visitors (distinct within each bucket), visits and page views per bucket of the grain."""
    visits: dict[date, int] = defaultdict(int)
    views: dict[date, int] = defaultdict(int)
    visitors: dict[date, int] = {}
    if scope.uses_rollups:
        for row in _metrics(scope, ["total"]).values("day", "visits", "pageviews"):
            visits[bucket_of(row["day"], scope.grain)] += row["visits"]
            views[bucket_of(row["day"], scope.grain)] += row["pageviews"]
        # Distinct within each bucket: the union of its days' visitor sets, never a sum of days.
        visitors = visitor_sets.distinct_per_bucket(
            site_id=scope.site.pk, start=scope.start, end=scope.end, bucket_of=lambda day: bucket_of(day, scope.grain)
        )
    else:
        for _value, day, count, *_ in _raw_visits(scope, "total", by_day=True):
            visits[bucket_of(_as_date(day), scope.grain)] += count
        whens = [
            When(
                timestamp__gte=_start(b), timestamp__lt=_start(_bucket_end(b, scope) + timedelta(days=1)), then=Value(b)
            )
            for b in buckets(scope=scope)
        ]
        rows = (
            _events(scope)
            .annotate(bucket=Case(*whens))
            .values("bucket")
            .annotate(n=Count(_visitor_expr(), distinct=True), views=Count("id", filter=PAGE_VIEW))
        )
        for r in rows:
            visitors[_as_date(r["bucket"])] = r["n"]
            views[_as_date(r["bucket"])] = r["views"]
    return [
        TrendPoint(bucket=b, visitors=visitors.get(b, 0), visits=visits.get(b, 0), pageviews=views.get(b, 0))
        for b in buckets(scope=scope)
    ]


def _bucket_end(bucket: date, scope: Scope) -> date:
    if scope.grain == "week":
        end = bucket + timedelta(days=6)
    elif scope.grain == "month":
        end = (bucket.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)
    elif scope.grain == "year":
        end = bucket.replace(month=12, day=31)
    else:
        end = bucket
    return min(end, scope.end)


def _start(day: date) -> datetime:
    return datetime.combine(day, datetime.min.time(), tzinfo=UTC)


def _as_date(value: object) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


# --- breakdowns -------------------------------------------------------------------------------


def visits_by(*, scope: Scope, dimension: str, limit: int = 10) -> list[VisitRow]:
    """Visits per value of a visit dimension (from each visit's first event), most first."""
    if dimension not in VISIT_DIMENSIONS:
        raise ValueError(f"unknown visit dimension {dimension!r}")
    if scope.uses_rollups:
        rows = [
            (r["value"], r["visits"], r["bounces"], r["duration"], r["pageviews"])
            for r in _metrics(scope, [dimension])
            .values("value")
            .annotate(
                visits=Sum("visits"), bounces=Sum("bounces"), duration=Sum("duration"), pageviews=Sum("visit_pageviews")
            )
            .filter(visits__gt=0)
            .order_by("-visits", "value")[:limit]
        ]
    else:
        rows = sorted(_raw_visits(scope, dimension), key=lambda r: (-r[1], r[0]))[:limit]
    return [
        VisitRow(value=v or "", visits=int(n), bounces=int(b or 0), duration=int(d or 0), pageviews=int(p or 0))
        for v, n, b, d, p in rows
    ]


def counts_by(*, scope: Scope, dimension: str, limit: int = 10, with_visitors: bool = False) -> list[CountRow]:
    """Page views (or events, for `event` and `exit_link`) per value, most first.

    With `with_visitors`, also the distinct visitors of each row over the whole range (pages,
    courses and tutorial languages only).
    """
    counter = "events" if dimension in COUNTED_EVENTS else "pageviews"
    if scope.uses_rollups:
        rows = list(
            _metrics(scope, [dimension])
            .values("value")
            .annotate(count=Sum(counter), engaged=Sum("engaged_seconds"))
            .filter(count__gt=0)
            .order_by("-count", "value")[:limit]
        )
        visitors: dict[str, int] = {}
        if with_visitors and rows:
            visitors = visitor_sets.distinct(
                site_id=scope.site.pk,
                dimension=dimension,
                values=[r["value"] for r in rows],
                start=scope.start,
                end=scope.end,
            )
        return [
            CountRow(
                value=r["value"],
                count=r["count"],
                engaged_seconds=r["engaged"] or 0.0,
                visitors=visitors.get(r["value"], 0) if with_visitors else None,
            )
            for r in rows
        ]
    return _raw_counts(scope, dimension, limit=limit, with_visitors=with_visitors)


def _raw_counts(scope: Scope, dimension: str, *, limit: int, with_visitors: bool) -> list[CountRow]:
    events = _events(scope)
    if dimension == "event":
        rows = events.values(v=Concat("category", Value("/"), "name")).annotate(count=Count("id"))
        return _top([CountRow(value=r["v"], count=r["count"]) for r in rows], limit)
    if dimension == "exit_link":
        rows = (
            events.filter(category="page_interaction", name="exit_link")
            .values(v=Coalesce(KeyTextTransform("href", "data"), Value(""), output_field=TextField()))
            .annotate(count=Count("id"))
        )
        return _top([CountRow(value=r["v"], count=r["count"]) for r in rows], limit)
    if dimension == "event_name":
        rows = events.filter(PAGE_VIEW).values(v=F("event_name")).annotate(count=Count("id"))
        return _top([CountRow(value=r["v"], count=r["count"]) for r in rows], limit)
    by_path = events.filter(PAGE_VIEW).values("path").annotate(count=Count("id"))
    if dimension == "page":
        engaged = dict(
            events.filter(category="page_interaction", name="engagement")
            .values("path")
            .annotate(s=Sum(Cast(KeyTextTransform("engaged_seconds", "data"), FloatField())))
            .values_list("path", "s")
        )
        top = _top(
            [
                CountRow(value=r["path"], count=r["count"], engaged_seconds=engaged.get(r["path"]) or 0.0)
                for r in by_path
            ],
            limit,
        )
        if with_visitors:
            seen = dict(
                events.filter(PAGE_VIEW, path__in=[r.value for r in top])
                .values("path")
                .annotate(n=Count(_visitor_expr(), distinct=True))
                .values_list("path", "n")
            )
            top = [
                CountRow(value=r.value, count=r.count, engaged_seconds=r.engaged_seconds, visitors=seen.get(r.value, 0))
                for r in top
            ]
        return top
    # Course-like dimensions come from the path: group views by path in SQL, then by course.
    grouped: dict[str, int] = defaultdict(int)
    for r in by_path:
        value = _watch_value(dimension, r["path"])
        if value is not None:
            grouped[value] += r["count"]
    top = _top([CountRow(value=v, count=c) for v, c in grouped.items()], limit)
    if with_visitors and dimension in ("course", "tutorial_language"):
        top = [
            CountRow(value=r.value, count=r.count, visitors=_raw_watch_visitors(scope, dimension, r.value)) for r in top
        ]
    return top


def _raw_watch_visitors(scope: Scope, dimension: str, value: str) -> int:
    events = _events(scope).filter(PAGE_VIEW)
    if dimension == "course":
        events = events.filter(path__startswith=f"{WATCH_PREFIX}{value}/")
    else:
        events = events.filter(path__regex=rf"^{re.escape(WATCH_PREFIX)}[^/]+/[^/]+/{re.escape(value)}(/|$)")
    return events.aggregate(n=Count(_visitor_expr(), distinct=True))["n"]


def _watch_value(dimension: str, path: str) -> str | None:
    parts = watch_parts(path)
    if parts is None:
        return None
    course, tutorial, language = parts
    return {
        "course": course,
        "tutorial_language": language,
        "course_language": f"{course}|{language}",
        "tutorial": f"{course}|{tutorial}",
    }[dimension]


def _top(rows: list[CountRow], limit: int) -> list[CountRow]:
    return sorted((r for r in rows if r.count > 0), key=lambda r: (-r.count, r.value))[:limit]


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


# --- realtime, visitors, quality ---------------------------------------------------------------


@dataclass(frozen=True)
class Realtime:
    visitors: int
    pageviews: int
    pages: list[CountRow]
    per_minute: list[tuple[datetime, int]]


def realtime(*, site: Site, now: datetime | None = None, minutes: int = 30) -> Realtime:
    """Visitors and page views of the last `minutes` (raw events: a small, indexed slice)."""
    now = now or datetime.now(UTC)
    since = now - timedelta(minutes=minutes)
    recent = Event.objects.filter(site=site, timestamp__gte=since, timestamp__lte=now)
    counts = recent.aggregate(visitors=Count(_visitor_expr(), distinct=True), views=Count("id", filter=PAGE_VIEW))
    pages = [
        CountRow(value=r["path"], count=r["n"], visitors=r["v"])
        for r in recent.filter(PAGE_VIEW)
        .values("path")
        .annotate(n=Count("id"), v=Count(_visitor_expr(), distinct=True))
        .order_by("-v", "-n", "path")[:20]
    ]
    by_minute: dict[datetime, int] = defaultdict(int)
    for moment in recent.filter(PAGE_VIEW).values_list("timestamp", flat=True):
        by_minute[moment.replace(second=0, microsecond=0)] += 1
    start = since.replace(second=0, microsecond=0)
    per_minute = [
        (start + timedelta(minutes=i), by_minute.get(start + timedelta(minutes=i), 0)) for i in range(minutes + 1)
    ]
    return Realtime(visitors=counts["visitors"], pageviews=counts["views"], pages=pages, per_minute=per_minute)


def recent_sessions(*, scope: Scope, limit: int = 50) -> list[Session]:
    """The latest visits that started in the scope's range, newest first."""
    sessions = Session.objects.filter(
        site=scope.site, started_at__gte=scope.start_at(), started_at__lt=scope.end_before()
    )
    for name in ("country", "device_type", "browser"):
        if name in scope.filters:
            sessions = sessions.filter(**{name: scope.filters[name]})
    return list(sessions.order_by("-started_at")[:limit])


@dataclass(frozen=True)
class Step:
    at: datetime
    session_id: str
    kind: str
    path: str
    title: str
    seconds: float | None  # time until the visitor's next event in the same visit


def journey(*, site: Site, visitor: str, limit: int = 500) -> list[Step]:
    """One visitor's events in order, with the time spent before the next one in the same visit."""
    events = list(
        Event.objects.filter(site=site)
        .filter(Q(visitor_id=visitor) | Q(visitor_id="", session_id=visitor))
        .annotate(
            next_at=Window(
                Lead("timestamp"), partition_by=[F("session_id")], order_by=[F("timestamp").asc(), F("id").asc()]
            )
        )
        .order_by("timestamp", "id")
        .values("timestamp", "session_id", "category", "name", "path", "title", "next_at")[:limit]
    )
    return [
        Step(
            at=e["timestamp"],
            session_id=e["session_id"],
            kind=f"{e['category']}/{e['name']}",
            path=e["path"],
            title=e["title"],
            seconds=(e["next_at"] - e["timestamp"]).total_seconds() if e["next_at"] else None,
        )
        for e in events
    ]


@dataclass(frozen=True)
class Dropped:
    reason: str
    count: int


def dropped(*, scope: Scope) -> list[Dropped]:
    """Events not stored in the range, per reason (bot, invalid, duplicate)."""
    rows = (
        DroppedEvents.objects.filter(site=scope.site, day__gte=scope.start, day__lte=scope.end)
        .values("reason")
        .annotate(n=Sum("count"))
        .order_by("-n", "reason")
    )
    return [Dropped(reason=r["reason"], count=r["n"]) for r in rows]


def dropped_by_day(*, scope: Scope) -> dict[str, dict[date, int]]:
    """Dropped events per reason and day, for the quality trend."""
    found: dict[str, dict[date, int]] = defaultdict(dict)
    for r in (
        DroppedEvents.objects.filter(site=scope.site, day__gte=scope.start, day__lte=scope.end)
        .values("reason", "day")
        .annotate(n=Sum("count"))
    ):
        found[r["reason"]][r["day"]] = r["n"]
    return found


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
        return _ratio(self.completed, self.started)

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


def queue_state() -> dict[str, object]:
    """Depth, failed jobs and workers of the events queue ({"error": …} when Redis is down)."""
    import django_rq
    from redis.exceptions import RedisError
    from rq import Worker

    from events.jobs import QUEUE

    try:
        queue = django_rq.get_queue(QUEUE)
        return {
            "depth": queue.count,
            "failed_jobs": queue.failed_job_registry.count,
            "workers": Worker.count(queue=queue),
        }
    except RedisError as error:
        return {"error": str(error)}
