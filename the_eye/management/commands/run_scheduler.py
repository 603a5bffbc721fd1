"""Run RQ's scheduler as its own process, and the reaper beside it.

The scheduler moves due jobs (retries after a failure, jobs enqueued for later) from each queue's
scheduled registry to the queue. Every `--reap-every` seconds it also runs
`the_eye.queues.reap_all()`, which puts back jobs a dead worker took and never finished. A Redis
outage pauses both; the process keeps trying with growing pauses and never exits on its own.
"""

from __future__ import annotations

import logging
import signal
import socket
import time
from typing import Any

import django_rq
from django.conf import settings
from django.core.management.base import BaseCommand
from redis.exceptions import RedisError
from rq.scheduler import RQScheduler

from the_eye import queues

log = logging.getLogger("the_eye.scheduler")


class Command(BaseCommand):
    help = "Run the RQ scheduler for every queue, with the reaper of abandoned jobs."

    def add_arguments(self, parser) -> None:
        # A stable name lets a restarted scheduler take back its own lock at once instead of
        # waiting for a killed predecessor's lock to expire.
        parser.add_argument("--name", default=f"{socket.gethostname()}:{settings.BASE_DIR.name}")
        parser.add_argument("--reap-every", type=float, default=5.0, help="seconds between reaper runs")

    def handle(self, *args: Any, name: str, reap_every: float, **options: Any) -> None:
        self.stopping = False
        signal.signal(signal.SIGTERM, self._stop)
        signal.signal(signal.SIGINT, self._stop)
        names = queues.queue_names()
        connection = django_rq.get_connection(names[0])
        scheduler = RQScheduler(names, connection=connection, interval=1, name=name)
        last_reap = 0.0
        pause = 1.0
        log.info("scheduler %s started for %s", name, ", ".join(names))
        while not self.stopping:
            try:
                if scheduler.acquired_locks != set(names):
                    scheduler.acquire_locks()
                scheduler.heartbeat()
                scheduler.enqueue_scheduled_jobs()
                if time.monotonic() - last_reap >= reap_every:
                    queues.reap_all()
                    last_reap = time.monotonic()
                pause = 1.0
                time.sleep(1.0)
            except RedisError as error:
                log.warning("queue unreachable (%s); retrying in %.0f s", error, pause)
                time.sleep(pause)
                pause = min(pause * 2, 30.0)
        try:
            scheduler.release_locks()
            scheduler.register_death()
        except RedisError:
            pass

    def _stop(self, signum: int, frame: Any) -> None:
        self.stopping = True
