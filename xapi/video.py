"""Statements of the xAPI Video Profile merged into learner progress.

A stored statement is merged when all of these hold:
- its verb is one the Video Profile uses (`VERBS`);
- its actor maps to a learner (`xapi.subjects.learner_of`: account name = user name, or mbox =
  the user's e-mail address);
- its object is an Activity whose id is the tutorial's watch page,
  `https://<any host>/watch/<course>/<tutorial>/<language>/` (read by `progress.paths.watch_parts`),
  and that video is catalogued;
- it carries a played-segments result extension (`"0[.]10[,]12[.]30"`) or a time.

It then becomes one heartbeat on the one write path (`progress.tracking.record_heartbeat`):
segments = played-segments, position = `time` (`time-to` for seeked), at = the statement's
timestamp, duration = `length`. So coverage, resume and completion follow the rules of our own
player: a seeked statement moves the resume point but adds no played seconds, and the
profile's completed verb completes nothing that the played seconds do not. Merging happens once
per statement id (a statement resent unchanged is not merged again); statements that do not
map are stored all the same. Voiding a statement later does not take its seconds back.
"""

from __future__ import annotations

import math
import uuid
from typing import Any
from urllib.parse import unquote, urlsplit

from progress import tracking
from progress.models import Video
from progress.paths import watch_parts
from xapi.subjects import learner_of

PROFILE = "https://w3id.org/xapi/video/"
ADL = "http://adlnet.gov/expapi/verbs/"
SEEKED = PROFILE + "verbs/seeked"
VERBS = {PROFILE + "verbs/" + v for v in ("played", "paused", "seeked", "completed", "terminated", "initialized")} | {
    ADL + v for v in ("initialized", "completed", "terminated")
}
SEGMENTS = PROFILE + "extensions/played-segments"
TIME = PROFILE + "extensions/time"
TIME_FROM = PROFILE + "extensions/time-from"
TIME_TO = PROFILE + "extensions/time-to"
LENGTH = PROFILE + "extensions/length"


def parse_segments(text: Any) -> list[list[float]] | None:
    """`"0[.]10[,]12[.]30"` as [[0, 10], [12, 30]]; None when it is not that form."""
    if not isinstance(text, str):
        return None
    if not text.strip():
        return []
    segments = []
    for part in text.split("[,]"):
        ends = part.split("[.]")
        if len(ends) != 2:
            return None
        try:
            start, end = float(ends[0]), float(ends[1])
        except ValueError:
            return None
        if not (math.isfinite(start) and math.isfinite(end)) or start < 0 or end < start:
            return None
        segments.append([start, end])
    return segments


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return None
    return float(value)


def video_of(activity: str) -> Video | None:
    """The catalogued video an activity id (a watch page address) names, or None."""
    parts = watch_parts(unquote(urlsplit(activity).path))
    if parts is None:
        return None
    course, tutorial, language = parts
    return (
        Video.objects.select_related("tutorial__course")
        .filter(tutorial__course__slug=course, tutorial__slug=tutorial, language=language)
        .first()
    )


def heartbeat_of(*, statement: dict[str, Any], verb: str, at: Any) -> tracking.Heartbeat | None:
    """The heartbeat a Video Profile statement amounts to, or None when it carries nothing to merge."""
    result = (statement.get("result") or {}).get("extensions") or {}
    context = (statement.get("context") or {}).get("extensions") or {}
    if not isinstance(result, dict) or not isinstance(context, dict):
        return None
    segments = parse_segments(result.get(SEGMENTS)) if SEGMENTS in result else []
    if segments is None:
        return None
    if verb == SEEKED:
        segments = []  # seeking plays nothing
        position = _number(result.get(TIME_TO))
    else:
        position = _number(result.get(TIME))
    if position is None and not segments:
        return None
    if position is None:
        position = segments[-1][1]
    return tracking.Heartbeat(
        id=uuid.UUID(statement["id"]),
        position=position,
        at=at,
        segments=segments,
        duration=_number(context.get(LENGTH)),
        reason="xapi",
    )


def merge(*, statement: dict[str, Any], verb: str, activity: str, at: Any) -> bool:
    """Merge one freshly stored statement into progress; True when it was merged."""
    if verb not in VERBS or not activity:
        return False
    heartbeat = heartbeat_of(statement=statement, verb=verb, at=at)
    if heartbeat is None:
        return False
    learner = learner_of(statement.get("actor"))
    if learner is None:
        return False
    video = video_of(activity)
    if video is None:
        return False
    tracking.record_heartbeat(learner=learner, video=video, heartbeat=heartbeat)
    return True
