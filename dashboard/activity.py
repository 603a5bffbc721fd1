"""What is happening now and who did what: realtime, recent visits and one visitor's journey.

Small, indexed slices of raw events and sessions; the definitions are those of
`rollups.definitions`, as everywhere.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.db.models import Count, F, Q
from django.db.models.expressions import Window
from django.db.models.functions import Lead

from dashboard.raw_source import PAGE_VIEW, visitor_expr
from dashboard.rows import CountRow
from dashboard.scope import Scope
from events.models import Event, Session, Site
from rollups import definitions


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
    counts = recent.aggregate(visitors=Count(visitor_expr(), distinct=True), views=Count("id", filter=PAGE_VIEW))
    pages = [
        CountRow(value=r["path"], count=r["n"], visitors=r["v"])
        for r in recent.filter(PAGE_VIEW)
        .values("path")
        .annotate(n=Count("id"), v=Count(visitor_expr(), distinct=True))
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
    for name, dimension in definitions.VISIT_FILTERS.items():
        if name in scope.filters:
            sessions = sessions.filter(**{dimension.name: scope.filters[name]})
    return list(sessions.order_by("-started_at")[:limit])


@dataclass(frozen=True)
class Step:
    at: datetime
    visit_id: str
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
                Lead("timestamp"), partition_by=[F("visit_id")], order_by=[F("timestamp").asc(), F("id").asc()]
            )
        )
        .order_by("timestamp", "id")
        .values("timestamp", "visit_id", "category", "name", "path", "title", "next_at")[:limit]
    )
    return [
        Step(
            at=e["timestamp"],
            visit_id=e["visit_id"],
            kind=f"{e['category']}/{e['name']}",
            path=e["path"],
            title=e["title"],
            seconds=(e["next_at"] - e["timestamp"]).total_seconds() if e["next_at"] else None,
        )
        for e in events
    ]
