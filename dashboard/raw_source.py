"""Numbers of any scope by GROUP BY over raw events: the source of filtered scopes.

Each function answers the same question as its namesake in `dashboard.rollup_source`, with the
definitions of `rollups.definitions`; `dashboard.queries` chooses which one answers, and the
tests check that both give the same numbers.

Filters are defined once, here, for every page, the stats API and the exports:
- a visit filter (country, browser, device type) selects the visits whose first event has that
  value (as `events.Session` keeps it), and counts their events;
- a page filter (path, course, language) selects, for visit metrics (visits, bounces, duration,
  entry and exit pages), the visits with a matching page view, all their events counted; and,
  for event metrics (page views, events, visitors, pages), the events on matching pages.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from typing import Any

from django.db import connection
from django.db.models import Case, Count, F, FloatField, IntegerField, Q, QuerySet, Sum, TextField, Value, When
from django.db.models.expressions import Window
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Cast, Coalesce, Concat, NullIf, RowNumber, Trunc

from dashboard.rows import CountRow, Totals, TrendPoint, VisitRow, top
from dashboard.scope import Scope, bucket_of, buckets
from events.models import Event, Session
from rollups import definitions
from rollups.definitions import Role

# Visits may run past midnight; visit queries read this much around the range to see whole visits.
VISIT_MARGIN = timedelta(days=1)
PAGE_VIEW = Q(role=Role.PAGE_VIEW)


def visitor_expr() -> Coalesce:
    """Who an event counts for: its visitor id, or its client session when it has none."""
    return Coalesce(NullIf(F("visitor_id"), Value("")), F("session_id"))


def _in_range(scope: Scope, *, margin: timedelta = timedelta(0)) -> QuerySet[Event]:
    return Event.objects.filter(
        site=scope.site, timestamp__gte=scope.start_at() - margin, timestamp__lt=scope.end_before() + margin
    )


def _visit_filter(scope: Scope) -> Q:
    """The visits whose first event has the scope's country, browser and device type."""
    wanted = {
        dimension.name: scope.filters[name]
        for name, dimension in definitions.VISIT_FILTERS.items()
        if name in scope.filters
    }
    if not wanted:
        return Q()
    return Q(visit_id__in=Session.objects.filter(site=scope.site, **wanted).values("visit_id"))


def _page_filter(scope: Scope) -> Q | None:
    """Paths of the pages the scope's page filters name (None: no page filter)."""
    found = None
    for name, page_filter in definitions.PAGE_FILTERS.items():
        if name in scope.filters:
            found = (found or Q()) & Q(**page_filter.lookup(scope.filters[name]))
    return found


def events(scope: Scope) -> QuerySet[Event]:
    """The events event metrics count: in the range, in selected visits, on selected pages."""
    selected = _in_range(scope).filter(_visit_filter(scope))
    pages = _page_filter(scope)
    return selected.filter(pages) if pages is not None else selected


def _adapt(moment: datetime) -> Any:
    return connection.ops.adapt_datetimefield_value(moment)


def _duration_sql(started: str, ended: str) -> str:
    if connection.vendor == "postgresql":
        return f"FLOOR(EXTRACT(EPOCH FROM ({ended} - {started})))"
    # Milliseconds first, so float error in julianday() cannot truncate a whole second away.
    return f"(CAST(ROUND((julianday({ended}) - julianday({started})) * 86400000) AS INTEGER) / 1000)"


def _bucket_sql(moment: str, grain: str) -> str:
    """The start of the UTC day or hour a moment falls in, in SQL."""
    if grain == "hour":
        if connection.vendor == "postgresql":
            return f"date_trunc('hour', {moment} AT TIME ZONE 'UTC')"
        return f"strftime('%%Y-%%m-%%d %%H:00:00', {moment})"
    return f"CAST({moment} AS DATE)" if connection.vendor == "postgresql" else f"date({moment})"


def _flag(condition: Q) -> Case:
    return Case(When(condition, then=Value(1)), default=Value(0), output_field=IntegerField())


def _visits(scope: Scope, dimension: str, *, by: str = "") -> list[tuple[Any, ...]]:
    """(value, [start day or hour,] visits, bounces, duration, page views) of the scope's visits."""
    definition = definitions.VISIT_DIMENSIONS[dimension]
    pages = _page_filter(scope)
    annotations: dict[str, Any] = {
        "is_pv": _flag(PAGE_VIEW),
        "is_int": _flag(Q(role=Role.INTERACTION)),
        "rn": Window(RowNumber(), partition_by=[F("visit_id")], order_by=[F("timestamp").asc(), F("id").asc()]),
    }
    if pages is not None:
        annotations["is_match"] = _flag(PAGE_VIEW & pages)
    if dimension in ("entry", "exit"):
        # Numbered within (visit, is page view): row 1 of the page views is the entry (or exit).
        ascending = dimension == "entry"
        order = [F("timestamp").asc(), F("id").asc()] if ascending else [F("timestamp").desc(), F("id").desc()]
        annotations["pv_k"] = Window(RowNumber(), partition_by=[F("visit_id"), annotations["is_pv"]], order_by=order)
    ev = (
        _in_range(scope, margin=VISIT_MARGIN)
        .filter(_visit_filter(scope))
        .annotate(**annotations)
        .values("id", "visit_id", "timestamp", "path", *definitions.VISIT_ATTRIBUTES, *annotations)
    )
    ev_sql, params = ev.query.sql_with_params()
    pv_path, conditions = "NULL", ""
    if dimension in ("entry", "exit"):
        # The entry (exit) page travels with the visit's aggregate: no second join over events.
        pv_path = "MAX(CASE WHEN is_pv = 1 AND pv_k = 1 THEN path END)"
        conditions += " AND s.pv_path IS NOT NULL"
    matched = "MAX(is_match)" if pages is not None else "1"
    if pages is not None:
        conditions += " AND s.matched = 1"
    value = "s.pv_path" if dimension in ("entry", "exit") else definition.sql
    day = f", {_bucket_sql('s.started', by)}" if by else ""
    sql = (
        f"WITH ev AS ({ev_sql}), "
        "s AS (SELECT visit_id, MIN(timestamp) AS started, MAX(timestamp) AS ended, SUM(is_pv) AS views, "
        f"SUM(is_int) AS inters, {matched} AS matched, {pv_path} AS pv_path FROM ev GROUP BY visit_id) "
        f"SELECT {value} AS v{day}, COUNT(*), SUM(CASE WHEN s.views < 2 AND s.inters = 0 THEN 1 ELSE 0 END), "
        f"SUM({_duration_sql('s.started', 's.ended')}), SUM(s.views) "
        f"FROM s JOIN ev f ON f.visit_id = s.visit_id AND f.rn = 1 "
        f"WHERE s.started >= %s AND s.started < %s{conditions} GROUP BY 1{', 2' if by else ''}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, (*params, _adapt(scope.start_at()), _adapt(scope.end_before())))
        return cursor.fetchall()


def totals(*, scope: Scope) -> Totals:
    counts = events(scope).aggregate(
        visitors=Count(visitor_expr(), distinct=True), events=Count("id"), pageviews=Count("id", filter=PAGE_VIEW)
    )
    visits = {row[0]: row for row in _visits(scope, "visitor_type")}
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


def _as_date(value: object) -> date:
    if isinstance(value, datetime):
        return value.astimezone(UTC).date() if value.tzinfo else value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


def trend(*, scope: Scope) -> list[TrendPoint]:
    visits: dict[date, int] = defaultdict(int)
    for _value, day, count, *_ in _visits(scope, "total", by="day"):
        visits[bucket_of(_as_date(day), scope.grain)] += count
    rows = (
        events(scope)
        .annotate(bucket=Trunc("timestamp", scope.grain, tzinfo=UTC))
        .values("bucket")
        .annotate(n=Count(visitor_expr(), distinct=True), views=Count("id", filter=PAGE_VIEW))
    )
    visitors = {_as_date(r["bucket"]): r["n"] for r in rows}
    views = {_as_date(r["bucket"]): r["views"] for r in rows}
    return [
        TrendPoint(bucket=b, visitors=visitors.get(b, 0), visits=visits.get(b, 0), pageviews=views.get(b, 0))
        for b in buckets(scope=scope)
    ]


def visits_by(*, scope: Scope, dimension: str, limit: int) -> list[VisitRow]:
    rows = sorted(_visits(scope, dimension), key=lambda r: (-r[1], r[0] or ""))[:limit]
    return [
        VisitRow(value=v or "", visits=int(n), bounces=int(b or 0), duration=int(d or 0), pageviews=int(p or 0))
        for v, n, b, d, p in rows
    ]


def counts_by(*, scope: Scope, dimension: str, limit: int, with_visitors: bool) -> list[CountRow]:
    selected = events(scope)
    if dimension == "event":
        rows = selected.values(v=Concat("category", Value("/"), "name")).annotate(count=Count("id"))
        return top([CountRow(value=r["v"], count=r["count"]) for r in rows], limit)
    if dimension == "exit_link":
        rows = (
            selected.filter(category="page_interaction", name="exit_link")
            .values(v=Coalesce(KeyTextTransform("href", "data"), Value(""), output_field=TextField()))
            .annotate(count=Count("id"))
        )
        return top([CountRow(value=r["v"], count=r["count"]) for r in rows], limit)
    if dimension == "event_name":
        rows = selected.filter(PAGE_VIEW).values(v=F("event_name")).annotate(count=Count("id"))
        return top([CountRow(value=r["v"], count=r["count"]) for r in rows], limit)
    if dimension == "page":
        return _pages(selected, limit=limit, with_visitors=with_visitors)
    return _offered(selected, definitions.dimension(dimension), limit=limit, with_visitors=with_visitors)


def _pages(selected: QuerySet[Event], *, limit: int, with_visitors: bool) -> list[CountRow]:
    by_path = selected.filter(PAGE_VIEW).values("path").annotate(count=Count("id"))
    engaged = dict(
        selected.filter(role=Role.ENGAGEMENT)
        .values("path")
        .annotate(s=Sum(Cast(KeyTextTransform("engaged_seconds", "data"), FloatField())))
        .values_list("path", "s")
    )
    found = top(
        [CountRow(value=r["path"], count=r["count"], engaged_seconds=engaged.get(r["path"]) or 0.0) for r in by_path],
        limit,
    )
    if not with_visitors:
        return found
    seen = dict(
        selected.filter(PAGE_VIEW, path__in=[r.value for r in found])
        .values("path")
        .annotate(n=Count(visitor_expr(), distinct=True))
        .values_list("path", "n")
    )
    return [
        CountRow(value=r.value, count=r.count, engaged_seconds=r.engaged_seconds, visitors=seen.get(r.value, 0))
        for r in found
    ]


def _offered(
    selected: QuerySet[Event], dimension: definitions.Dimension, *, limit: int, with_visitors: bool
) -> list[CountRow]:
    """A dimension another app offers (courses): page views grouped by path in SQL, then by the
    dimension's own extractor — the one the rollups use — in Python."""
    assert dimension.of_event is not None
    counts: dict[str, int] = defaultdict(int)
    for path, count in selected.filter(PAGE_VIEW).values("path").annotate(n=Count("id")).values_list("path", "n"):
        value = dimension.of_event({"role": Role.PAGE_VIEW, "path": path})
        if value is not None:
            counts[value] += count
    found = top([CountRow(value=v, count=c) for v, c in counts.items()], limit)
    if not (with_visitors and dimension.visitor_sets):
        return found
    wanted = {r.value for r in found}
    visitors: dict[str, set[str]] = defaultdict(set)
    pairs = selected.filter(PAGE_VIEW).values_list("path", visitor_expr()).distinct()
    for path, visitor in pairs.iterator(chunk_size=5000):
        value = dimension.of_event({"role": Role.PAGE_VIEW, "path": path})
        if value in wanted:
            visitors[value].add(visitor)
    return [CountRow(value=r.value, count=r.count, visitors=len(visitors[r.value])) for r in found]


def hourly(*, scope: Scope) -> dict[datetime, tuple[int, int, int]]:
    """Per UTC hour of the range: (visitors with an event in it, visits that started in it, page
    views). Rollups are per day, so one-day ranges are drawn from raw events by the hour."""
    visits: dict[datetime, int] = defaultdict(int)
    for _value, hour, count, *_ in _visits(scope, "total", by="hour"):
        visits[_as_hour(hour)] += int(count)
    rows = (
        events(scope)
        .annotate(hour=Trunc("timestamp", "hour", tzinfo=UTC))
        .values("hour")
        .annotate(n=Count(visitor_expr(), distinct=True), views=Count("id", filter=PAGE_VIEW))
    )
    found = {_as_hour(r["hour"]): (r["n"], 0, r["views"]) for r in rows}
    for hour, count in visits.items():
        seen, _, views = found.get(hour, (0, 0, 0))
        found[hour] = (seen, count, views)
    return found


def _as_hour(value: object) -> datetime:
    if isinstance(value, datetime):
        return value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)
    return datetime.fromisoformat(str(value)[:19]).replace(tzinfo=UTC)
