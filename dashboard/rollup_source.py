"""Numbers of an unfiltered scope, read from the rollups (`rollups.models`).

Each function answers the same question as its namesake in `dashboard.raw_source`, with the same
definitions (`rollups.definitions`); `dashboard.queries` chooses which one answers. Rollups hold
one dimension at a time, so they answer only scopes without filters.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import date

from django.db.models import QuerySet, Sum

from dashboard.rows import CountRow, Totals, TrendPoint, VisitRow
from dashboard.scope import Scope, bucket_of, buckets
from rollups import definitions, visitor_sets
from rollups.models import DailyMetric


def _metrics(scope: Scope, dimensions: Iterable[str]) -> QuerySet[DailyMetric]:
    return DailyMetric.objects.filter(
        site=scope.site, dimension__in=list(dimensions), day__gte=scope.start, day__lte=scope.end
    )


def totals(*, scope: Scope) -> Totals:
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


def trend(*, scope: Scope) -> list[TrendPoint]:
    visits: dict[date, int] = defaultdict(int)
    views: dict[date, int] = defaultdict(int)
    for row in _metrics(scope, ["total"]).values("day", "visits", "pageviews"):
        visits[bucket_of(row["day"], scope.grain)] += row["visits"]
        views[bucket_of(row["day"], scope.grain)] += row["pageviews"]
    # Distinct within each bucket: the union of its days' visitor sets, never a sum of days.
    visitors = visitor_sets.distinct_per_bucket(
        site_id=scope.site.pk, start=scope.start, end=scope.end, bucket_of=lambda day: bucket_of(day, scope.grain)
    )
    return [
        TrendPoint(bucket=b, visitors=visitors.get(b, 0), visits=visits.get(b, 0), pageviews=views.get(b, 0))
        for b in buckets(scope=scope)
    ]


def visits_by(*, scope: Scope, dimension: str, limit: int) -> list[VisitRow]:
    rows = (
        _metrics(scope, [dimension])
        .values("value")
        .annotate(
            visits=Sum("visits"), bounces=Sum("bounces"), duration=Sum("duration"), pageviews=Sum("visit_pageviews")
        )
        .filter(visits__gt=0)
        .order_by("-visits", "value")[:limit]
    )
    return [
        VisitRow(
            value=r["value"] or "",
            visits=r["visits"],
            bounces=r["bounces"] or 0,
            duration=r["duration"] or 0,
            pageviews=r["pageviews"] or 0,
        )
        for r in rows
    ]


def counts_by(*, scope: Scope, dimension: str, limit: int, with_visitors: bool) -> list[CountRow]:
    counter = definitions.dimension(dimension).counter
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
