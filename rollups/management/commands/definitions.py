"""Print the registry of definitions as the README's tables, or write them into README.md."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand

from rollups import definitions

START, END = "<!-- definitions:start -->", "<!-- definitions:end -->"


def readme_with_definitions(text: str) -> str:
    """README text with the block between the markers replaced by the registry's tables."""
    head, rest = text.split(START, 1)
    _, tail = rest.split(END, 1)
    return f"{head}{START}\n{definitions.definitions_markdown()}\n{END}{tail}"


class Command(BaseCommand):
    help = "Print the metric and dimension definitions as Markdown, or write them into README.md."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--write", action="store_true", help="replace the block in README.md")

    def handle(self, *args, write: bool, **options) -> None:
        if not write:
            self.stdout.write(definitions.definitions_markdown())
            return
        readme = Path(settings.BASE_DIR) / "README.md"
        readme.write_text(readme_with_definitions(readme.read_text()))
        self.stdout.write(f"wrote the definitions into {readme}")
