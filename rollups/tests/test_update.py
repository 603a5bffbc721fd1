"""Rollups are updated with each stored batch and always equal a rebuild from raw events."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from pyroaring import BitMap

from events import ingest
from events.validation import validate_batch
from rollups.models import DailyMetric, DailyVisitorSet
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
    stored = ingest.accept(site=site, payload=events, sender=ingest.Sender(), direct=True).stored
    assert stored is not None  # direct: stored in the request
    return stored


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
        "visitor_sets": sorted(
            (s.dimension, s.day, s.value, s.visitors, list(BitMap.deserialize(bytes(s.members))))
            for s in DailyVisitorSet.objects.filter(site=site)
        ),
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


def visitor_set(site, dimension: str, value: str = "") -> DailyVisitorSet:
    return DailyVisitorSet.objects.get(site=site, dimension=dimension, value=value)


def test_a_visitor_seen_twice_in_a_day_is_one_member_of_that_days_visitor_set(site):
    store(site, [view("s1", "/", 0, visitor_id="v1"), view("s2", "/", 30, visitor_id="v1"), view("s3", "/", 40)])
    total = visitor_set(site, "total")
    assert total.visitors == 2
    assert len(BitMap.deserialize(bytes(total.members))) == 2
    assert visitor_set(site, "page", "/").visitors == 2


def test_a_visitor_keeps_one_number_across_days_and_batches(site):
    later = (START + timedelta(days=1)).isoformat()
    store(site, [view("s1", "/", 0, visitor_id="v1"), view("s2", "/a/", 1, visitor_id="v2")])
    store(site, [view("s3", "/a/", 0, visitor_id="v1", timestamp=later)])
    first = BitMap.deserialize(
        bytes(DailyVisitorSet.objects.get(site=site, dimension="total", day=START.date()).members)
    )
    second = BitMap.deserialize(
        bytes(DailyVisitorSet.objects.get(site=site, dimension="total", day=START.date() + timedelta(days=1)).members)
    )
    assert len(first) == 2 and len(second) == 1
    assert second <= first  # v1 is the same member on both days
    assert len(first | second) == 2


def test_a_tutorial_view_adds_its_visitor_to_the_course_and_language_sets(site):
    store(site, [view("s1", "/watch/Python/Loops/Hindi/", 0, visitor_id="v1"), view("s2", "/", 1, visitor_id="v2")])
    assert visitor_set(site, "course", "Python").visitors == 1
    assert visitor_set(site, "tutorial_language", "Hindi").visitors == 1
    assert visitor_set(site, "total").visitors == 2


def test_purged_days_keep_their_rollups_through_a_rebuild(site, settings):
    from django.core.management import call_command

    old = START - timedelta(days=40)
    store(site, [view("old", "/", 0, timestamp=old.isoformat()), view("s1", "/", 0)])
    call_command("purge_events", days=30)
    rebuild(site_id=site.pk)
    days = set(DailyMetric.objects.filter(site=site, dimension="total").values_list("day", flat=True))
    assert days == {old.date(), START.date()}
    kept = set(DailyVisitorSet.objects.filter(site=site, dimension="total").values_list("day", flat=True))
    assert kept == {old.date(), START.date()}


def test_the_schedule_runs_the_rebuild_after_the_purge_every_night(queue):
    from rq.cron import CronScheduler

    scheduler = CronScheduler(connection=queue.connection)
    scheduler.load_config_from_file("rollups.cron")
    jobs = {job.func_name.rsplit(".", 1)[-1]: job for job in scheduler.get_jobs()}
    assert set(jobs) == {"rebuild_rollups", "purge_events", "reap_all"}
    assert (jobs["purge_events"].cron, jobs["rebuild_rollups"].cron) == ("47 2 * * *", "17 3 * * *")
    assert jobs["reap_all"].interval == 60  # jobs dead workers left behind go back on their queue


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


@pytest.mark.django_db(transaction=True)
def test_writers_of_one_visit_and_the_same_visitor_sets_at_once_count_it_once_and_lose_no_member(site):
    """Four transactions add parts of one visit at once, each with visitors of its own.

    Called below the ingest path's own session locks, so the rollups' lock is what keeps the
    visit from being counted four times (each writer would see only its own rows of it).
    """
    import threading

    from django.db import connection, connections, transaction

    from events import enrichment
    from rollups.update import record

    if connection.vendor != "postgresql":
        pytest.skip("SQLite admits one writer at a time; the race exists only on PostgreSQL")
    batches = [
        [
            view("shared", path, w * 30 + i, visitor_id=f"w{w}-v{i}")
            for i in range(30)
            for path in ("/", "/watch/C/T/L/")
        ]
        for w in range(4)
    ]
    clean = [validate_batch(batch, allow_custom=True) for batch in batches]
    rows = [
        enrichment.enrich(events=events, site=site, sender={"source": "test"}, received_at=datetime.now(UTC))[0]
        for events in clean
    ]
    start = threading.Barrier(len(rows))
    errors: list[BaseException] = []

    def writer(batch: list[dict]) -> None:
        try:
            start.wait()
            with transaction.atomic():
                ingest.insert_rows(batch)
                record(rows=batch)
        except BaseException as error:  # reported below: a thread's exception would be lost
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=writer, args=(batch,)) for batch in rows]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert metric(site, "total").visits == 1
    for dimension, value in (("total", ""), ("page", "/"), ("course", "C"), ("tutorial_language", "L")):
        found = visitor_set(site, dimension, value)
        assert (found.visitors, len(BitMap.deserialize(bytes(found.members)))) == (120, 120)
    concurrent = snapshot(site)
    rebuild(site_id=site.pk)
    assert snapshot(site) == concurrent
