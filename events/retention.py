"""Deleting what is past a site's retention period: the one write path that purges raw data."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db import transaction

from events.models import Event, Session, Site, Visitor


@dataclass
class Purged:
    events: int = 0
    visits: int = 0
    visitors: int = 0


def purge(*, site: Site, before: datetime) -> Purged:
    """Delete the site's events before `before`, and the visits and visitors last seen before it.

    The rollups of those days are kept (they hold counts and visitor numbers, no identifiers), so
    the dashboards still show them. Atomic per site; running it again deletes nothing more.
    """
    with transaction.atomic():
        events = Event.objects.filter(site=site, timestamp__lt=before).delete()[0]
        visits = Session.objects.filter(site=site, last_seen_at__lt=before).delete()[0]
        visitors = Visitor.objects.filter(site=site, last_seen__lt=before).delete()[0]
    return Purged(events=events, visits=visits, visitors=visitors)
