"""`manage.py build_tracker`: minify static/the_eye/tracker.src.js into tracker.js.

Pages load tracker.js, which must stay within 2 KB gzipped; the readable source is what people
edit. A test checks that the shipped file is exactly what this command makes, so the two never
drift apart. calmjs.parse (a pure-Python ES5 parser, in requirements-dev.txt) does the work, which
is why the source is written in ES5.
"""

from __future__ import annotations

import gzip
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

SOURCE = Path(settings.BASE_DIR) / "static" / "the_eye" / "tracker.src.js"
TARGET = SOURCE.with_name("tracker.js")
MAX_GZIPPED_BYTES = 2048
HEADER = "/* The Eye tracker; source: tracker.src.js */\n"


def minified_tracker() -> str:
    """The minified tracker as it must be shipped: same behaviour, local names shortened.

    Deterministic (the same source always gives the same text). Raises ImportError when
    calmjs.parse is not installed and a calmjs parse error when the source is not ES5.
    """
    from calmjs.parse import es5
    from calmjs.parse.unparsers.es5 import minify_print

    program = es5(SOURCE.read_text(encoding="utf-8"))
    return HEADER + minify_print(program, obfuscate=True, obfuscate_globals=False) + "\n"


def gzipped_size(text: str) -> int:
    return len(gzip.compress(text.encode("utf-8"), compresslevel=9, mtime=0))


class Command(BaseCommand):
    help = "Minify static/the_eye/tracker.src.js into tracker.js and print its gzipped size."

    def handle(self, *args, **options) -> None:
        try:
            text = minified_tracker()
        except ImportError:
            raise CommandError("calmjs.parse is missing: pip install -r requirements-dev.txt") from None
        size = gzipped_size(text)
        if size > MAX_GZIPPED_BYTES:
            raise CommandError(f"tracker.js would be {size} bytes gzipped, over {MAX_GZIPPED_BYTES}; nothing written")
        TARGET.write_text(text, encoding="utf-8")
        self.stdout.write(f"{TARGET.relative_to(settings.BASE_DIR)}: {len(text.encode())} bytes, {size} gzipped")
