"""Sessions and visitors, kept up to date from stored events in the worker.

Runs inside `events.ingest.store_batch`'s transaction in two steps around the bulk insert:

- `plan()` (before the insert) locks the batch's sessions and visitors, places every event in a
  session and decides whether its visitor is new, so those columns go into the same insert;
- `apply()` (after the insert) adds to the sessions and visitors only the events that were really
  new — never those the insert skipped as already stored — so a retried job counts nothing twice.

A visit is one client session id with no pause longer than `SESSION_INACTIVITY_MINUTES`. Events
keep the session id their client sent; the visit they belong to goes in their `visit_id`: the
client's id for its first visit, `<id>~<unix start>` for each later one (a client that reuses its
id after a longer pause). Events may arrive late, out of order or in several batches: each batch's events
and the stored sessions of the same client id are swept in time order, and an event that closes
the gap between two stored visits merges them (the later one's events are moved over).

Concurrency: two workers may store events of one session or one visitor at the same moment. On
PostgreSQL each batch takes transaction-scoped advisory locks on its (site, session id) and
(site, visitor id) keys, in sorted order so two batches can never deadlock; the second waits until
the first commits and then reads its result. SQLite runs one writing transaction at a time
(IMMEDIATE), which gives the same guarantee.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import connection

from events.models import Event, Session, Visitor
from rollups.definitions import Role

_SUFFIXED_ID_ROOM = 116  # 128 minus "~" and a 10-digit unix time


@dataclass
class Plan:
    sessions: dict[str, Session] = field(default_factory=dict)  # by visit_id, stored or new
    created: set[str] = field(default_factory=set)
    folds: list[tuple[Session, Session]] = field(default_factory=list)  # (kept, merged into it)
    # A visitor's session that arrived after a later one: that later one was wrongly counted as
    # a first visit. (visitor id, new earliest start) — its later "new" sessions become returning.
    earlier_arrivals: list[tuple[str, datetime]] = field(default_factory=list)
    visitors: dict[str, Visitor] = field(default_factory=dict)
    # Stored visits `apply()` turned from first-time into returning (the rollups move them too).
    relabelled: set[str] = field(default_factory=set)


def _lock_key(kind: str, site_id: int, value: str) -> int:
    digest = hashlib.blake2b(f"{kind}\x1f{site_id}\x1f{value}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def _lock(site_id: int, session_ids: set[str], visitor_ids: set[str]) -> None:
    if connection.vendor != "postgresql":
        return  # SQLite: the IMMEDIATE transaction already excludes every other writer
    keys = sorted(
        {_lock_key("session", site_id, s) for s in session_ids}
        | {_lock_key("visitor", site_id, v) for v in visitor_ids}
    )
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(pg_advisory_xact_lock(k)) FROM unnest(%s::bigint[]) AS k", [keys])


def plan(*, site_id: int, rows: list[dict[str, Any]]) -> Plan:
    """Lock, load and place: set each row's `visit_id` and `is_new_visitor` in place.

    Must run inside the transaction that inserts the rows and then calls `apply()`.
    """
    result = Plan()
    if not rows:
        return result
    gap = timedelta(minutes=settings.SESSION_INACTIVITY_MINUTES)
    window = timedelta(days=settings.RETURNING_VISITOR_DAYS)
    client_ids = {r["session_id"] for r in rows}
    visitor_ids = {r["visitor_id"] for r in rows if r["visitor_id"]}
    _lock(site_id, client_ids, visitor_ids)
    stored: dict[str, list[Session]] = {}
    for session in Session.objects.filter(site_id=site_id, session_id__in=client_ids):
        stored.setdefault(session.session_id, []).append(session)
        result.sessions[session.visit_id] = session
    result.visitors = {v.visitor_id: v for v in Visitor.objects.filter(site_id=site_id, visitor_id__in=visitor_ids)}

    by_client: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        by_client.setdefault(row["session_id"], []).append(row)
    new_sessions: list[Session] = []
    for client_id, client_rows in by_client.items():
        # Sweep stored sessions (as intervals) and new events (as points) in time order; anything
        # closer than the inactivity gap to the running cluster belongs to it.
        items: list[tuple[datetime, datetime, Session | None, dict[str, Any] | None]] = [
            (s.started_at, s.last_seen_at, s, None) for s in stored.get(client_id, [])
        ] + [(r["timestamp"], r["timestamp"], None, r) for r in client_rows]
        items.sort(key=lambda item: item[0])
        clusters: list[list[Any]] = []
        end: datetime | None = None
        for start, last, found, member in items:
            if end is None or start > end + gap:
                clusters.append([])
                end = last
            clusters[-1].append((found, member))
            end = max(end, last)
        for cluster in clusters:
            sessions = [s for s, _ in cluster if s is not None]
            members = [r for _, r in cluster if r is not None]
            if not members:
                continue
            if sessions:
                kept = sessions[0]  # the earliest: items were sorted by start
                result.folds += [(kept, other) for other in sessions[1:]]
            else:
                kept = _new_session(result, site_id, client_id, members[0])
                new_sessions.append(kept)
            for row in members:
                row["visit_id"] = kept.visit_id

    # First-time or returning, decided once per session from the visitor's earlier sightings:
    # returning = seen on this site within RETURNING_VISITOR_DAYS before the session began.
    seen: dict[str, list[datetime]] = {vid: [v.first_seen, v.last_seen] for vid, v in result.visitors.items()}
    for session in sorted(new_sessions, key=lambda s: s.started_at):
        sighting = seen.get(session.visitor_id)
        session.is_new_visitor = not (
            sighting is not None and sighting[0] < session.started_at and sighting[1] >= session.started_at - window
        )
        if session.visitor_id and sighting is not None and sighting[0] > session.started_at:
            result.earlier_arrivals.append((session.visitor_id, session.started_at))
        if session.visitor_id:
            if sighting is None:
                seen[session.visitor_id] = [session.started_at, session.started_at]
            else:
                sighting[0] = min(sighting[0], session.started_at)
                sighting[1] = max(sighting[1], session.started_at)
    for row in rows:
        row["is_new_visitor"] = result.sessions[row["visit_id"]].is_new_visitor
    return result


def _new_session(result: Plan, site_id: int, client_id: str, first: dict[str, Any]) -> Session:
    visit_id = client_id
    if visit_id in result.sessions:
        visit_id = f"{client_id[:_SUFFIXED_ID_ROOM]}~{int(first['timestamp'].timestamp())}"
    session = Session(
        site_id=site_id,
        visit_id=visit_id,
        session_id=client_id,
        visitor_id=first["visitor_id"],
        started_at=first["timestamp"],
        last_seen_at=first["timestamp"],
    )
    result.sessions[visit_id] = session
    result.created.add(visit_id)
    return session


def _merge(kept: Session, other: Session) -> None:
    """Fold a later session into an earlier one of the same client id (a late event joined them)."""
    if not kept.entry_path:
        kept.entry_path = other.entry_path
    if other.exit_path and other.last_seen_at >= kept.last_seen_at:
        kept.exit_path = other.exit_path
    kept.started_at = min(kept.started_at, other.started_at)
    kept.last_seen_at = max(kept.last_seen_at, other.last_seen_at)
    for counter in ("pageviews", "events", "interactions", "engaged_seconds"):
        setattr(kept, counter, getattr(kept, counter) + getattr(other, counter))


def _add(session: Session, row: dict[str, Any], *, fresh: bool) -> None:
    ts = row["timestamp"]
    earliest = fresh or ts < session.started_at
    if earliest:
        # A session is described by how it began: its first event's origin and device.
        session.started_at = ts
        session.channel = row["channel"]
        session.referrer_host = row["referrer_host"]
        session.utm_campaign = row["utm_campaign"]
        session.country = row["country"]
        session.device_type = row["device_type"]
        session.browser = row["browser"]
        session.os = row["os"]
        session.visitor_id = row["visitor_id"] or session.visitor_id
    role = row["role"]
    if role == Role.PAGE_VIEW:
        session.pageviews += 1
        if not session.entry_path or earliest:
            session.entry_path = row["path"][:2048]
        if not session.exit_path or ts >= session.last_seen_at:
            session.exit_path = row["path"][:2048]
    elif role == Role.ENGAGEMENT:
        session.engaged_seconds += int(row["data"].get("engaged_seconds") or 0)
    elif role == Role.INTERACTION:
        session.interactions += 1
    session.events += 1
    session.last_seen_at = max(session.last_seen_at, ts)


def apply(*, site_id: int, plan: Plan, new_rows: list[dict[str, Any]]) -> None:
    """Count the newly stored rows into their sessions and visitors; merge joined sessions.

    Must run in the transaction of `plan()` and the insert. Sessions whose events were all
    already stored are left as they were.
    """
    for kept, other in plan.folds:
        _merge(kept, other)
        Event.objects.filter(site_id=site_id, visit_id=other.visit_id).update(visit_id=kept.visit_id)
        Session.objects.filter(pk=other.pk).delete()
    touched: dict[str, Session] = {kept.visit_id: kept for kept, _ in plan.folds}
    untouched_new = set(plan.created)
    for row in sorted(new_rows, key=lambda r: r["timestamp"]):
        session = plan.sessions[row["visit_id"]]
        fresh = row["visit_id"] in untouched_new
        untouched_new.discard(row["visit_id"])
        _add(session, row, fresh=fresh)
        touched[session.visit_id] = session
    created: list[Session] = []
    changed: list[Session] = []
    for visit_id, session in touched.items():
        # The same definitions as the rollups (rollups.update.visit_contributions).
        session.duration_seconds = int((session.last_seen_at - session.started_at).total_seconds())
        session.is_bounce = session.pageviews <= 1 and session.interactions == 0
        (created if visit_id in plan.created else changed).append(session)
    Session.objects.bulk_create(created)
    _correct_later_first_visits(site_id=site_id, plan=plan, stored=created)
    Session.objects.bulk_update(
        changed,
        [
            "started_at",
            "last_seen_at",
            "entry_path",
            "exit_path",
            "pageviews",
            "events",
            "interactions",
            "engaged_seconds",
            "duration_seconds",
            "is_bounce",
            "channel",
            "referrer_host",
            "utm_campaign",
            "country",
            "device_type",
            "browser",
            "os",
            "visitor_id",
        ],
    )
    _apply_visitors(site_id=site_id, new_rows=new_rows)


def _correct_later_first_visits(*, site_id: int, plan: Plan, stored: list[Session]) -> None:
    """Turn "first visit" into "returning" for sessions a late-arriving earlier visit precedes.

    Rare (offline queues, replays), so it costs nothing in the usual case: one query per
    visitor whose earlier visit arrived late.
    """
    window = timedelta(days=settings.RETURNING_VISITOR_DAYS)
    stored_ids = {s.visit_id for s in stored}
    for visitor_id, started_at in plan.earlier_arrivals:
        later = Session.objects.filter(
            site_id=site_id,
            visitor_id=visitor_id,
            is_new_visitor=True,
            started_at__gt=started_at,
            started_at__lte=started_at + window,
        ).exclude(visit_id__in=stored_ids)
        visit_ids = list(later.values_list("visit_id", flat=True))
        if visit_ids:
            Session.objects.filter(site_id=site_id, visit_id__in=visit_ids).update(is_new_visitor=False)
            Event.objects.filter(site_id=site_id, visit_id__in=visit_ids).update(is_new_visitor=False)
            plan.relabelled.update(visit_ids)


def _apply_visitors(*, site_id: int, new_rows: list[dict[str, Any]]) -> None:
    """Widen each visitor's first/last sighting, in one upsert for the whole batch.

    The database takes the min/max itself, so even without the batch's locks two workers could
    not shrink each other's span; one statement also beats an ORM bulk_update (a CASE per row).
    """
    spans: dict[str, tuple[datetime, datetime]] = {}
    for row in new_rows:
        vid, ts = row["visitor_id"], row["timestamp"]
        if not vid:
            continue
        first, last = spans.get(vid, (ts, ts))
        spans[vid] = (min(first, ts), max(last, ts))
    if not spans:
        return
    ops = connection.ops
    table = ops.quote_name(Visitor._meta.db_table)
    least, greatest = ("LEAST", "GREATEST") if connection.vendor == "postgresql" else ("MIN", "MAX")
    params: list[Any] = []
    for vid, (first, last) in sorted(spans.items()):
        params += [site_id, vid, ops.adapt_datetimefield_value(first), ops.adapt_datetimefield_value(last)]
    values = ", ".join(["(%s, %s, %s, %s)"] * len(spans))
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (site_id, visitor_id, first_seen, last_seen) VALUES {values} "
            f"ON CONFLICT (site_id, visitor_id) DO UPDATE SET "
            f"first_seen = {least}({table}.first_seen, excluded.first_seen), "
            f"last_seen = {greatest}({table}.last_seen, excluded.last_seen)",
            params,
        )
