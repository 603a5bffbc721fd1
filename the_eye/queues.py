"""Delivery you can kill: the worker, the scheduler and the reaper of The Eye's RQ queues.

A `202` means the batch is a job in Redis. From there it is always in exactly one visible place
until a worker has committed it: the queue list; the queue's *intermediate* list (RQ moves a job
there with one atomic `BLMOVE` when a worker takes it — only for a worker that listens on ONE
queue, which is why every worker here has one queue); the started registry (while a work-horse
runs it, with a heartbeat); the scheduled registry (waiting for a retry); or the failed registry.

`reap()` finds jobs left behind by a process that died — taken into the intermediate list but never
started, or started by a worker whose heartbeat stopped — and puts them back at the front of their
queue. Running a job twice is harmless (events are stored idempotently on their id and rollups
count only rows that were new), so the reaper may err on the side of re-running.

It runs when a worker starts, every few seconds in the scheduler process (`manage.py
run_scheduler`), and from `manage.py reap_jobs`.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import timedelta

import django_rq
from django.conf import settings
from redis import Redis
from rq import Queue, Worker
from rq.job import Job

log = logging.getLogger(__name__)

# A job sits in the intermediate list only for the moment between a worker's BLMOVE and its
# start (milliseconds). One still there after this long belongs to a worker that died.
INTERMEDIATE_GRACE_SECONDS = 15
# How often a busy worker renews its job's heartbeat, and how long past a missed renewal the
# job counts as abandoned. RQ's own margin is a fixed 60 s; ours finds a killed worker sooner.
JOB_MONITORING_INTERVAL = 5
HEARTBEAT_MARGIN_SECONDS = 20
# An idle worker renews its registration every WORKER_TTL - 15 s; /health/ counts as live only
# workers heard from within WORKER_TTL.
WORKER_TTL = 60

# Move one job id from the intermediate list back to the front of its queue, only if it is still
# there (a worker that started it meanwhile has removed it), and mark it queued: one atomic step.
_REQUEUE_FROM_INTERMEDIATE = """
if redis.call('LREM', KEYS[1], 1, ARGV[1]) == 1 then
  if redis.call('EXISTS', KEYS[3]) == 1 then
    redis.call('LPUSH', KEYS[2], ARGV[1])
    redis.call('HSET', KEYS[3], 'status', 'queued')
    return 1
  end
end
return 0
"""
# The same for an abandoned entry of the started registry ("<job id>:<execution id>").
_REQUEUE_FROM_STARTED = """
if redis.call('ZREM', KEYS[1], ARGV[1]) == 1 then
  if redis.call('EXISTS', KEYS[3]) == 1 then
    redis.call('LPUSH', KEYS[2], ARGV[2])
    redis.call('HSET', KEYS[3], 'status', 'queued')
    return 1
  end
end
return 0
"""


def _text(raw: bytes | str) -> str:
    """Redis answers bytes unless the connection decodes them."""
    return raw.decode() if isinstance(raw, bytes) else raw


def queue_names() -> list[str]:
    return list(settings.RQ_QUEUES)


class EyeWorker(Worker):
    """An RQ worker whose job heartbeat lapses within seconds of its death, not minutes."""

    def get_heartbeat_ttl(self, job: Job) -> int:
        if job.timeout and job.timeout > 0:
            remaining = job.timeout - self.current_job_working_time
            return int(min(remaining, self.job_monitoring_interval)) + HEARTBEAT_MARGIN_SECONDS
        return self.job_monitoring_interval + HEARTBEAT_MARGIN_SECONDS


@dataclass
class Reaped:
    never_started: int = 0
    abandoned: int = 0

    @property
    def total(self) -> int:
        return self.never_started + self.abandoned


def reap(*, queue: Queue, grace_seconds: float = INTERMEDIATE_GRACE_SECONDS) -> Reaped:
    """Put back on `queue` every job a dead process took and never finished; return the counts.

    Safe to run at any time and from several processes at once: each job is moved by one atomic
    script, so it is requeued once. A job that a slow but living worker still runs may be run
    again, which the idempotent jobs of this project allow. Raises `RedisError` when Redis is down.
    """
    connection: Redis = queue.connection
    result = Reaped()
    intermediate_key = queue.intermediate_queue_key
    requeue_intermediate = connection.register_script(_REQUEUE_FROM_INTERMEDIATE)
    for raw in connection.lrange(intermediate_key, 0, -1):
        job_id = _text(raw)
        seen_key = f"the_eye:reaper:seen:{queue.name}:{job_id}"
        # First sight: note the time and leave it to the worker that is about to start it.
        if connection.set(seen_key, time.time(), nx=True, ex=24 * 3600):
            continue
        first_seen = float(connection.get(seen_key) or time.time())
        if time.time() - first_seen < grace_seconds:
            continue
        keys = [intermediate_key, queue.key, Job.key_for(job_id)]
        if requeue_intermediate(keys=keys, args=[job_id]):
            log.warning("requeued job %s of %s: taken by a worker that never started it", job_id, queue.name)
            result.never_started += 1
        connection.delete(seen_key)

    registry = queue.started_job_registry
    requeue_started = connection.register_script(_REQUEUE_FROM_STARTED)
    for member in connection.zrangebyscore(registry.key, 0, time.time()):
        entry = _text(member)  # type: ignore[arg-type]  # plain members: no scores were asked for
        job_id = registry.parse_job_id(entry)
        if requeue_started(keys=[registry.key, queue.key, Job.key_for(job_id)], args=[entry, job_id]):
            log.warning("requeued job %s of %s: its worker stopped sending heartbeats", job_id, queue.name)
            result.abandoned += 1
    return result


def reap_all() -> Reaped:
    """`reap()` every queue of the project; the sum of what was requeued."""
    total = Reaped()
    for name in queue_names():
        reaped = reap(queue=django_rq.get_queue(name))
        total.never_started += reaped.never_started
        total.abandoned += reaped.abandoned
    return total


def live_workers(*, queue: Queue) -> int:
    """Workers of `queue` heard from within `WORKER_TTL` seconds (a killed one stays registered
    in Redis for a while; it is not counted)."""
    from rq.utils import now

    cutoff = now() - timedelta(seconds=WORKER_TTL)
    return sum(1 for w in Worker.all(queue=queue) if w.last_heartbeat and w.last_heartbeat >= cutoff)
