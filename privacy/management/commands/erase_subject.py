"""Erase one subject's events, visits, visitor rows and progress, correcting every rollup."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from privacy import requests
from privacy.management.commands._subject import add_subject_arguments, subject_of


class Command(BaseCommand):
    help = "Erase one subject (--user, --visitor or --session): events, visits, visitors, progress."

    def add_arguments(self, parser) -> None:
        add_subject_arguments(parser)
        parser.add_argument("--queue", action="store_true", help="queue it for the worker instead of running now")

    def handle(self, *args, **options) -> None:
        subject = subject_of(options)
        record = requests.request_erasure(subject=subject, requested_by="command", queued=options["queue"])
        self.stdout.write(
            f"erasure request {record.pk}: {record.status}; events {record.events}, visits {record.visits}, "
            f"visitors {record.visitors}, progress rows {record.progress_rows}"
        )
