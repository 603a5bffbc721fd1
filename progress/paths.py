"""What a tutorial page's address says: `/watch/<course>/<tutorial>/<language>/`.

Progress owns these URLs, so it is the one place that reads them; `register()` offers the
dimensions and filters they give (course, tutorial, tutorial language) to the registry of
definitions (`rollups.definitions`), which the rollups and the dashboards read.
"""

from __future__ import annotations

import re
from typing import Any

from rollups import definitions

WATCH_PREFIX = "/watch/"
_PART = r"[^/]+"
_WATCH = re.compile(rf"^/watch/(?P<course>{_PART})/(?P<tutorial>{_PART})/(?P<language>{_PART})(?:/|$)")


def watch_parts(path: str) -> tuple[str, str, str] | None:
    """(course, tutorial, language) of a tutorial page's path, or None for any other path."""
    found = _WATCH.match(path)
    return (found["course"], found["tutorial"], found["language"]) if found else None


def _path_regex(*, course: str = _PART, language: str = _PART) -> str:
    return rf"^/watch/{course}/{_PART}/{language}(/|$)"


def _course_lookup(value: str) -> dict[str, Any]:
    return {"path__regex": _path_regex(course=re.escape(value))}


def _language_lookup(value: str) -> dict[str, Any]:
    return {"path__regex": _path_regex(language=re.escape(value))}


def _watch_value(part: str):
    def of_event(row: definitions.Row) -> str | None:
        if row.get("role") != definitions.Role.PAGE_VIEW:
            return None
        parts = watch_parts(str(row["path"]))
        if parts is None:
            return None
        course, tutorial, language = parts
        return {
            "course": course,
            "tutorial_language": language,
            "course_language": f"{course}|{language}",
            "tutorial": f"{course}|{tutorial}",
        }[part]

    return of_event


def register() -> None:
    """Offer the tutorial dimensions and filters to the registry (called once, at start-up)."""
    for name, label, sets in (
        ("course", "Course", True),
        ("tutorial_language", "Tutorial language", True),
        ("course_language", "Course and language", False),
        ("tutorial", "Tutorial", False),
    ):
        definitions.register_event_dimension(
            definitions.Dimension(
                name,
                label,
                "event",
                of_event=_watch_value(name),
                visitor_sets=sets,
                filter={"course": "course", "tutorial_language": "language"}.get(name, ""),
            )
        )
    definitions.register_page_filter(
        definitions.PagePathFilter(
            "course", "Course", lambda path, value: (watch_parts(path) or ("",))[0] == value, _course_lookup
        )
    )
    definitions.register_page_filter(
        definitions.PagePathFilter(
            "language",
            "Tutorial language",
            lambda path, value: (watch_parts(path) or ("", "", ""))[2] == value,
            _language_lookup,
        )
    )
