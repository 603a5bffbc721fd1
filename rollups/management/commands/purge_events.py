"""Delete raw events older than each site's retention period; the dashboards' rollups are kept."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand

from events import retention
from events.models import Site


class Command(BaseCommand):
    help = (
        "Delete raw events, visits and visitors older than each site's retention (its own setting, else "
        "EVENTS_RETENTION_DAYS; 0 keeps everything). --days overrides it for every site."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--days", type=int, default=None)

    def handle(self, *args: Any, days: int | None, **options: Any) -> None:
        # Cut at midnight UTC so the oldest day left is complete and its rollups can be rebuilt.
        midnight = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
        for site in Site.objects.order_by("pk"):
            keep = site.retention(default=settings.EVENTS_RETENTION_DAYS) if days is None else days
            if keep <= 0:
                self.stdout.write(f"{site.name}: retention is off, nothing deleted")
                continue
            cutoff = midnight - timedelta(days=keep)
            purged = retention.purge(site=site, before=cutoff)
            self.stdout.write(
                f"{site.name}: deleted {purged.events} events, {purged.visits} visits and {purged.visitors} "
                f"visitors before {cutoff:%Y-%m-%d}"
            )
