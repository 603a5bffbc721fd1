from __future__ import annotations

import django_rq
from django.core.management.base import BaseCommand

from events.jobs import QUEUE


class Command(BaseCommand):
    help = "Put every failed event-storing job back on the events queue."

    def handle(self, *args, **options) -> None:
        queue = django_rq.get_queue(QUEUE)
        registry = queue.failed_job_registry
        job_ids = registry.get_job_ids()
        for job_id in job_ids:
            registry.requeue(job_id)
        self.stdout.write(f"requeued {len(job_ids)} failed job(s) on queue {QUEUE!r}")
