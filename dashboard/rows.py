"""The rows every dashboard number comes in: plain dataclasses, raw values (counts, seconds,
ratios), formatted only where they are shown. Both sources (`dashboard.rollup_source`,
`dashboard.raw_source`) return these, so a page cannot tell which one answered.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date


def ratio(part: float, whole: float) -> float:
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
        return ratio(self.visit_pageviews, self.visits)

    @property
    def bounce_rate(self) -> float:
        return ratio(self.bounces, self.visits)

    @property
    def visit_duration(self) -> float:
        return ratio(self.duration, self.visits)


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
        return ratio(self.bounces, self.visits)

    @property
    def visit_duration(self) -> float:
        return ratio(self.duration, self.visits)

    @property
    def pages_per_visit(self) -> float:
        return ratio(self.pageviews, self.visits)


@dataclass(frozen=True)
class CountRow:
    value: str
    count: int  # page views, or events for COUNTED_EVENTS
    visitors: int | None = None  # distinct over the whole range
    engaged_seconds: float = 0.0

    @property
    def average_time(self) -> float:
        """Average engaged seconds per view (pages only)."""
        return ratio(self.engaged_seconds, self.count)


@dataclass(frozen=True)
class CityPoint:
    country: str
    region: str
    city: str
    visits: int
    latitude: float | None
    longitude: float | None


def top(rows: list[CountRow], limit: int) -> list[CountRow]:
    """The rows with a count, most first (ties by value), at most `limit`."""
    return sorted((r for r in rows if r.count > 0), key=lambda r: (-r.count, r.value))[:limit]
