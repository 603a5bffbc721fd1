"""Hourly buckets for one-day ranges (Today, Yesterday, a single custom day).

Rollups are per day, so a day's 24 buckets come from raw events: one indexed slice of a single
day, grouped by hour in the database.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from dashboard import raw_source
from dashboard.scope import Scope


@dataclass(frozen=True)
class HourPoint:
    bucket: datetime  # the hour's start, UTC
    visitors: int  # distinct visitors active in the hour
    visits: int  # visits that started in the hour
    pageviews: int


def hourly_trend(*, scope: Scope) -> list[HourPoint]:
    """Every hour of the scope's range up to the current one, oldest first, empty hours included.

    Visits are counted in the hour they started (as days count them), so the hours of a day add up
    to its visits and page views; visitors are distinct within each hour.
    """
    rows = raw_source.hourly(scope=scope)
    start, now = scope.start_at(), datetime.now(UTC)
    hours = [start + timedelta(hours=i) for i in range(24 * scope.days) if start + timedelta(hours=i) <= now]
    return [
        HourPoint(
            bucket=hour,
            visitors=rows.get(hour, (0, 0, 0))[0],
            visits=rows.get(hour, (0, 0, 0))[1],
            pageviews=rows.get(hour, (0, 0, 0))[2],
        )
        for hour in hours
    ]


def _utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)
