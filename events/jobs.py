"""Queue jobs for events: thin functions that take plain data and call the write path."""

from __future__ import annotations

from typing import Any

import django_rq
from django.conf import settings
from rq import Retry
from rq.job import Job

from events import ingest

QUEUE = "events"
FAILED_TTL = 30 * 24 * 3600  # a failed batch waits a month for `requeue_failed_events`


def store_events(batch: dict[str, Any]) -> dict[str, Any]:
    """Store one accepted batch. Idempotent, so RQ may run it again after any failure."""
    return ingest.store_batch(batch=batch).as_dict()


def enqueue_store(*, batch: dict[str, Any]) -> Job:
    """Put one accepted request on the `events` queue as a single job.

    Database errors inside the job are retried with growing pauses; a job that still fails stays
    in RQ's failed registry with its payload and error. Raises `redis.exceptions.RedisError` when
    the queue is unreachable (the caller stores the batch directly then).
    """
    intervals = settings.EVENTS_JOB_RETRY_INTERVALS
    queue = django_rq.get_queue(QUEUE)
    return queue.enqueue(
        store_events,
        batch,
        job_timeout=300,
        result_ttl=3600,
        failure_ttl=FAILED_TTL,
        retry=Retry(max=len(intervals), interval=intervals) if intervals else None,
        description=f"store {len(batch['events'])} events for site {batch['site']}",
    )
