"""Writing the catalogue from code: a course, its tutorials in order, one video per language.

The admin edits courses one field at a time; this is for loading a whole course at once (the
demo). Idempotent: courses are matched by slug, tutorials by course and slug, videos by tutorial
and language, so loading the same course again changes nothing.
"""

from __future__ import annotations

from collections.abc import Sequence

from django.db import transaction

from progress.models import Course, Level, Tutorial, Video


@transaction.atomic
def upsert_course(
    *,
    slug: str,
    name: str,
    description: str = "",
    threshold: int | None = None,
    tutorials: Sequence[tuple[str, Level]],
    languages: Sequence[str],
    duration_seconds: int,
    source: str,
) -> Course:
    """Create or update a course with `tutorials` ((slug, level) in playlist order), each with a
    video of `duration_seconds` at `source` in every one of `languages`. Atomic."""
    course, _ = Course.objects.update_or_create(
        slug=slug, defaults={"name": name, "description": description, "completion_threshold": threshold}
    )
    for order, (tutorial_slug, level) in enumerate(tutorials, start=1):
        tutorial, _ = Tutorial.objects.update_or_create(
            course=course,
            slug=tutorial_slug,
            defaults={"title": tutorial_slug.replace("-", " "), "order": order, "level": level},
        )
        for language in languages:
            Video.objects.update_or_create(
                tutorial=tutorial, language=language, defaults={"duration_seconds": duration_seconds, "source": source}
            )
    return course
