from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from the_eye import demo


class Command(BaseCommand):
    help = (
        "Build (idempotently) the demo learning site: its catalogue, logins, anonymous traffic and"
        " learners who watch through the progress path."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--events", type=int, default=2000, help="about how many anonymous events to make")
        parser.add_argument("--learners", type=int, default=demo.DEFAULT_LEARNERS, help="learner accounts that watch")
        parser.add_argument("--days", type=int, default=14, help="spread over this many days up to now")
        parser.add_argument("--seed", type=int, default=7)

    def handle(self, *args: Any, events: int, learners: int, days: int, seed: int, **options: Any) -> None:
        built = demo.build(events=events, learners=learners, days=days, seed=seed, stderr=self.stderr)
        demo.describe(built, out=self.stdout)  # type: ignore[arg-type]  # OutputWrapper writes like a TextIO
