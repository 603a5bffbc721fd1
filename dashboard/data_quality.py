"""Data quality: what was not stored (bots, refused, duplicates) and the state of the queue."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date

from django.db.models import Sum

from dashboard.scope import Scope
from events.models import DroppedEvents


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
