"""Rollups are updated with each stored batch and always equal a rebuild from raw events."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from events import ingest
from rollups.models import DailyMetric, DailyPageVisitor, DailyVisitor
from rollups.update import rebuild

pytestmark = pytest.mark.django_db

START = datetime.now(UTC).replace(microsecond=0) - timedelta(days=2)


def view(session: str, path: str, minutes: int, **extra) -> dict:
    return {
        "id": str(uuid.uuid4()),
        "session_id": session,
        "category": "page_interaction",
        "name": "page_view",
        "data": {"host": "example.org", "path": path},
        "timestamp": (START + timedelta(minutes=minutes)).isoformat(),
        **extra,
    }


def store(site, events: list[dict]) -> ingest.Stored:
    return ingest.accept(site=site, payload=events, sender=ingest.Sender(), direct=True).stored


def metric(site, dimension: str, value: str = "") -> DailyMetric:
    return DailyMetric.objects.get(site=site, dimension=dimension, value=value)


def snapshot(site) -> dict:
    return {
        "metrics": sorted(
            # A visit whose exit page moved leaves a zeroed row behind; it counts nothing.
            DailyMetric.objects.filter(site=site)
            .exclude(events=0, pageviews=0, visits=0)
            .values_list(
                "dimension", "day", "value", "events", "pageviews", "visits", "bounces", "duration", "visit_pageviews"
            )
        ),
        "visitors": sorted(DailyVisitor.objects.filter(site=site).values_list("day", "visitor")),
        "pages": sorted(DailyPageVisitor.objects.filter(site=site).values_list("day", "page", "visitor")),
    }


def test_a_two_page_visit_is_counted_once_and_does_not_bounce(site):
    store(site, [view("s1", "/", 0), view("s1", "/about/", 3)])
    total = metric(site, "total")
    assert (total.visits, total.pageviews, total.bounces, total.duration) == (1, 2, 0, 180)
    assert metric(site, "entry", "/").visits == 1
    assert metric(site, "exit", "/about/").visits == 1


def test_a_visit_stored_in_two_batches_adds_up_to_the_same_rollups_as_one_batch(site, django_user_model):
    events = [view("s1", "/", 0), view("s1", "/a/", 2), view("s1", "/b/", 5)]
    store(site, [events[2]])
    store(site, events[:2])  # late and out of order
    split = snapshot(site)
    total = metric(site, "total")
    assert (total.visits, total.bounces, total.duration, total.visit_pageviews) == (1, 0, 300, 3)
    assert metric(site, "exit", "/b/").visits == 1
    assert not DailyMetric.objects.filter(site=site, dimension="exit", value="/", visits__gt=0).exists()
    rebuild(site_id=site.pk)
    assert snapshot(site) == split


def test_a_resent_batch_changes_no_rollup(site):
    events = [view("s1", "/", 0), view("s2", "/", 1)]
    store(site, events)
    before = snapshot(site)
    assert store(site, events).inserted == 0
    assert snapshot(site) == before
    assert metric(site, "total").bounces == 2


def test_a_visitor_seen_twice_in_a_day_is_one_member_of_that_days_visitor_set(site):
    store(site, [view("s1", "/", 0, visitor_id="v1"), view("s2", "/", 30, visitor_id="v1"), view("s3", "/", 40)])
    assert DailyVisitor.objects.filter(site=site).count() == 2
    assert DailyPageVisitor.objects.filter(site=site).count() == 2


def test_purged_days_keep_their_rollups_through_a_rebuild(site, settings):
    from django.core.management import call_command

    old = START - timedelta(days=40)
    store(site, [view("old", "/", 0, timestamp=old.isoformat()), view("s1", "/", 0)])
    call_command("purge_events", days=30)
    rebuild(site_id=site.pk)
    days = set(DailyMetric.objects.filter(site=site, dimension="total").values_list("day", flat=True))
    assert days == {old.date(), START.date()}


def test_the_schedule_runs_the_rebuild_after_the_purge_every_night(queue):
    from rq.cron import CronScheduler

    scheduler = CronScheduler(connection=queue.connection)
    scheduler.load_config_from_file("rollups.cron")
    jobs = {job.func_name.rsplit(".", 1)[-1]: job for job in scheduler.get_jobs()}
    assert set(jobs) == {"rebuild_rollups", "purge_events"}
    assert (jobs["purge_events"].cron, jobs["rebuild_rollups"].cron) == ("47 2 * * *", "17 3 * * *")


def test_a_rebuild_of_recent_days_leaves_older_days_alone_and_counts_each_visit_on_its_first_day(site):
    from django.core.management import call_command

    today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)  # never in the future
    old_day, yesterday = today - timedelta(days=10), today - timedelta(days=1)
    store(
        site,
        [
            view("old", "/", 0, timestamp=old_day.isoformat()),
            # A visit that began before midnight and went on after it.
            view("late", "/a/", 0, timestamp=(today - timedelta(minutes=20)).isoformat()),
            view("late", "/b/", 0, timestamp=today.isoformat()),
            view("new", "/", 0, timestamp=today.isoformat()),
        ],
    )
    before = snapshot(site)
    old = DailyMetric.objects.get(site=site, dimension="total", day=old_day.date())
    DailyMetric.objects.filter(pk=old.pk).update(pageviews=99)  # a day the rebuild must not touch
    call_command("rebuild_rollups", days=1)
    assert DailyMetric.objects.get(pk=old.pk).pageviews == 99
    DailyMetric.objects.filter(pk=old.pk).update(pageviews=old.pageviews)
    assert snapshot(site) == before
    assert metric_on(site, yesterday.date()).visits == 1  # "late" began yesterday
    assert metric_on(site, today.date()).visits == 1


def metric_on(site, day) -> DailyMetric:
    return DailyMetric.objects.get(site=site, dimension="total", value="", day=day)
