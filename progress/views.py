"""Learner pages: tutorial search, the watch page and "My learning".

Anyone may search and watch; only a logged-in learner's visits and progress are recorded, and
always the session's own.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.middleware.csrf import get_token
from django.shortcuts import get_object_or_404, render
from django.urls import reverse

from progress import queries, tracking
from progress.models import Course, Video


def _get_video(*, course: str, tutorial: str, language: str) -> Video:
    return get_object_or_404(
        Video.objects.select_related("tutorial__course"),
        tutorial__course__slug=course,
        tutorial__slug=tutorial,
        language=language,
    )


def _start_from(request: HttpRequest, *, resume_at: float, duration: int) -> float:
    """`?t=` (seconds) when it is a number within the video, else the learner's resume point."""
    raw = request.GET.get("t", "").strip().rstrip("s")
    try:
        wanted = float(raw)
    except ValueError:
        return resume_at
    return wanted if 0 <= wanted < duration else resume_at


def tutorial_search(request: HttpRequest) -> HttpResponse:
    courses = list(Course.objects.all())
    course = next((c for c in courses if c.slug == request.GET.get("course")), None)
    languages = queries.languages_of(course=course)
    language = request.GET.get("language") or ""
    if course and language not in languages:
        language = "English" if "English" in languages else (languages[0] if languages else "")
    overview = (
        queries.course_overview(learner=request.user, course=course, language=language) if course and language else None
    )
    return render(
        request,
        "progress/tutorial_search.html",
        {"courses": courses, "course": course, "languages": languages, "language": language, "overview": overview},
    )


def watch(request: HttpRequest, course: str, tutorial: str, language: str) -> HttpResponse:
    video = _get_video(course=course, tutorial=tutorial, language=language)
    learner = request.user if request.user.is_authenticated else None
    if learner is not None:
        # Counted for rewatch figures; the page view itself is recorded by our own tracker on the
        # page, in the browser's visit (a server-side event here would be a visit of its own).
        tracking.record_visit(learner=learner, video=video)
        state = queries.state_for(learner=learner, video=video)
    else:
        state = queries.State(completed=False, percent=0, resume_at=0.0)
    overview = queries.course_overview(learner=learner, course=video.tutorial.course, language=language)
    config = {
        "learner": learner is not None,
        "learnerKey": learner.pk if learner is not None else None,  # separates learners' offline outboxes
        "tutorial": video.tutorial_id,
        "language": video.language,
        "duration": video.duration_seconds,
        "start": _start_from(request, resume_at=state.resume_at, duration=video.duration_seconds),
        "completed": state.completed,
        "percent": state.percent,
        "heartbeatUrl": reverse("progress-heartbeat"),
        "markUrl": reverse("progress-mark"),
        "heartbeatSeconds": settings.PROGRESS_HEARTBEAT_SECONDS,
        "csrfToken": get_token(request) if learner is not None else "",
    }
    return render(
        request,
        "progress/watch.html",
        {
            "video": video,
            "tutorial": video.tutorial,
            "course": video.tutorial.course,
            "state": state,
            "overview": overview,
            "other_languages": video.tutorial.videos.exclude(pk=video.pk).values_list("language", flat=True),
            "config": config,
        },
    )


@login_required
def my_learning(request: HttpRequest) -> HttpResponse:
    return render(request, "progress/my_learning.html", {"overviews": queries.my_learning(learner=request.user)})
