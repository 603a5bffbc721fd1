"""The write path: idempotent bulk storage, retries, failed jobs, and no loss when Redis is down."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import DatabaseError

from events import ingest, jobs
from events.models import Event, IpPrivacy
from events.tests.test_validation import page_view
from the_eye.lib import embedded_redis


def sender(**kw):
    return ingest.Sender(ip="49.36.0.1", user_agent="UA", **kw)


@pytest.mark.django_db
def test_store_batch_inserts_in_chunks_and_skips_ids_already_stored(site, settings):
    settings.EVENTS_BULK_SIZE = 3
    accepted = ingest.accept(site=site, payload=[page_view() for _ in range(7)], sender=sender(), direct=True)
    assert accepted.stored.as_dict() == {"inserted": 7, "duplicates": 0, "dropped": {}, "quarantined": 0}
    # The same events again, plus one new: only the new one is inserted.
    again = [page_view(id=i) for i in accepted.ids] + [page_view()]
    second = ingest.accept(site=site, payload=again, sender=sender(), direct=True)
    assert (second.stored.inserted, second.stored.duplicates) == (1, 7)
    assert Event.objects.count() == 8


@pytest.mark.django_db
def test_a_job_run_twice_stores_its_events_once(site, queue, run_worker):
    accepted = ingest.accept(site=site, payload=[page_view(), page_view()], sender=sender())
    job = queue.fetch_job(accepted.job_id)
    assert jobs.store_events(*job.args) == {"inserted": 2, "duplicates": 0, "dropped": {}, "quarantined": 0}
    run_worker()
    assert job.return_value() == {"inserted": 0, "duplicates": 2, "dropped": {}, "quarantined": 0}
    assert Event.objects.count() == 2


@pytest.mark.django_db
def test_the_ip_is_reduced_as_the_site_asks(site):
    for privacy, expected in [
        (IpPrivacy.RAW, "49.36.0.1"),
        (IpPrivacy.ANONYMISED, "49.36.0.0"),
        (IpPrivacy.NONE, None),
    ]:
        site.ip_privacy = privacy
        site.save()
        accepted = ingest.accept(site=site, payload=page_view(), sender=sender(), direct=True)
        assert Event.objects.get(id=accepted.ids[0]).ip == expected


@pytest.mark.django_db
def test_a_job_that_keeps_failing_stays_in_the_failed_registry_and_can_be_requeued(
    site, queue, run_worker, settings, monkeypatch
):
    settings.EVENTS_JOB_RETRY_INTERVALS = []
    accepted = ingest.accept(site=site, payload=[page_view()], sender=sender())

    def broken(rows):
        raise DatabaseError("database is down")

    monkeypatch.setattr(ingest, "insert_rows", broken)
    run_worker()
    failed = queue.failed_job_registry
    assert failed.get_job_ids() == [accepted.job_id]
    job = queue.fetch_job(accepted.job_id)
    assert job.args[0]["events"][0]["id"] == accepted.ids[0]  # the payload is kept
    assert "database is down" in job.latest_result().exc_string
    monkeypatch.undo()
    call_command("requeue_failed_events")
    run_worker()
    assert Event.objects.filter(id=accepted.ids[0]).exists()
    assert failed.count == 0


@pytest.mark.django_db
def test_database_errors_are_retried_with_backoff(site, queue, settings, monkeypatch, run_worker):
    settings.EVENTS_JOB_RETRY_INTERVALS = [0, 0]
    accepted = ingest.accept(site=site, payload=[page_view()], sender=sender())
    job = queue.fetch_job(accepted.job_id)
    assert job.retries_left == 2 and job.retry_intervals == [0, 0]
    calls = []
    real = ingest.insert_rows

    def flaky(rows):
        calls.append(1)
        if len(calls) == 1:
            raise DatabaseError("connection reset")
        return real(rows)

    monkeypatch.setattr(ingest, "insert_rows", flaky)
    run_worker()  # fails once; with a zero interval RQ puts the job straight back on the queue
    run_worker()
    assert len(calls) == 2
    assert Event.objects.filter(id=accepted.ids[0]).exists()


@pytest.mark.django_db
def test_with_redis_down_the_client_still_gets_202_and_the_batch_is_stored(client, site, settings):
    server = embedded_redis.start(data_dir=Path(tempfile.mkdtemp()), persist=False)
    url = server.connection_url + "/0?socket_connect_timeout=1&socket_timeout=1"
    settings.RQ_QUEUES = {"events": {"URL": url}, "default": {"URL": url}}
    ok = client.post("/api/events/", data=json.dumps(page_view()), content_type="application/json")
    assert ok.status_code == 202 and Event.objects.count() == 0  # queued while Redis was up
    server.stop()
    response = client.post("/api/events/", data=json.dumps([page_view(), page_view()]), content_type="application/json")
    assert response.status_code == 202
    assert set(map(str, Event.objects.values_list("id", flat=True))) == set(response.json()["ids"])
    health = client.get("/health/")
    assert health.status_code == 503 and health.json() == {"status": "down"}


@pytest.mark.django_db
def test_the_staged_insert_used_after_a_lost_race_skips_ids_stored_meanwhile(site):
    from django.db import connection, transaction

    if connection.vendor != "postgresql":
        pytest.skip("the staged COPY path exists only on PostgreSQL")
    accepted = ingest.accept(site=site, payload=[page_view(), page_view()], sender=sender(), direct=True)
    stored_meanwhile = Event.objects.get(id=accepted.ids[0])
    rows = ingest.event_rows_for([stored_meanwhile]) + [
        dict(ingest.event_rows_for([stored_meanwhile])[0], id="9d0c8f1e-1111-4c55-9d0e-1f2a3b4c5d6e")
    ]
    with transaction.atomic(), connection.cursor() as cursor:
        new_ids = ingest._insert_postgresql_staged(cursor, Event._meta.db_table, rows)
    assert new_ids == {"9d0c8f1e-1111-4c55-9d0e-1f2a3b4c5d6e"}
    assert Event.objects.count() == 3


# --- One event never sinks its neighbours (issue 12, finding 2) ---------------------------------


def queued_batch(site, *, bad: dict) -> dict:
    """A batch as the door queues it, plus one event that skipped today's door rules (as a batch
    queued before a rule existed would have)."""
    from datetime import UTC, datetime

    from events.validation import validate_batch

    good = validate_batch([page_view(), page_view()], allow_custom=False)
    bad_event = {**good[0], "id": "00000000-0000-4000-8000-00000000000b", **bad}
    return {
        "site": site.pk,
        "received_at": datetime.now(UTC).isoformat(),
        "sender": sender().as_dict(),
        "events": [good[0], bad_event, good[1]],
    }


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("bad", "reason"),
    [
        ({"title": "a\x00b"}, "title: must not contain the NUL character"),
        ({"user": "\ud800"}, "user: must be valid Unicode text"),
        ({"data": {"host": "x.org", "path": "/", "n": float("nan")}}, "data.n: must be a finite number"),
    ],
)
def test_an_event_postgresql_cannot_keep_is_quarantined_and_the_rest_of_its_batch_stored(
    site, queue, run_worker, staff_user, client, bad, reason
):
    from events.models import DroppedEvents, QuarantinedEvent

    batch = queued_batch(site, bad=bad)
    job = jobs.enqueue_store(batch=batch)
    assert run_worker() == 1
    job.refresh()
    assert job.get_status() == "finished"
    assert job.return_value()["inserted"] == 2 and job.return_value()["quarantined"] == 1
    assert {str(i) for i in Event.objects.values_list("id", flat=True)} == {
        batch["events"][0]["id"],
        batch["events"][2]["id"],
    }
    kept = QuarantinedEvent.objects.get()
    assert kept.event_id == batch["events"][1]["id"] and reason in kept.reason
    assert json.loads(kept.payload)["id"] == kept.event_id  # the payload is kept, escaped
    # The same job again (RQ delivers at least once): nothing new is stored or quarantined.
    assert jobs.store_events(batch) == {"inserted": 0, "duplicates": 2, "dropped": {}, "quarantined": 0}
    assert QuarantinedEvent.objects.count() == 1
    assert DroppedEvents.objects.get(reason="quarantined").count == 1
    # Staff see it counted on the Data quality page and listed in admin.
    staff_user.is_superuser = True
    staff_user.save()
    client.force_login(staff_user)
    assert "quarantined" in client.get("/dashboard/quality/").content.decode()
    assert kept.event_id in client.get("/admin/events/quarantinedevent/").content.decode()


@pytest.mark.django_db
def test_a_value_the_database_refuses_on_insert_quarantines_only_that_event(site, queue, run_worker):
    from django.db import connection

    from events.models import QuarantinedEvent

    if connection.vendor != "postgresql":
        pytest.skip("SQLite keeps over-long text; PostgreSQL refuses it on insert")
    # A session id longer than its column passes the worker's own screen and fails in the database.
    batch = queued_batch(site, bad={"session_id": "s" * 300})
    jobs.enqueue_store(batch=batch)
    assert run_worker() == 1
    assert Event.objects.count() == 2
    kept = QuarantinedEvent.objects.get()
    assert kept.event_id == batch["events"][1]["id"] and "value too long" in kept.reason
    assert len(queue.failed_job_registry) == 0
