"""Enrichment cost per event: storing a 1,000-event batch with and without it, in one run.

(a) baseline: the batch's rows as the door delivers them (no location, UA, visitor, session,
    name or referrer work), inserted with `events.ingest.insert_rows` in one transaction;
(b) the enrichment steps of `events.ingest.store_batch` — `enrich()` (GeoIP2, UA, visitor id,
    name, referrer), `before_insert()` / `after_insert()` (sessions, visitors, dropped counters) —
    around the same insert, without the rollup counters other modules add in that transaction;
(c) the whole `store_batch` as the worker runs it, for reference.
Each round uses new event ids and new sessions (the worst case for the session step); the UA
cache is warm after the first round, as it is in a running worker. Prints medians of the rounds.
Usage: `python bench/enrichment.py [--postgres] [--rounds 7] [--events 1000]`.
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
import uuid
from datetime import UTC, datetime, timedelta

from common import fresh_postgres, fresh_sqlite, setup_django, start_queue_server

USER_AGENTS = [
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/{v}.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Linux; Android 14; SM-A146B) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/{v}.0.0.0 Mobile Safari/537.36",
    "Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:{v}.0) Gecko/20100101 Firefox/{v}.0",
    "Mozilla/5.0 (iPad; CPU OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
]
REFERRERS = ["", "https://www.google.co.in/", "https://t.co/x", "https://fossee.in/", "https://spoken-tutorial.org/"]
PATHS = ["/", "/tutorial-search/", "/watch/BASH/Loops/English/", "/watch/Python/Functions/Hindi/", "/news/"]


def make_batch(site, rng: random.Random, n: int) -> dict:
    start = datetime.now(UTC) - timedelta(hours=6)
    events = []
    for i in range(n):
        path = rng.choice(PATHS)
        events.append(
            {
                "id": str(uuid.uuid4()),
                "session_id": f"bench-{uuid.uuid4().hex[:8]}" if i % 8 == 0 else events[-1]["session_id"],
                "visitor_id": f"visitor-{rng.randint(1, 300)}",
                "category": "page_interaction",
                "name": "page_view",
                "data": {"host": "spoken-tutorial.org", "path": path},
                "host": "spoken-tutorial.org",
                "path": path,
                "url": f"https://spoken-tutorial.org{path}" + ("?utm_source=newsletter" if i % 50 == 0 else ""),
                "referrer": rng.choice(REFERRERS),
                "timestamp": (start + timedelta(seconds=i * 7)).isoformat(),
                "user_agent": rng.choice(USER_AGENTS).format(v=rng.randint(120, 131)),
                "ip": f"{rng.choice([49, 103, 117, 106, 59, 14, 81, 41])}.{rng.randint(0, 255)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}",
            }
        )
    return {
        "site": site.pk,
        "received_at": datetime.now(UTC).isoformat(),
        "sender": {"ip": None, "user_agent": "", "source": "bench", "trusted": True},
        "events": events,
    }


def plain_rows(batch: dict) -> list[dict]:
    """What the foundation stored before enrichment: the event's own fields, nothing looked up."""
    received = datetime.fromisoformat(batch["received_at"])
    columns = ("session_id", "visitor_id", "category", "name", "url", "host", "path", "referrer")
    return [
        {
            **{c: e.get(c) or "" for c in columns},
            "id": e["id"],
            "site_id": batch["site"],
            "source": "bench",
            "timestamp": datetime.fromisoformat(e["timestamp"]),
            "received_at": received,
            "data": e["data"],
            "ip": e["ip"],
            "user_agent": e["user_agent"],
        }
        for e in batch["events"]
    ]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--postgres", action="store_true")
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--events", type=int, default=1000)
    args = parser.parse_args()
    database = fresh_postgres("bench_enrichment") if args.postgres else fresh_sqlite("bench_enrichment")
    redis_url, server = start_queue_server()
    setup_django(database_url=database, redis_url=redis_url)
    from django.db import transaction

    from events import enrichment, ingest
    from events.sites import create_site

    site = create_site(name="bench")
    rng = random.Random(1)
    baseline, full, enrich_only, whole = [], [], [], []
    stored = bots = 0
    for _ in range(args.rounds):
        batch = make_batch(site, rng, args.events)
        rows = plain_rows(make_batch(site, rng, args.events))
        t0 = time.perf_counter()
        with transaction.atomic():
            ingest.insert_rows(rows)
        baseline.append(time.perf_counter() - t0)

        t0 = time.perf_counter()
        enrichment.enrich(
            events=batch["events"],
            site=site,
            sender=batch["sender"],
            received_at=datetime.fromisoformat(batch["received_at"]),
        )
        enrich_only.append(time.perf_counter() - t0)

        t0 = time.perf_counter()
        enriched, dropped = enrichment.enrich(
            events=batch["events"],
            site=site,
            sender=batch["sender"],
            received_at=datetime.fromisoformat(batch["received_at"]),
        )
        with transaction.atomic():
            plan = enrichment.before_insert(site=site, rows=enriched)
            new_ids = ingest.insert_rows(enriched)
            enrichment.after_insert(site=site, plan=plan, rows=enriched, new_ids=new_ids, dropped=dropped)
        full.append(time.perf_counter() - t0)
        stored += len(new_ids)
        bots += sum(dropped.values())

        again = make_batch(site, rng, args.events)
        t0 = time.perf_counter()
        ingest.store_batch(batch=again)
        whole.append(time.perf_counter() - t0)
    if server:
        server.stop()

    def per_event(values: list[float]) -> float:
        return statistics.median(values) / args.events * 1e6

    print(
        f"database: {'PostgreSQL' if args.postgres else 'SQLite'}; {args.rounds} rounds of {args.events} events "
        f"({stored} stored, {bots} bot events dropped)"
    )
    print(f"(a) insert only, no enrichment:          {per_event(baseline):8.1f} µs/event")
    print(f"(b) insert with enrichment:              {per_event(full):8.1f} µs/event")
    print(f"    of which enrich() (lookups, parsing): {per_event(enrich_only):8.1f} µs/event")
    print(f"(c) whole store_batch (with rollups):    {per_event(whole):8.1f} µs/event")
    print(f"ratio (b)/(a): {statistics.median(full) / statistics.median(baseline):.2f}×")


if __name__ == "__main__":
    main()
