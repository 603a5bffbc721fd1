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
from dashboard.scope import Scope, ScopeError, parse_scope
from events.api.serializers import ErrorSerializer
from rollups import definitions
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
TIME_METRICS = ("visitors", "visits", "pageviews")
# Shorter public names of some registered dimensions (both spellings are accepted).
ALIASES = {
    "browser_language": "language",
    "language": "tutorial_language",
    "device": "device_type",
    "source": "referrer",
}


def dimensions() -> dict[str, tuple[str, str, tuple[str, ...]]]:
    """Every dimension the API answers: public name → (kind, registered name, its metrics).

    Read from the registry of definitions, so a dimension added there is answered here too.
    """
    found: dict[str, tuple[str, str, tuple[str, ...]]] = {}
    for name in definitions.VISIT_DIMENSIONS:
        if name != "total":
            found[name] = ("visit", name, VISIT_METRICS)
    for name, dimension in definitions.EVENT_DIMENSIONS.items():
        if dimension.counter == "events":
            metrics: tuple[str, ...] = ("events",)
        else:
            metrics = ("pageviews", *(("visitors",) if dimension.visitor_sets else ()))
            metrics += ("average_time",) if name == "page" else ()
        found[name] = ("count", name, metrics)
    registered = dict(found)
    for alias, name in ALIASES.items():
        found[alias] = registered[name]
    for grain in ("day", "week", "month"):
        found[grain] = ("time", grain, TIME_METRICS)
    return found


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
    if metric in ("pageviews", "events") and isinstance(row, queries.CountRow):
        return row.count
    value = getattr(row, metric)
    return round(value, 4) if isinstance(value, float) else value


def stats(*, scope: Scope, metrics: str, dimension: str, limit: int) -> dict[str, Any]:
    """The JSON body for one stats request; raises ApiError (400) naming a bad parameter."""
    if not dimension:
        names = _metrics(metrics, TOTAL_METRICS, "")
        totals = queries.totals(scope=scope)
        return {"results": [{m: _value(totals, m) for m in names}], "metrics": names}
    known = dimensions()
    if dimension not in known:
        raise _bad("dimension", f"must be one of {', '.join(known)}")
    kind, query_dimension, allowed = known[dimension]
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
        visits = queries.visits_by(scope=scope, dimension=query_dimension, limit=limit)
        rows = [{dimension: r.value, **{m: _value(r, m) for m in names}} for r in visits]
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
            OpenApiParameter("dimension", str, description=", ".join(dimensions())),
            OpenApiParameter("limit", int, description=f"rows per dimension, at most {MAX_LIMIT}"),
            *[OpenApiParameter(name, str, description=f"filter on {name}") for name in definitions.filter_names()],
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
