"""Turn accepted events into stored rows: everything the worker adds off the request path.

Called by `events.ingest.store_batch` only, in three steps:

1. `enrich()` — per event, without writing: drop bots and headless browsers; location from the
   full IP (GeoIP2) *before* the site's IP privacy reduces it, or the visitor's shared position;
   browser, OS and device from the User-Agent; visitor id (the tracker's cookie id, or a daily
   salted hash for cookieless sites); referrer host and channel, UTM tags; the event name from
   the URL rules, with their named groups merged into `data`.
2. `before_insert()` — in the storing transaction: place events in sessions, mark first-time or
   returning visitors (events/sessions.py).
3. `after_insert()` — same transaction, with only the rows the insert really added: update
   sessions and visitors, and count what was dropped (bots, duplicates) per site, day and reason.
"""

from __future__ import annotations

import ipaddress
import logging
from collections import Counter
from datetime import UTC, date, datetime
from typing import Any

from django.db import DatabaseError, connection, transaction

from events import geo, naming, referrers, sessions, useragents, visitors
from events.models import DroppedEvents, DropReason, IpPrivacy, Site
from rollups.definitions import Role, role_of

log = logging.getLogger(__name__)

COLUMNS_FROM_EVENT = (
    "session_id",
    "visitor_id",
    "category",
    "name",
    "user",
    "url",
    "host",
    "path",
    "referrer",
    "title",
    "screen",
    "language",
)

# (day, reason) → events not stored. The day is the event's own (UTC), so a bot's visits are
# counted on the day they happened even when the batch is stored later.
Dropped = Counter[tuple[date, str]]


def reduce_ip(ip: str | None, privacy: str) -> str | None:
    """Apply a site's IP privacy: keep, anonymise (last octet / last 80 bits zeroed) or drop."""
    if not ip or privacy == IpPrivacy.NONE:
        return None
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return None
    if privacy == IpPrivacy.RAW:
        return str(address)
    prefix = 24 if address.version == 4 else 48
    return str(ipaddress.ip_network(f"{address}/{prefix}", strict=False).network_address)


def enrich(
    *, events: list[dict[str, Any]], site: Site, sender: dict[str, Any], received_at: datetime
) -> tuple[list[dict[str, Any]], Dropped]:
    """Build one row per event a person made, and count the bots' events instead of keeping them.

    Never raises on odd input: unknown IPs give no location, unknown User-Agents no browser.
    Reads the event-name rules and today's salt (cookieless sites) but writes nothing else.
    """
    rows: list[dict[str, Any]] = []
    dropped: Dropped = Counter()
    rules = naming.rules()
    salt = visitors.salt_for(day=received_at.astimezone(UTC).date()) if site.cookieless else ""
    # The request's own address and program stand for the visitor only when a browser sent it
    # (batches queued before this flag existed came from visitors' requests).
    sender_is_visitor = sender.get("visitor", True)
    sender_ip = sender.get("ip") if sender_is_visitor else None
    sender_agent = (sender.get("user_agent") or "") if sender_is_visitor else ""
    for event in events:
        timestamp = datetime.fromisoformat(event["timestamp"])
        # Per-event ip / user_agent come only from trusted senders (checked by ingest.accept).
        user_agent = event.get("user_agent") or sender_agent
        agent = useragents.describe(user_agent)
        if agent.is_bot:
            dropped[(timestamp.date(), DropReason.BOT)] += 1
            continue
        full_ip = event.get("ip") or sender_ip
        place = geo.locate(ip=full_ip)
        row: dict[str, Any] = {name: event.get(name) or "" for name in COLUMNS_FROM_EVENT}
        if not full_ip and not user_agent and not row["visitor_id"]:
            # Nothing describes the person (a server posting for its users without their IP or
            # browser): the visitor is the session, or all such senders' users would be one.
            row["visitor_id"] = row["session_id"]
        elif site.cookieless or not row["visitor_id"]:
            row["visitor_id"] = visitors.hashed_visitor_id(
                salt=salt or visitors.salt_for(day=received_at.astimezone(UTC).date()),
                site_id=site.pk,
                ip=full_ip or "",
                user_agent=user_agent,
            )
        data = dict(event.get("data") or {})
        role = role_of(category=row["category"], name=row["name"], data=data)
        if role == Role.PAGE_VIEW:
            event_name, fields = naming.name_for(path=row["path"], site_id=site.pk, table=rules)
            for key, value in fields.items():
                data.setdefault(key, value)  # what the client sent wins over what the URL says
        else:
            event_name = f"{row['category']}.{row['name']}"
        origin = referrers.classify(referrer=row["referrer"], page_host=row["host"])
        # The visitor's own position beats the IP's guess, when the site asks for positions at all.
        shared = (event.get("geo") or {}) if site.collect_geolocation else {}
        row.update(
            id=event["id"],
            site_id=site.pk,
            visit_id=row["session_id"],  # until sessions.plan() places the event in its visit
            role=role,
            source=sender.get("source") or "api",
            timestamp=timestamp,
            received_at=received_at,
            data=data,
            event_name=event_name,
            ip=reduce_ip(full_ip, site.ip_privacy),  # after the lookup, which needs the full IP
            user_agent=user_agent,
            browser=agent.browser,
            browser_version=agent.browser_version,
            os=agent.os,
            os_version=agent.os_version,
            device=agent.device,
            device_type=agent.device_type,
            country=place.country,
            country_name=place.country_name,
            region=place.region,
            city=place.city,
            latitude=shared.get("latitude", place.latitude),
            longitude=shared.get("longitude", place.longitude),
            referrer_host=origin.referrer_host,
            channel=origin.channel,
            is_new_visitor=None,
        )
        row.update({name: "" for name in referrers.UTM_FIELDS})
        row.update(referrers.utm_tags(url=row["url"], path=row["path"]))
        rows.append(row)
    return rows, dropped


def totals(dropped: Dropped) -> dict[str, int]:
    """Dropped events per reason, all days together (what a job reports)."""
    result: Counter[str] = Counter()
    for (_, reason), count in dropped.items():
        result[str(reason)] += count
    return dict(result)


def before_insert(*, site: Site, rows: list[dict[str, Any]]) -> sessions.Plan:
    """Place rows in sessions and set `is_new_visitor`; locks them until the transaction ends."""
    return sessions.plan(site_id=site.pk, rows=rows)


def after_insert(
    *,
    site: Site,
    plan: sessions.Plan,
    rows: list[dict[str, Any]],
    new_ids: set[str],
    dropped: Dropped,
) -> None:
    """Count the rows the insert added into sessions and visitors; record what was dropped.

    Must run in the transaction that inserted the rows, so a failed batch counts nothing and a
    retried one counts each event once.
    """
    new_rows = [r for r in rows if r["id"] in new_ids]
    sessions.apply(site_id=site.pk, plan=plan, new_rows=new_rows)
    counts = Counter(dropped)
    for row in rows:
        if row["id"] not in new_ids:
            counts[(row["timestamp"].date(), DropReason.DUPLICATE)] += 1
    record_dropped(site_id=site.pk, counts=counts)


def record_dropped(*, site_id: int, counts: Dropped) -> None:
    """Add to the per-site, per-day, per-reason counters in one statement.

    An upsert that adds to the stored count in the database (`count = count + excluded.count`):
    two workers adding at once both land, where read-then-write would lose one of them.
    """
    counts = Counter({key: n for key, n in counts.items() if n})
    if not counts:
        return
    table = connection.ops.quote_name(DroppedEvents._meta.db_table)
    values = ", ".join(["(%s, %s, %s, %s)"] * len(counts))
    params: list[Any] = []
    for (day, reason), count in sorted(counts.items()):
        params += [site_id, day, str(reason), count]
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (site_id, day, reason, count) VALUES {values} "
            f"ON CONFLICT (site_id, day, reason) DO UPDATE SET count = {table}.count + excluded.count",
            params,
        )


def count_refused(*, site: Site, payload: Any) -> None:
    """Count a request refused at the door (400) as invalid events, for today; never raises.

    One upsert per refused request. A failure to count must not turn the client's 400 into a
    500, so database errors are logged and swallowed (inside a savepoint, to leave any outer
    transaction usable).
    """
    count = len(payload) if isinstance(payload, list) else 1
    try:
        with transaction.atomic():
            record_dropped(site_id=site.pk, counts=Counter({(datetime.now(UTC).date(), DropReason.INVALID): count}))
    except DatabaseError as error:
        log.warning("could not count %d refused events for site %s: %s", count, site.pk, error)


# A browser string whose parse walks most of ua-parser's table (a common desktop Chrome).
_WARM_AGENT = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36"
)


def warm() -> None:
    """Load what enrichment needs once per process: ua-parser's compiled patterns and the GeoIP
    database. A forking worker calls it before forking, so each job's work-horse inherits both
    instead of compiling 1,200-odd patterns (~0.1 s) and opening the database again per job."""
    useragents.describe(_WARM_AGENT)
    useragents.describe.cache_clear()  # keep the patterns, not a cached answer
    geo.reader()
