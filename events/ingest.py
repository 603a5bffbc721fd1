"""The one write path for events.

Every door (The Eye API, the JS tracker, the Django middleware, the Logs Store format, progress
heartbeats, the demo generator) hands its events to `accept()`. It validates the whole request at
once, then puts it on the `events` queue as ONE job; the worker runs `store_batch()`, which
enriches the events and inserts them in bulk, idempotently on the event id.

No window of loss: `accept()` returns only once the batch is in Redis or in the database. If
Redis cannot be reached the batch is stored right here, in the request, and a warning is logged.
"""

from __future__ import annotations

import json
import logging
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from django.conf import settings
from django.db import DataError, IntegrityError, connection, transaction
from django.http import HttpRequest
from redis.exceptions import RedisError

from events import enrichment
from events.models import DropReason, Event, QuarantinedEvent, Site
from events.validation import TRUSTED_ONLY, EventValidationError, FieldError, printable, unstorable, validate_batch
from rollups import update as rollups

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Sender:
    """What the door knows about who sent a request.

    `trusted` is true only for server-to-server senders that proved the site's secret key; only
    they may state a visitor's IP, user agent and timestamp per event (the middleware does).
    `visitor` says whether the request's own IP and user agent are the visitor's: true for a
    browser (the tracker) and for in-process senders acting for a visitor; false for a server
    posting on its visitors' behalf, whose address and program (curl, python-requests) describe
    the server, not a visitor — such events get no location and are never dropped as bots.
    """

    ip: str | None = None
    user_agent: str = ""
    source: str = "api"
    trusted: bool = False
    visitor: bool = True

    def as_dict(self) -> dict[str, Any]:
        return {
            "ip": self.ip,
            "user_agent": self.user_agent,
            "source": self.source,
            "trusted": self.trusted,
            "visitor": self.visitor,
        }


def request_ip(request: HttpRequest) -> str | None:
    """The visitor's address; behind `TRUSTED_PROXY_COUNT` proxies, read from X-Forwarded-For."""
    hops = settings.TRUSTED_PROXY_COUNT
    if hops:
        forwarded = [p.strip() for p in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if p.strip()]
        if len(forwarded) >= hops:
            return forwarded[-hops]
    return request.META.get("REMOTE_ADDR") or None


def sender_for_request(request: HttpRequest, *, source: str, trusted: bool) -> Sender:
    """Describe who sent a request, for any door that hands a request's events to `accept()`.

    Browsers always send `Origin` on a POST (the tracker's beacons and fetches, the watch page's
    heartbeats do); a request without it comes from a program on a server, whose own address and
    User-Agent are not a visitor's. `source` "api" from a browser is recorded as "tracker".
    """
    from_browser = bool(request.META.get("HTTP_ORIGIN"))
    return Sender(
        ip=request_ip(request),
        user_agent=request.META.get("HTTP_USER_AGENT", "")[:1024],
        source="tracker" if from_browser and source == "api" else source,
        trusted=trusted,
        visitor=from_browser,
    )


@dataclass
class Stored:
    inserted: int = 0
    duplicates: int = 0
    dropped: dict[str, int] = field(default_factory=dict)
    quarantined: int = 0

    def add(self, other: Stored) -> None:
        self.inserted += other.inserted
        self.duplicates += other.duplicates
        for reason, count in other.dropped.items():
            self.dropped[reason] = self.dropped.get(reason, 0) + count

    def as_dict(self) -> dict[str, Any]:
        return {
            "inserted": self.inserted,
            "duplicates": self.duplicates,
            "dropped": self.dropped,
            "quarantined": self.quarantined,
        }


@dataclass(frozen=True)
class Accepted:
    ids: list[str]
    queued: bool
    job_id: str | None = None
    stored: Stored | None = None  # set when the batch was stored at once

    @property
    def count(self) -> int:
        return len(self.ids)


def accept(*, site: Site, payload: Any, sender: Sender, direct: bool = False) -> Accepted:
    """Validate a request's events and queue them as one job (or store them at once).

    All or nothing: raises `EventValidationError` (nothing queued, nothing stored) if any event
    breaks a rule. With `direct=True`, or when Redis is unreachable, the batch is stored before
    returning. Raises database errors only when both Redis and the database are down, in which
    case nothing was accepted.
    """
    try:
        events = validate_batch(payload, allow_custom=site.allow_custom_events)
    except EventValidationError:
        enrichment.count_refused(site=site, payload=payload)
        raise
    refused = [
        FieldError(i, "site_id", "must name the same site as the request")
        for i, e in enumerate(events)
        if e.get("site_id") not in (None, site.site_id)
    ]
    if not sender.trusted:
        refused += [
            FieldError(i, name, "may be set only by a sender holding the site's server key")
            for i, e in enumerate(events)
            for name in TRUSTED_ONLY
            if name in e
        ]
    if refused:
        enrichment.count_refused(site=site, payload=payload)
        raise EventValidationError(refused)
    batch = {
        "site": site.pk,
        "received_at": datetime.now(UTC).isoformat(),
        "sender": sender.as_dict(),
        "events": events,
    }
    ids = [e["id"] for e in events]
    if direct:
        return Accepted(ids=ids, queued=False, stored=store_batch(batch=batch))
    from events import jobs  # jobs imports this module

    try:
        job = jobs.enqueue_store(batch=batch)
    except RedisError as error:
        log.warning("queue unreachable (%s); storing %d events directly", error, len(events))
        return Accepted(ids=ids, queued=False, stored=store_batch(batch=batch))
    return Accepted(ids=ids, queued=True, job_id=job.id)


def data_errors() -> tuple[type[BaseException], ...]:
    """Errors that mean "this value cannot be stored", not "the database is unreachable".

    A batch that meets one is stored again event by event, and only the events that still fail
    are quarantined. Anything else (a lost connection, a lock timeout) fails the job, which RQ
    retries whole. The driver's own DataError is listed too: COPY runs on the driver's cursor,
    whose errors Django does not translate.
    """
    driver = connection.Database  # type: ignore[attr-defined]  # the backend's DB-API module
    return (DataError, driver.DataError, ValueError, OverflowError, RecursionError)


def store_batch(*, batch: dict[str, Any]) -> Stored:
    """Enrich and insert one accepted batch; safe to run any number of times.

    Atomic: the whole batch is inserted or none of it. Events whose id is already stored are
    skipped (counted as duplicates), so a retried job or a client's resend never adds a row.
    An event the database cannot keep never sinks its neighbours: it is set aside in
    `QuarantinedEvent` with the reason (once per id) and the others are stored. Raises only
    errors that are not about the data (the database is down), so the job is retried.
    """
    site = Site.objects.get(pk=batch["site"])
    received_at = datetime.fromisoformat(batch["received_at"])
    sender = batch["sender"]
    # Batches queued before the door knew a rule meet the same rules here.
    events: list[dict[str, Any]] = []
    refused: list[tuple[dict[str, Any], str]] = []
    for event in batch["events"]:
        broken = unstorable(event)
        if broken:
            refused.append((event, "; ".join(f"{place}: {rule}" for place, rule in broken)))
        else:
            events.append(event)
    try:
        with transaction.atomic():
            result = _store_events(site=site, events=events, sender=sender, received_at=received_at)
            result.quarantined = quarantine(site=site, refused=refused, received_at=received_at)
        return result
    except data_errors() as error:
        log.warning(
            "a batch of %d events for site %s met a data error (%s); storing them one by one",
            len(events),
            site.pk,
            error,
        )
    result = Stored()
    with transaction.atomic():
        for event in events:
            try:
                with transaction.atomic():  # a savepoint: a refused event leaves the batch usable
                    result.add(_store_events(site=site, events=[event], sender=sender, received_at=received_at))
            except data_errors() as error:
                refused.append((event, f"{type(error).__name__}: {error}"))
        result.quarantined = quarantine(site=site, refused=refused, received_at=received_at)
    return result


def _store_events(*, site: Site, events: list[dict[str, Any]], sender: dict[str, Any], received_at: datetime) -> Stored:
    """Enrich and insert events, with their sessions, counters and rollups; inside a transaction."""
    rows, dropped = enrichment.enrich(events=events, site=site, sender=sender, received_at=received_at)
    result = Stored(dropped=enrichment.totals(dropped))
    size = max(1, settings.EVENTS_BULK_SIZE)
    new_rows: list[dict[str, Any]] = []
    # Sessions and visitors: locked and placed before the insert, counted after it.
    plan = enrichment.before_insert(site=site, rows=rows)
    for start in range(0, len(rows), size):
        chunk = rows[start : start + size]
        new_ids = insert_rows(chunk)
        new_rows += [row for row in chunk if row["id"] in new_ids]
        result.inserted += len(new_ids)
        result.duplicates += len(chunk) - len(new_ids)
    enrichment.after_insert(site=site, plan=plan, rows=rows, new_ids={row["id"] for row in new_rows}, dropped=dropped)
    # Dashboards' counters move in the same transaction as the rows they count.
    rollups.record(rows=new_rows, relabelled=plan.relabelled)
    return result


def quarantine(*, site: Site, refused: list[tuple[dict[str, Any], str]], received_at: datetime) -> int:
    """Keep events the database refused, with their reasons; return how many were new.

    Idempotent on (site, event id), and counted once as dropped (reason "quarantined") on the
    day they were received. Must run inside the batch's transaction.
    """
    if not refused:
        return 0
    wanted = {str(event.get("id", "")): (event, reason) for event, reason in refused}
    known = set(
        QuarantinedEvent.objects.filter(site=site, event_id__in=list(wanted)).values_list("event_id", flat=True)
    )
    fresh = [
        QuarantinedEvent(
            site=site,
            event_id=printable(event_id)[:64],
            received_at=received_at,
            reason=printable(reason)[:2000],
            payload=_escaped_json(event),
        )
        for event_id, (event, reason) in wanted.items()
        if event_id not in known
    ]
    QuarantinedEvent.objects.bulk_create(fresh, ignore_conflicts=True)
    if fresh:
        log.warning("quarantined %d events of site %s", len(fresh), site.pk)
        day = received_at.astimezone(UTC).date()
        enrichment.record_dropped(site_id=site.pk, counts=Counter({(day, DropReason.QUARANTINED): len(fresh)}))
    return len(fresh)


def _escaped_json(event: dict[str, Any]) -> str:
    # ensure_ascii writes NUL and lone surrogates as \u escapes, which every database keeps.
    try:
        return json.dumps(event, ensure_ascii=True, default=str)
    except (RecursionError, ValueError):
        return printable(repr(event))[:20000]


_COLUMNS = [f for f in Event._meta.concrete_fields]
_ATTNAMES = [f.attname for f in _COLUMNS]


def insert_rows(rows: list[dict[str, Any]]) -> set[str]:
    """Insert event rows, skipping ids already stored; return the ids that were new.

    Must run inside a transaction. PostgreSQL: COPY into a temporary table, then one
    `INSERT … ON CONFLICT DO NOTHING RETURNING id` (COPY is 20–70× faster than row inserts).
    SQLite: look up existing ids, then one bulk insert; SQLite's IMMEDIATE transactions admit
    one writer at a time, so no other worker can insert the same id in between.
    """
    if not rows:
        return set()
    if connection.vendor == "postgresql":
        return _insert_postgresql(rows)
    return _insert_generic(rows)


def _insert_generic(rows: list[dict[str, Any]]) -> set[str]:
    ids = [r["id"] for r in rows]
    existing = {str(i) for i in Event.objects.filter(id__in=ids).values_list("id", flat=True)}
    fresh = [r for r in rows if r["id"] not in existing]
    Event.objects.bulk_create([Event(**r) for r in fresh], ignore_conflicts=True)
    return {r["id"] for r in fresh}


def _copy_rows(cursor: Any, table: str, rows: list[dict[str, Any]]) -> None:
    """COPY rows into `table` (text format; JSON as text, other values as psycopg adapts them)."""
    columns = ", ".join(f'"{c.column}"' for c in _COLUMNS)
    defaults = [(f.attname, f.get_default()) for f in _COLUMNS]
    dumps = json.JSONEncoder(separators=(",", ":")).encode
    with cursor.cursor.copy(f'COPY "{table}" ({columns}) FROM STDIN') as copy:  # the psycopg cursor
        for row in rows:
            values = [row.get(name, default) for name, default in defaults]
            values[_DATA_INDEX] = dumps(values[_DATA_INDEX])
            copy.write_row(values)


_DATA_INDEX = _ATTNAMES.index("data")


def _insert_postgresql(rows: list[dict[str, Any]]) -> set[str]:
    """Look up which ids exist, COPY the rest straight into the table.

    Duplicates are rare (retried jobs, resent batches), so the common case costs one index
    look-up plus a plain COPY. If another worker stores one of these ids between the look-up and
    the COPY, the COPY fails on the primary key; then the batch goes through a staging table and
    `INSERT … ON CONFLICT DO NOTHING`, which skips whatever is already there.
    """
    table = Event._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(f'SELECT id FROM "{table}" WHERE id = ANY(%s::uuid[])', [[r["id"] for r in rows]])
        existing = {str(r[0]) for r in cursor.fetchall()}
        fresh = [r for r in rows if r["id"] not in existing]
        if not fresh:
            return set()
        try:
            with transaction.atomic():  # a savepoint, so a failed COPY leaves the batch usable
                _copy_rows(cursor, table, fresh)
            return {r["id"] for r in fresh}
        except IntegrityError:
            return _insert_postgresql_staged(cursor, table, fresh)


def _insert_postgresql_staged(cursor: Any, table: str, rows: list[dict[str, Any]]) -> set[str]:
    columns = ", ".join(f'"{c.column}"' for c in _COLUMNS)
    # Made afresh in each transaction (ON COMMIT DROP): a table kept for the connection's life
    # would keep the columns it had before a migration and break COPY afterwards.
    cursor.execute(
        f'CREATE TEMP TABLE IF NOT EXISTS "incoming_events" (LIKE "{table}" INCLUDING DEFAULTS) ON COMMIT DROP'
    )
    cursor.execute('TRUNCATE "incoming_events"')
    _copy_rows(cursor, "incoming_events", rows)
    cursor.execute(
        f'INSERT INTO "{table}" ({columns}) SELECT {columns} FROM "incoming_events" '
        f"ON CONFLICT (id) DO NOTHING RETURNING id"
    )
    return {str(r[0]) for r in cursor.fetchall()}


def event_rows_for(events: Iterable[Event]) -> list[dict[str, Any]]:
    """Plain rows for model instances (used by tests and benchmarks to feed `insert_rows`)."""
    return [{name: getattr(e, name) for name in _ATTNAMES} for e in events]
