"""Upgrading keeps the visitor sets of every day, purged ones included."""

from __future__ import annotations

import hashlib
from datetime import date

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from pyroaring import BitMap

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = [("rollups", "0001_daily_rollups")]
AFTER = [("rollups", "0002_visitor_sets")]


def hash64(text: str) -> int:
    return int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest(), "big", signed=True)


def migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


def test_the_per_visitor_rows_become_the_same_sets_of_visitors():
    old = migrate(BEFORE)
    try:
        site = old.get_model("events", "Site").objects.create(name="old", site_id="oldsite")
        day1, day2 = date(2024, 2, 1), date(2024, 2, 2)
        visitor = old.get_model("rollups", "DailyVisitor")
        page_visitor = old.get_model("rollups", "DailyPageVisitor")
        metric = old.get_model("rollups", "DailyMetric")
        for day, who in ((day1, 11), (day1, 22), (day2, 11)):
            visitor.objects.create(site=site, day=day, visitor=who)
        for dimension, value in (("page", "/watch/C/T/L/"), ("course", "C"), ("tutorial_language", "L")):
            metric.objects.create(site=site, day=day1, dimension=dimension, value=value, pageviews=2)
            key = value if dimension == "page" else f"{dimension}:{value}"
            for who in (11, 22):
                page_visitor.objects.create(site=site, day=day1, page=hash64(key), visitor=who)

        new = migrate(AFTER)
        sets = {
            (s.day, s.dimension, s.value): BitMap.deserialize(bytes(s.members))
            for s in new.get_model("rollups", "DailyVisitorSet").objects.filter(site_id=site.pk)
        }
        assert {key: len(members) for key, members in sets.items()} == {
            (day1, "total", ""): 2,
            (day2, "total", ""): 1,
            (day1, "page", "/watch/C/T/L/"): 2,
            (day1, "course", "C"): 2,
            (day1, "tutorial_language", "L"): 2,
        }
        # Visitor 11 is one number on both days: two days' union still counts two visitors.
        assert len(sets[(day1, "total", "")] | sets[(day2, "total", "")]) == 2
        assert sets[(day1, "page", "/watch/C/T/L/")] == sets[(day1, "total", "")]
    finally:
        migrate(executor_leaf_nodes())


def executor_leaf_nodes():
    executor = MigrationExecutor(connection)
    return executor.loader.graph.leaf_nodes()
