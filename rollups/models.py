"""Pre-aggregated tables the dashboards read instead of raw events.

Rows are written only by `rollups.update` (called by `events.ingest.store_batch` for the rows it
has just inserted, in the same transaction) and by the `rebuild_rollups` command. They are
derived data: deleting them all and running `rebuild_rollups` gives the same rows back.
"""

from __future__ import annotations

from django.db import models

from events.models import Site


class DailyMetric(models.Model):
    """Counters for one site, one UTC day and one value of one dimension.

    Two families of counters share the row. Event counters (`events`, `pageviews`,
    `engaged_seconds`) count events on the day they happened. Visit counters (`visits`,
    `bounces`, `duration`, `visit_pageviews`) count each visit once, on the day it started, under
    the dimension values of its first event (entry and exit pages: its first and last page view).
    """

    site = models.ForeignKey(Site, on_delete=models.CASCADE, db_index=False, related_name="+")
    dimension = models.CharField(max_length=32)
    day = models.DateField()
    value = models.CharField(max_length=2048, blank=True)
    events = models.BigIntegerField(default=0)
    pageviews = models.BigIntegerField(default=0)
    engaged_seconds = models.FloatField(default=0)
    visits = models.BigIntegerField(default=0)
    bounces = models.BigIntegerField(default=0)
    duration = models.BigIntegerField(default=0, help_text="seconds, summed over visits")
    visit_pageviews = models.BigIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["site", "dimension", "day", "value"], name="dailymetric_key")]

    def __str__(self) -> str:
        return f"{self.day} {self.dimension}={self.value!r}"


class VisitorNumber(models.Model):
    """A small whole number for each visitor of a site: what the visitor sets store.

    `visitor` is a 64-bit hash of the visitor id (see `rollups.update.visitor_hash`); `id` is the
    number. Numbers are handed out in arrival order and never change or get reused, so the same
    visitor is the same member of every day's set. Dense numbers make the sets compact: a roaring
    bitmap stores a run of nearby numbers in about two bytes each.
    """

    id = models.AutoField(primary_key=True)
    site = models.ForeignKey(Site, on_delete=models.CASCADE, db_index=False, related_name="+")
    visitor = models.BigIntegerField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["site", "visitor"], name="visitornumber_key")]

    def __str__(self) -> str:
        return f"visitor {self.visitor} = {self.id}"


class DailyVisitorSet(models.Model):
    """The visitors of a site on a UTC day, under one value of one dimension, as a roaring bitmap.

    Dimensions: `total` (value ""), `page` (the path), `course` and `tutorial_language`. Distinct
    visitors over any range are the size of the union of the range's sets — exact, never a sum of
    daily counts — and a 30-day range unions 30 small bitmaps instead of counting distinct over
    one row per visitor and day. `visitors` is the set's size, so a per-day count reads no bitmap.
    """

    site = models.ForeignKey(Site, on_delete=models.CASCADE, db_index=False, related_name="+")
    dimension = models.CharField(max_length=32)
    day = models.DateField()
    value = models.CharField(max_length=2048, blank=True)
    visitors = models.BigIntegerField(default=0)
    members = models.BinaryField(help_text="portable serialisation of a 32-bit roaring bitmap of visitor numbers")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["site", "dimension", "day", "value"], name="dailyvisitorset_key")
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.dimension}={self.value!r}: {self.visitors} visitors"


class Place(models.Model):
    """Where a (country, region, city) lies, as enrichment placed it, for the map's city points."""

    country = models.CharField(max_length=2)
    region = models.CharField(max_length=128, blank=True)
    city = models.CharField(max_length=128)
    latitude = models.FloatField()
    longitude = models.FloatField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["country", "region", "city"], name="place_key")]

    def __str__(self) -> str:
        return f"{self.city}, {self.region}, {self.country}"
