"""The one write path for learner progress: heartbeats, visits, and completion marks.

Views, the admin and the demo call these functions; nothing else creates or changes `Progress`
rows. Each change locks the learner's row for the tutorial and language, so two heartbeats
arriving together (two tabs, a resend racing its original) never lose each other's seconds.

Rules:
- Coverage is the union of the seconds actually played (progress.coverage): the same heartbeat
  twice, or heartbeats in any order, give the same coverage. The playhead never counts, so
  seeking to the end completes nothing.
- A video is completed once coverage reaches the course's threshold (else
  PROGRESS_COMPLETION_THRESHOLD) percent of its seconds. Completion is sticky: only "Mark
  incomplete" (the learner, or staff in admin) undoes it, and that also forgets the coverage, so
  the tutorial is watched afresh.
- The resume point is the position of the heartbeat with the latest client time, so a late
  upload of an older heartbeat never moves it backwards.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from progress import coverage, video_events
from progress.models import CompletedHow, Progress, Tutorial, Video
from progress.queries import State, state_for


@dataclass(frozen=True)
class Heartbeat:
    """One report from the player: where it is and which stretches it played since the last one."""

    id: uuid.UUID
    position: float
    at: datetime
    segments: Sequence[Sequence[float]] = field(default_factory=list)
    duration: float | None = None  # as the player measured it; recorded in the event only
    reason: str = "interval"


def _locked_row(*, learner, tutorial: Tutorial, language: str, duration: int) -> Progress:
    # get_or_create survives a concurrent create (it retries the get after the IntegrityError);
    # the row lock then serialises the read-merge-write that follows.
    Progress.objects.get_or_create(
        learner=learner, tutorial=tutorial, language=language, defaults={"duration_seconds": duration}
    )
    return Progress.objects.select_for_update().get(learner=learner, tutorial=tutorial, language=language)


def _complete(row: Progress, *, how: CompletedHow) -> None:
    row.completed = True
    row.completed_at = timezone.now()
    row.completed_how = how


def record_heartbeat(
    *, learner, video: Video, heartbeat: Heartbeat, context: video_events.Context | None = None
) -> State:
    """Merge one heartbeat into the learner's progress and return the state the page shows.

    Idempotent and order-independent for coverage and completion; atomic. With a `context`, the
    heartbeat is also sent as a `video/heartbeat` event (id derived from the heartbeat id, so a
    resend is stored once); that event is best effort and never makes this function fail.
    """
    duration = video.duration_seconds
    threshold = video.tutorial.course.threshold
    with transaction.atomic():
        row = _locked_row(learner=learner, tutorial=video.tutorial, language=video.language, duration=duration)
        added = coverage.to_seconds(segments=heartbeat.segments, duration=duration)
        row.watched = [
            list(i)
            for i in coverage.merge(covered=coverage.clip(intervals=row.watched, duration=duration), added=added)
        ]
        row.watched_seconds = coverage.total(row.watched)
        row.duration_seconds = duration
        if row.position_at is None or heartbeat.at >= row.position_at:
            row.last_position = min(max(0.0, heartbeat.position), float(duration))
            row.position_at = heartbeat.at
        if not row.completed and coverage.reaches(watched=row.watched_seconds, duration=duration, threshold=threshold):
            _complete(row, how=CompletedHow.AUTO)
        row.save()
    state = state_for(learner=learner, video=video, row=row)
    if context is not None:
        video_events.send(
            context=context,
            name="heartbeat",
            event_id=video_events.event_id(learner_id=learner.pk, key=f"heartbeat:{heartbeat.id}"),
            at=heartbeat.at,
            user=learner.get_username(),
            data={
                **_what(video),
                "position": round(heartbeat.position, 3),
                "duration": heartbeat.duration if heartbeat.duration is not None else duration,
                "segments": [[float(s), float(e)] for s, e in heartbeat.segments],
                "played_seconds": round(sum(max(0.0, e - s) for s, e in heartbeat.segments), 3),
                "percent": state.percent,
                "completed": state.completed,
                "reason": heartbeat.reason,
            },
        )
    return state


def record_visit(*, learner, video: Video, context: video_events.Context | None = None) -> int:
    """Count one opening of the watch page; return the learner's visits to this video so far.

    Not idempotent by design: every opening counts. The counter moves with `F()` under the row
    lock so simultaneous openings are all counted.
    """
    with transaction.atomic():
        row = _locked_row(
            learner=learner, tutorial=video.tutorial, language=video.language, duration=video.duration_seconds
        )
        Progress.objects.filter(pk=row.pk).update(visits=F("visits") + 1, updated_at=timezone.now())
        visits = Progress.objects.values_list("visits", flat=True).get(pk=row.pk)
    if context is not None:
        video_events.send(
            context=context,
            name="visit",
            event_id=video_events.event_id(learner_id=learner.pk, key=f"visit:{uuid.uuid4()}"),
            at=timezone.now(),
            user=learner.get_username(),
            data={**_what(video), "visits": visits},
        )
    return visits


def set_completed(
    *, learner, tutorial: Tutorial, language: str, completed: bool, how: CompletedHow = CompletedHow.MANUAL
) -> None:
    """Mark a tutorial complete or incomplete for a learner in a language; idempotent, atomic.

    Marking complete keeps an earlier completion (and its date and how) as it was. Marking
    incomplete clears completion and forgets the watched seconds, so completion needs a fresh
    watch; with PROGRESS_CREDIT_ACROSS_LANGUAGES on it does so in every language, since credit
    from any one language would otherwise keep the tutorial completed.
    """
    duration = (
        Video.objects.filter(tutorial=tutorial, language=language).values_list("duration_seconds", flat=True).first()
        or 0
    )
    with transaction.atomic():
        if completed:
            row = _locked_row(learner=learner, tutorial=tutorial, language=language, duration=duration)
            if not row.completed:
                _complete(row, how=how)
                row.save()
            return
        rows = Progress.objects.select_for_update().filter(learner=learner, tutorial=tutorial)
        if not settings.PROGRESS_CREDIT_ACROSS_LANGUAGES:
            rows = rows.filter(language=language)
        for row in rows:
            row.completed, row.completed_at, row.completed_how = False, None, ""
            row.watched, row.watched_seconds = [], 0
            row.save()


def _what(video: Video) -> dict[str, str]:
    return {"course": video.tutorial.course.slug, "tutorial": video.tutorial.slug, "language": video.language}


def progress_of(*, username: str) -> list[dict[str, Any]]:
    """Everything progress holds about one learner, as plain rows (a subject's export)."""
    rows = Progress.objects.filter(learner__username=username).select_related("tutorial__course")
    return [
        {
            "course": row.tutorial.course.name,
            "tutorial": row.tutorial.title,
            "language": row.language,
            "watched_seconds": row.watched_seconds,
            "duration_seconds": row.duration_seconds,
            "percent": row.percent,
            "watched_intervals": row.watched,
            "last_position": row.last_position,
            "visits": row.visits,
            "completed": row.completed,
            "completed_at": row.completed_at.isoformat() if row.completed_at else None,
            "started_at": row.started_at.isoformat(),
            "updated_at": row.updated_at.isoformat(),
        }
        for row in rows.order_by("started_at", "pk")
    ]


def erase_learner(*, username: str) -> int:
    """Delete every progress row of one learner (an erasure); returns how many. Idempotent."""
    return Progress.objects.filter(learner__username=username).delete()[0]
