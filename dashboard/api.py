"""`GET /api/stats/`: metrics × one optional dimension over a scope, as JSON (staff only).

Same parameters as the dashboard pages (site, period or from/to, filters) plus `metrics` and
`dimension`; the numbers come from the same `dashboard.queries` functions as the pages.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from dashboard import queries
from dashboard.scope import FILTERS, Scope, ScopeError, parse_scope
from events.api.serializers import ErrorSerializer
from the_eye.api_errors import ApiError

TOTAL_METRICS = (
    "visitors",
    "visits",
    "pageviews",
    "events",
    "bounce_rate",
    "visit_duration",
    "pages_per_visit",
    "new_visits",
    "returning_visits",
)
VISIT_METRICS = ("visits", "pageviews", "bounce_rate", "visit_duration", "pages_per_visit")
# dimension → (kind, query dimension, metrics it can answer)
DIMENSIONS: dict[str, tuple[str, str, tuple[str, ...]]] = {
    "page": ("count", "page", ("pageviews", "visitors", "average_time")),
    "course": ("count", "course", ("pageviews", "visitors")),
    "language": ("count", "tutorial_language", ("pageviews", "visitors")),
    "country": ("visit", "country", VISIT_METRICS),
    "city": ("visit", "city", VISIT_METRICS),
    "browser": ("visit", "browser", VISIT_METRICS),
    "device": ("visit", "device_type", VISIT_METRICS),
    "source": ("visit", "referrer", VISIT_METRICS),
    "channel": ("visit", "channel", VISIT_METRICS),
    "day": ("time", "day", ("visitors", "visits", "pageviews")),
    "week": ("time", "week", ("visitors", "visits", "pageviews")),
    "month": ("time", "month", ("visitors", "visits", "pageviews")),
}
MAX_LIMIT = 1000


def _bad(field: str, rule: str) -> ApiError:
    return ApiError(
        status_code=400, code="invalid_parameter", detail=f"{field}: {rule}", errors=[{"field": field, "rule": rule}]
    )


def _metrics(raw: str, allowed: tuple[str, ...], dimension: str) -> list[str]:
    names = [m.strip() for m in raw.split(",") if m.strip()] or list(allowed[:3])
    for name in names:
        if name not in allowed:
            where = f"with dimension {dimension}" if dimension else "without a dimension"
            raise _bad("metrics", f"{name} is not available {where}; choose from {', '.join(allowed)}")
    return names


def _value(row: Any, metric: str) -> Any:
    if metric == "pageviews" and isinstance(row, queries.CountRow):
        return row.count
    value = getattr(row, metric)
    return round(value, 4) if isinstance(value, float) else value


def stats(*, scope: Scope, metrics: str, dimension: str, limit: int) -> dict[str, Any]:
    """The JSON body for one stats request; raises ApiError (400) naming a bad parameter."""
    if not dimension:
        names = _metrics(metrics, TOTAL_METRICS, "")
        totals = queries.totals(scope=scope)
        return {"results": [{m: _value(totals, m) for m in names}], "metrics": names}
    if dimension not in DIMENSIONS:
        raise _bad("dimension", f"must be one of {', '.join(DIMENSIONS)}")
    kind, query_dimension, allowed = DIMENSIONS[dimension]
    names = _metrics(metrics, allowed, dimension)
    if kind == "time":
        from dataclasses import replace

        points = queries.trend(scope=replace(scope, grain=query_dimension))
        rows = [{dimension: p.bucket.isoformat(), **{m: getattr(p, m) for m in names}} for p in points]
    elif kind == "count":
        found = queries.counts_by(
            scope=scope, dimension=query_dimension, limit=limit, with_visitors="visitors" in names
        )
        rows = [{dimension: r.value, **{m: _value(r, m) for m in names}} for r in found]
    else:
        found = queries.visits_by(scope=scope, dimension=query_dimension, limit=limit)
        rows = [{dimension: r.value, **{m: _value(r, m) for m in names}} for r in found]
    return {"results": rows, "metrics": names}


class StatsView(APIView):
    """Aggregated statistics of one site over a date range (staff: session, Basic or token)."""

    @extend_schema(
        parameters=[
            OpenApiParameter("site", str, description="public site id (default: the default site)"),
            OpenApiParameter("period", str, description="today, yesterday, 7d, 10d, 30d or 90d"),
            OpenApiParameter("from", str, description="first day, YYYY-MM-DD (with `to`: a custom range)"),
            OpenApiParameter("to", str, description="last day, inclusive"),
            OpenApiParameter("metrics", str, description="comma-separated, e.g. visitors,pageviews"),
            OpenApiParameter("dimension", str, description=", ".join(DIMENSIONS)),
            OpenApiParameter("limit", int, description=f"rows per dimension, at most {MAX_LIMIT}"),
            *[OpenApiParameter(name, str, description=f"filter on {name}") for name in FILTERS],
        ],
        responses={
            200: dict,
            400: OpenApiResponse(ErrorSerializer, description="a parameter broke a rule, named in `errors`"),
            401: OpenApiResponse(ErrorSerializer, description="wrong credentials"),
            403: OpenApiResponse(ErrorSerializer, description="not logged in, or not staff"),
        },
    )
    def get(self, request: Request) -> Response:
        try:
            scope = parse_scope(params=request.query_params)
        except ScopeError as error:
            raise _bad(error.field, error.rule) from None
        limit_text = request.query_params.get("limit", "100")
        if not (limit_text.isascii() and limit_text.isdecimal()) or not 1 <= int(limit_text) <= MAX_LIMIT:
            raise _bad("limit", f"must be a whole number from 1 to {MAX_LIMIT}")
        dimension = request.query_params.get("dimension", "")
        body = stats(
            scope=scope, metrics=request.query_params.get("metrics", ""), dimension=dimension, limit=int(limit_text)
        )
        return Response(
            {
                "site": scope.site.site_id,
                "from": scope.start.isoformat(),
                "to": scope.end.isoformat(),
                "dimension": dimension or None,
                "filters": scope.filters,
                **body,
            }
        )
