"""Write everything held about one subject into a ZIP of JSON and CSV files."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand

from privacy import requests
from privacy.management.commands._subject import add_subject_arguments, subject_of


class Command(BaseCommand):
    help = "Export one subject's events, visits and progress (--user, --visitor or --session) as a ZIP."

    def add_arguments(self, parser) -> None:
        add_subject_arguments(parser)
        parser.add_argument("--output", default="", help="file to write (default: subject-export.zip)")

    def handle(self, *args, **options) -> None:
        subject = subject_of(options)
        path = Path(options["output"] or f"{subject.kind}-export.zip")
        path.write_bytes(requests.export_archive(subject=subject, requested_by="command"))
        self.stdout.write(f"wrote {path}")
