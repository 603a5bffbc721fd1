"""Recompute the dashboard rollups from raw events (repair / catch-up)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from events.models import Site
from rollups.update import rebuild


class Command(BaseCommand):
    help = "Delete and recompute the rollups of every site (or of --site ID) from raw events."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--site", help="public site id; default: every site")
        parser.add_argument(
            "--days", type=int, default=None, help="only the last N days (UTC, today included); default: all"
        )

    def handle(self, *args: Any, site: str | None, days: int | None, **options: Any) -> None:
        if days is not None and days < 1:
            raise CommandError("--days must be at least 1")
        since = datetime.now(UTC).date() - timedelta(days=days - 1) if days else None
        sites = Site.objects.all() if site is None else Site.objects.filter(site_id=site)
        for each in sites.order_by("pk"):
            read = rebuild(site_id=each.pk, since=since)
            scope = f"the last {days} days" if days else "all days"
            self.stdout.write(f"{each.name}: rollups of {scope} rebuilt from {read} events")
