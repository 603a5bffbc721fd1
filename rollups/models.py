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


class DailyVisitor(models.Model):
    """One row per visitor seen on a site on a UTC day: the set exact distinct counts run over.

    `visitor` is a 64-bit hash of the visitor id (see `rollups.update.visitor_hash`): counting
    distinct integers is several times faster than counting distinct strings, and with 64 bits two
    of a million visitors collide with a probability of about 3 in 100 million.
    """

    site = models.ForeignKey(Site, on_delete=models.CASCADE, db_index=False, related_name="+")
    day = models.DateField()
    visitor = models.BigIntegerField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["site", "day", "visitor"], name="dailyvisitor_key")]

    def __str__(self) -> str:
        return f"{self.day} visitor {self.visitor}"


class DailyPageVisitor(models.Model):
    """One row per (page, visitor) seen on a UTC day: distinct visitors of a page over any range."""

    site = models.ForeignKey(Site, on_delete=models.CASCADE, db_index=False, related_name="+")
    day = models.DateField()
    page = models.BigIntegerField(help_text="64-bit hash of the path")
    visitor = models.BigIntegerField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["site", "day", "page", "visitor"], name="dailypagevisitor_key")]

    def __str__(self) -> str:
        return f"{self.day} page {self.page} visitor {self.visitor}"


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
