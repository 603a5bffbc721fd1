"""Put back on their queues the jobs that dead workers took and never finished."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from the_eye import queues


class Command(BaseCommand):
    help = "Requeue jobs taken by a worker that died (intermediate list, expired started entries)."

    def handle(self, *args: Any, **options: Any) -> None:
        reaped = queues.reap_all()
        self.stdout.write(f"requeued {reaped.never_started} never started, {reaped.abandoned} abandoned")
