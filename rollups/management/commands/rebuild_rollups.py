"""Recompute the dashboard rollups from raw events (repair / catch-up)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from events.models import Site
from rollups.update import rebuild


class Command(BaseCommand):
    help = "Delete and recompute the rollups of every site (or of --site ID) from raw events."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--site", help="public site id; default: every site")

    def handle(self, *args: Any, site: str | None, **options: Any) -> None:
        sites = Site.objects.all() if site is None else Site.objects.filter(site_id=site)
        for each in sites.order_by("pk"):
            read = rebuild(site_id=each.pk)
            self.stdout.write(f"{each.name}: rollups rebuilt from {read} events")
