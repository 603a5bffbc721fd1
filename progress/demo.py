"""Demo courses, tutorials in three languages, a learner and some of their progress.

Called by `manage.py demo`. Idempotent: courses, tutorials and videos are upserted by slug and
language, the learner's heartbeats have fixed ids (merging them again changes nothing), and a
visit is counted only for a video the learner has no progress on yet.
"""

from __future__ import annotations

import os
import secrets
import uuid
from datetime import timedelta
from typing import TextIO

from django.conf import settings
from django.contrib.auth import get_user_model
from django.templatetags.static import static
from django.utils import timezone

from events.ingest import Sender
from progress import tracking, video_events
from progress.models import Course, Level, Progress, Tutorial, Video

NAMESPACE = uuid.UUID("9a4f0f0e-62a4-4d0c-a3d1-5be1f2f0c7a4")
LANGUAGES = ["English", "Hindi", "Marathi"]
# (slug, name, description, video file, its length in seconds, threshold or None, tutorials)
COURSES = [
    (
        "BASH",
        "BASH",
        "Shell scripting with the Bourne Again SHell.",
        "bash.webm",
        12,
        None,
        ["Introduction", "Basic-commands", "Variables", "Loops"],
    ),
    (
        "Python",
        "Python",
        "Programming in Python 3, from the interpreter to functions.",
        "python.webm",
        15,
        None,
        ["Introduction", "Variables", "Loops", "Functions"],
    ),
    (
        "LibreOffice-Calc",
        "LibreOffice Calc",
        "Spreadsheets with LibreOffice Calc.",
        "calc.webm",
        18,
        None,
        ["Introduction", "Formulas", "Charts"],
    ),
    (
        "Scilab",
        "Scilab",
        "Numerical computing with Scilab.",
        "scilab.webm",
        20,
        90,
        ["Introduction", "Vectors", "Matrices"],
    ),
]
LEVELS = [Level.BASIC, Level.BASIC, Level.INTERMEDIATE, Level.ADVANCED]
# (course, tutorial, language, [(start, end) played], last position, minutes ago)
WATCHED = [
    ("BASH", "Introduction", "English", [(0, 12)], 12, 3 * 24 * 60),
    ("BASH", "Basic-commands", "English", [(0, 12)], 12, 2 * 24 * 60),
    ("BASH", "Variables", "English", [(0, 4), (6, 7)], 7, 26 * 60),
    ("Python", "Introduction", "Hindi", [(0, 9)], 9, 90),
    ("LibreOffice-Calc", "Introduction", "Marathi", [(0, 18)], 18, 5 * 24 * 60),
    ("LibreOffice-Calc", "Formulas", "Marathi", [(0, 15)], 15, 4 * 24 * 60),
    ("LibreOffice-Calc", "Charts", "Marathi", [(0, 17)], 17, 4 * 24 * 60 - 30),
]


def learner_password() -> str:
    """The demo learner's password: $DEMO_LEARNER_PASSWORD, else one made once and kept in var/."""
    if os.environ.get("DEMO_LEARNER_PASSWORD"):
        return os.environ["DEMO_LEARNER_PASSWORD"]
    path = settings.VAR_DIR / "demo-learner-password"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(12) + "\n")
    return path.read_text().strip()


def load_courses() -> list[Course]:
    """Upsert the demo courses, their tutorials and one video per tutorial and language."""
    courses = []
    for slug, name, description, filename, length, threshold, titles in COURSES:
        course, _ = Course.objects.update_or_create(
            slug=slug, defaults={"name": name, "description": description, "completion_threshold": threshold}
        )
        for order, tutorial_slug in enumerate(titles, start=1):
            tutorial, _ = Tutorial.objects.update_or_create(
                course=course,
                slug=tutorial_slug,
                defaults={"title": tutorial_slug.replace("-", " "), "order": order, "level": LEVELS[order - 1]},
            )
            for language in LANGUAGES:
                Video.objects.update_or_create(
                    tutorial=tutorial,
                    language=language,
                    defaults={"duration_seconds": length, "source": static(f"progress/videos/{filename}")},
                )
        courses.append(course)
    return courses


def load_demo(*, stdout: TextIO) -> None:
    """Create (idempotently) the demo courses, the learner `learner` and some of their progress."""
    courses = load_courses()
    password = learner_password()
    User = get_user_model()
    learner, _ = User.objects.get_or_create(username="learner", defaults={"first_name": "Demo", "last_name": "Learner"})
    learner.set_password(password)
    learner.save()
    now = timezone.now()
    for course, tutorial, language, segments, position, minutes_ago in WATCHED:
        video = Video.objects.select_related("tutorial__course").get(
            tutorial__course__slug=course, tutorial__slug=tutorial, language=language
        )
        context = video_events.Context(
            sender=Sender(
                ip="49.36.0.1", user_agent="Mozilla/5.0 (X11; Linux x86_64) Chrome/131.0 Safari/537.36", source="demo"
            ),
            session_id=str(uuid.uuid5(NAMESPACE, f"session-{course}")),
            url=f"http://localhost:8000{video.get_absolute_url()}",
            direct=True,
        )
        if not Progress.objects.filter(learner=learner, tutorial=video.tutorial, language=language).exists():
            tracking.record_visit(learner=learner, video=video, context=context)
        heartbeat = tracking.Heartbeat(
            id=uuid.uuid5(NAMESPACE, f"{course}/{tutorial}/{language}"),
            position=position,
            at=now - timedelta(minutes=minutes_ago),
            segments=segments,
            duration=video.duration_seconds,
            reason="pause",
        )
        tracking.record_heartbeat(learner=learner, video=video, heartbeat=heartbeat, context=context)
    started = Progress.objects.filter(learner=learner).count()
    stdout.write(f"courses:    {len(courses)} ({', '.join(c.name for c in courses)}) in {', '.join(LANGUAGES)}\n")
    stdout.write(f"learner:    learner / {password} ({started} tutorials started; see /my-learning/)\n")
