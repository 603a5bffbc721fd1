"""Learner activity as events (category `video`), so dashboards can count plays and drop-offs.

`register()` adds the `video/heartbeat` and `video/visit` types to the events validation registry
(called from `ProgressConfig.ready`). `send()` hands one event to `events.ingest.accept()` for the
default site; progress never depends on it: with no default site, or if the event is refused, the
learner's progress is kept and the event is skipped (a refusal is logged, since it means a bug).
"""

from __future__ import annotations

import hashlib
import logging
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from django.http import HttpRequest

from events import ingest
from events.models import Site
from events.validation import (
    EventValidationError,
    Rule,
    boolean,
    host,
    number,
    optional,
    path,
    register_event_type,
    required,
    text,
)

log = logging.getLogger(__name__)

CATEGORY = "video"
# Event ids derive from (learner, heartbeat id), so a resent heartbeat is one stored event and one
# learner cannot collide with another's event by reusing a heartbeat id.
EVENT_NAMESPACE = uuid.UUID("0c6f4a52-3b9e-4f4b-8d77-2f5a61c0b8e3")
MAX_SEGMENTS = 200


def segments(value: Any) -> list[list[float]]:
    """A list of `[start, end]` pairs of seconds with start ≤ end."""
    if not isinstance(value, list) or len(value) > MAX_SEGMENTS:
        raise Rule(f"must be a list of at most {MAX_SEGMENTS} [start, end] pairs")
    clean = []
    for pair in value:
        if not isinstance(pair, list) or len(pair) != 2:
            raise Rule("must be a list of [start, end] pairs")
        start, end = (number(minimum=0)(p) for p in pair)
        if end < start:
            raise Rule("each segment must end after it starts")
        clean.append([start, end])
    return clean


def register() -> None:
    """Add the video event types to the events registry (idempotent)."""
    where = {"host": required(host), "path": required(path)}
    what = {
        "course": required(text(120)),
        "tutorial": required(text(200)),
        "language": required(text(35)),
    }
    register_event_type(
        CATEGORY,
        "heartbeat",
        data={
            **where,
            **what,
            "position": required(number(minimum=0)),
            "duration": required(number(minimum=0)),
            "segments": required(segments),
            "played_seconds": required(number(minimum=0)),
            "percent": required(number(minimum=0, maximum=100)),
            "completed": required(boolean),
            "reason": optional(text(16)),
        },
        columns=("host", "path"),
    )
    register_event_type(
        CATEGORY, "visit", data={**where, **what, "visits": required(number(minimum=1))}, columns=("host", "path")
    )


@dataclass(frozen=True)
class Context:
    """Where a progress change came from: who sent it and on which page visit, for its event.

    `session_id` and `visitor_id` are the page's own tracker ids when the page sent them, so the
    event joins the visit the tracker recorded (its page view, entry page, place and device).
    """

    sender: ingest.Sender
    session_id: str
    url: str
    visitor_id: str | None = None
    direct: bool = False  # store at once instead of queueing (no worker needed)
    # Gather the events here instead of sending each one; the caller sends them in bulk.
    collect: list[dict[str, Any]] | None = None


def send(*, context: Context, name: str, event_id: str, at: datetime, user: str, data: dict[str, Any]) -> bool:
    """Send one `video/<name>` event for the default site (or gather it in `context.collect`);
    return whether it was accepted.

    Never raises for a missing default site or a refused event: progress must not fail because
    analytics could not record it.
    """
    parts = urlsplit(context.url)
    event = {
        "id": event_id,
        "session_id": context.session_id,
        "category": CATEGORY,
        "name": name,
        "timestamp": at.isoformat(),
        "user": user,
        "url": context.url,
        "data": {"host": parts.netloc or "localhost", "path": parts.path or "/", **data},
    }
    if context.visitor_id:
        event["visitor_id"] = context.visitor_id
    if context.collect is not None:
        context.collect.append(event)
        return True
    site = Site.objects.default()
    if site is None:
        return False
    try:
        ingest.accept(site=site, payload=event, sender=context.sender, direct=context.direct)
    except EventValidationError as error:
        log.error("video event refused by the events registry: %s", [e.as_dict() for e in error.errors])
        return False
    return True


def context_for(
    *, request: HttpRequest, video, session_id: str | None = None, visitor_id: str | None = None
) -> Context:
    """The context of a change made through a request on a video's watch page.

    `session_id` and `visitor_id` are the ids of the page's tracker, when the page sent them
    (validated by the caller). Without them the event's session is the learner's login session;
    that session key is a credential, so events carry only a hash of it.
    """
    if not session_id:
        session_key = request.session.session_key or f"learner-{request.user.pk}"
        session_id = hashlib.sha256(session_key.encode()).hexdigest()[:32]
    return Context(
        sender=ingest.sender_for_request(request, source="progress", trusted=False),
        session_id=session_id,
        visitor_id=visitor_id or None,
        url=request.build_absolute_uri(video.get_absolute_url()),
    )


def event_id(*, learner_id: int, key: str) -> str:
    return str(uuid.uuid5(EVENT_NAMESPACE, f"{learner_id}:{key}"))
