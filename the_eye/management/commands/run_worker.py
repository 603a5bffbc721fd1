"""Run one RQ worker on ONE queue, and keep it running while Redis comes and goes.

One queue per worker, so RQ takes each job with an atomic `BLMOVE` into the queue's intermediate
list and a worker killed at any moment leaves its job where `the_eye.queues.reap()` finds it.
There is no scheduler inside the worker (`manage.py run_scheduler` is its own process): RQ's
forked scheduler child kept the worker's Redis connection after the worker was killed, and Redis
then handed jobs to that dead reader.
"""

from __future__ import annotations

import logging
import signal
import time
from typing import Any

import django_rq
from django.core.management.base import BaseCommand
from django_rq.utils import reset_db_connections
from django_rq.workers import get_exception_handlers
from redis.exceptions import RedisError

from events import enrichment
from the_eye import queues

log = logging.getLogger("the_eye.worker")


class Command(BaseCommand):
    help = "Run an RQ worker on one queue (events or default); it reconnects when Redis goes away."

    def add_arguments(self, parser) -> None:
        parser.add_argument("queue", choices=queues.queue_names())
        parser.add_argument("--burst", action="store_true", help="stop once the queue is empty")
        parser.add_argument("--name", default=None, help="worker name (default: random)")

    def handle(self, *args: Any, queue: str, burst: bool, name: str | None, **options: Any) -> None:
        level = "WARNING" if options["verbosity"] == 0 else "INFO"
        # Loaded here, before any fork: every job's work-horse starts warm (events.enrichment.warm).
        enrichment.warm()
        pause = 1.0
        worker = None
        while True:
            began = time.monotonic()
            try:
                rq_queue = django_rq.get_queue(queue)
                reaped = queues.reap(queue=rq_queue)
                if reaped.total:
                    log.warning("requeued %d jobs left behind on %s", reaped.total, queue)
                reset_db_connections()  # the work-horse is forked: never share a DB socket with it
                worker = queues.EyeWorker(
                    [rq_queue],
                    connection=rq_queue.connection,
                    name=name,
                    worker_ttl=queues.WORKER_TTL,
                    job_monitoring_interval=queues.JOB_MONITORING_INTERVAL,
                    exception_handlers=get_exception_handlers() or None,
                )
                worker.work(burst=burst, with_scheduler=False, logging_level=level)
                return  # a requested stop (SIGTERM, Ctrl-C) or the end of a burst
            except RedisError as error:
                if worker is not None and worker._stop_requested:
                    return  # asked to stop (SIGTERM) while Redis was away: stop, don't reconnect
                # Redis went away (before or in the middle of a job). A job whose horse was
                # running is still in the started registry; the reaper requeues it later.
                if time.monotonic() - began > 60:
                    pause = 1.0  # it had been working: this is a new outage, start with short pauses
                log.warning("queue %s unreachable (%s); reconnecting in %.0f s", queue, error, pause)
                self._sleep(pause)
                pause = min(pause * 2, 30.0)
            except KeyboardInterrupt:
                return

    def _sleep(self, seconds: float) -> None:
        # RQ's handlers are still installed after its loop ended with an error: stop at once.
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.default_int_handler)
        time.sleep(seconds)
