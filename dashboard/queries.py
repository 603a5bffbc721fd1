"""Every number the dashboards, `/api/stats/` and the exports show: the one place they ask.

Each question is answered by one of two sources, chosen once per query by `source()`: the
rollups (`dashboard.rollup_source`) when the scope has no filter, GROUP BY over raw events
(`dashboard.raw_source`) otherwise. Both follow the definitions in `rollups.definitions`; the
tests and `bench/dashboard.py` check that they give the same numbers.
"""

from __future__ import annotations

from types import ModuleType

from django.db.models import Q

from dashboard import raw_source, rollup_source
from dashboard.rows import CityPoint, Comparison, CountRow, Totals, TrendPoint, VisitRow
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
