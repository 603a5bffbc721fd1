"""Hourly buckets for one-day ranges (Today, Yesterday, a single custom day).

Rollups are per day, so a day's 24 buckets come from raw events: one indexed slice of a single
day, grouped by hour in the database.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.db.models import Count
from django.db.models.functions import TruncHour

from dashboard import queries
from dashboard.scope import Scope


@dataclass(frozen=True)
class HourPoint:
    bucket: datetime  # the hour's start, UTC
    visitors: int  # distinct visitors active in the hour
    visits: int  # distinct visits active in the hour
    pageviews: int


def hourly_trend(*, scope: Scope) -> list[HourPoint]:
    """Every hour of the scope's range up to the current one, oldest first, empty hours included.

    Visitors and visits are those with an event in the hour, so a visit that spans two hours
    counts in both: hours are not meant to add up to the day's total.
    """
    rows = {
        _utc(r["hour"]): r
        for r in queries._events(scope)
        .annotate(hour=TruncHour("timestamp", tzinfo=UTC))
        .values("hour")
        .annotate(
            visitors=Count(queries._visitor_expr(), distinct=True),
            visits=Count("session_id", distinct=True),
            pageviews=Count("id", filter=queries.PAGE_VIEW),
        )
    }
    start, now = scope.start_at(), datetime.now(UTC)
    hours = [start + timedelta(hours=i) for i in range(24 * scope.days) if start + timedelta(hours=i) <= now]
    return [
        HourPoint(
            bucket=hour,
            visitors=rows[hour]["visitors"] if hour in rows else 0,
            visits=rows[hour]["visits"] if hour in rows else 0,
            pageviews=rows[hour]["pageviews"] if hour in rows else 0,
        )
        for hour in hours
    ]


def _utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)
