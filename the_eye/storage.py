"""Static files storage: content-hashed names and gzip copies, served by whitenoise for a year.

`collectstatic` (run by `manage.py up`, `bin/test` and the Dockerfile) writes each file under a
name that carries a hash of its content, so browsers may keep it forever; a changed file gets a new
name. Until collectstatic has run (a fresh checkout, `runserver`), a file missing from the
collected set keeps its plain name, which whitenoise serves from the source folders with a short
cache, instead of every page failing.
"""

from __future__ import annotations

from whitenoise.storage import CompressedManifestStaticFilesStorage


class StaticStorage(CompressedManifestStaticFilesStorage):
    def stored_name(self, name: str) -> str:
        try:
            return super().stored_name(name)
        except ValueError:  # not collected yet: whitenoise finds it in the source folders
            return name
