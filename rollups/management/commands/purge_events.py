"""Delete raw events older than the retention period; the dashboards' rollups are kept."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand

from events.models import Event


class Command(BaseCommand):
    help = "Delete raw events older than --days (default EVENTS_RETENTION_DAYS; 0 keeps everything)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--days", type=int, default=None)

    def handle(self, *args: Any, days: int | None, **options: Any) -> None:
        days = settings.EVENTS_RETENTION_DAYS if days is None else days
        if days <= 0:
            self.stdout.write("retention is off: no events deleted")
            return
        # Cut at midnight UTC so the oldest day left is complete and its rollups can be rebuilt.
        cutoff = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0) - timedelta(days=days)
        deleted, _ = Event.objects.filter(timestamp__lt=cutoff).delete()
        self.stdout.write(f"deleted {deleted} events before {cutoff:%Y-%m-%d}")
