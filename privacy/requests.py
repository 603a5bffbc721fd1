"""Subject requests — "what do you hold about me?" and "delete it" — the one place that runs them.

`export_archive()` gathers everything held about a subject (their events and visits from
`events.erasure`, their learner progress from `progress.tracking`) into one ZIP of JSON and CSV.
`request_erasure()` records an erasure and queues it; `run_erasure()` (the job) erases through each
app's own write path and writes the counts into the audit record. Both leave a `SubjectRequest`
that names who asked and what kind of subject, never the subject.
"""

from __future__ import annotations

import csv
import io
import json
import logging
import zipfile
from datetime import UTC, datetime
from typing import Any

import django_rq
from redis.exceptions import RedisError
from rq import Retry

from events.erasure import Subject, erase, events_of, sessions_of
from privacy.models import Action, Status, SubjectRequest
from progress import tracking
from xapi import subjects as xapi_subjects

log = logging.getLogger(__name__)
QUEUE = "events"
EVENT_FIELDS = (
    "id",
    "timestamp",
    "session_id",
    "visit_id",
    "visitor_id",
    "user",
    "category",
    "name",
    "event_name",
    "url",
    "path",
    "referrer",
    "title",
    "ip",
    "user_agent",
    "browser",
    "os",
    "device_type",
    "country",
    "region",
    "city",
    "latitude",
    "longitude",
    "screen",
    "language",
    "data",
)
VISIT_FIELDS = (
    "visit_id",
    "session_id",
    "visitor_id",
    "started_at",
    "last_seen_at",
    "entry_path",
    "exit_path",
    "pageviews",
    "events",
    "duration_seconds",
    "is_new_visitor",
    "channel",
    "referrer_host",
    "country",
    "device_type",
    "browser",
    "os",
)


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    if value is None or isinstance(value, (str, int, float, bool, dict, list)):
        return value
    return str(value)


def _csv(rows: list[dict[str, Any]], columns: tuple[str, ...] | list[str]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(columns)
    for row in rows:
        writer.writerow(
            [
                json.dumps(row[c]) if isinstance(row[c], (dict, list)) else ("" if row[c] is None else row[c])
                for c in columns
            ]
        )
    return out.getvalue()


def collect(*, subject: Subject) -> dict[str, list[dict[str, Any]]]:
    """Every row held about the subject, as plain JSON-ready dicts, per kind of data."""
    events = [{k: _plain(v) for k, v in row.items()} for row in events_of(subject).values(*EVENT_FIELDS)]
    visits = [{k: _plain(v) for k, v in row.items()} for row in sessions_of(subject).values(*VISIT_FIELDS)]
    progress = tracking.progress_of(username=subject.value) if subject.kind == "user" else []
    statements = (
        xapi_subjects.statements_of(username=subject.value, email=_email_of(subject)) if subject.kind == "user" else []
    )
    return {"events": events, "visits": visits, "progress": progress, "xapi_statements": statements}


def _email_of(subject: Subject) -> str:
    from django.contrib.auth import get_user_model

    user = get_user_model().objects.filter(username=subject.value).first()
    return getattr(user, "email", "") or ""


def export_archive(*, subject: Subject, requested_by: str) -> bytes:
    """A ZIP of everything held about the subject (JSON and CSV per kind), recorded in the audit."""
    started = datetime.now(UTC)
    found = collect(subject=subject)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(
            "about.json",
            json.dumps(
                {
                    "subject": {"kind": subject.kind, "value": subject.value},
                    "exported_at": started.isoformat(),
                    "files": {name: len(rows) for name, rows in found.items()},
                },
                indent=2,
            ),
        )
        for name, rows in found.items():
            archive.writestr(f"{name}.json", json.dumps(rows, indent=2))
            if name == "xapi_statements":
                continue  # statements are nested JSON by nature: JSON only
            columns = {"events": EVENT_FIELDS, "visits": VISIT_FIELDS}.get(name) or (list(rows[0]) if rows else [])
            archive.writestr(f"{name}.csv", _csv(rows, columns))
    SubjectRequest.objects.create(
        action=Action.EXPORT,
        subject_kind=subject.kind,
        requested_by=requested_by[:150],
        started_at=started,
        finished_at=datetime.now(UTC),
        status=Status.DONE,
        events=len(found["events"]),
        visits=len(found["visits"]),
        progress_rows=len(found["progress"]),
    )
    return buffer.getvalue()


def request_erasure(*, subject: Subject, requested_by: str, queued: bool = True) -> SubjectRequest:
    """Record an erasure and run it as a queued job (at once when `queued` is false or Redis is down)."""
    record = SubjectRequest.objects.create(
        action=Action.ERASURE, subject_kind=subject.kind, requested_by=requested_by[:150]
    )
    if queued:
        try:
            django_rq.get_queue(QUEUE).enqueue(
                run_erasure,
                record.pk,
                subject.kind,
                subject.value,
                job_timeout=3600,
                result_ttl=600,
                failure_ttl=30 * 24 * 3600,
                retry=Retry(max=3, interval=[10, 60, 300]),
                description=f"erasure request {record.pk}",
            )
            return record
        except RedisError as error:
            log.warning("queue unreachable, erasing at once: %s", error)
    run_erasure(record.pk, subject.kind, subject.value)
    record.refresh_from_db()
    return record


def run_erasure(request_id: int, kind: str, value: str) -> dict[str, int]:
    """The erasure job: erase events, visits, visitors and progress; idempotent (a rerun adds 0)."""
    subject = Subject(kind=kind, value=value)
    SubjectRequest.objects.filter(pk=request_id).update(status=Status.RUNNING, started_at=datetime.now(UTC))
    try:
        erased = erase(subject=subject)
        progress_rows = 0
        if kind == "user":
            progress_rows = tracking.erase_learner(username=value)
            progress_rows += xapi_subjects.erase(username=value, email=_email_of(subject))
    except Exception as error:
        SubjectRequest.objects.filter(pk=request_id).update(status=Status.FAILED, error=type(error).__name__)
        raise
    record = SubjectRequest.objects.get(pk=request_id)
    # A retried job adds what the earlier try did not erase; counts never go down.
    record.events += erased.events
    record.visits += erased.visits
    record.visitors += erased.visitors
    record.progress_rows += progress_rows
    record.status, record.finished_at, record.error = Status.DONE, datetime.now(UTC), ""
    record.save()
    return {**erased.as_dict(), "progress_rows": progress_rows}
