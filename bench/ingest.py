"""Ingest throughput: the seeds' design against ours, measured in one run.

(a) The seeds' design: one RQ job and one INSERT per event (the seed answered before validating and
    queued one job per event; each job saved one row).
(b) Ours: HTTP batches of 100 through the real API (gunicorn) and a real RQ worker, until every
    event is stored.
(c) Our store step alone (`events.ingest.insert_rows`, 1,000-row chunks) against a raw psycopg
    `COPY` of the same rows into the same table in one transaction (PostgreSQL only).

Both (a) and (b) use the same worker class (RQ's forking Worker, one process) and the same queue
server. Usage: `python bench/ingest.py [--sqlite] [--seed-events 1000] [--events 20000]`.
PostgreSQL (the production database) is the default: a fresh database `bench_ingest` is made.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import urllib.request
import uuid
from datetime import UTC, datetime, timedelta

from common import (
    free_port,
    fresh_postgres,
    fresh_sqlite,
    setup_django,
    spawn,
    start_queue_server,
    start_web,
    wait_until,
)

CHROME = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"
)


def make_events(n: int, *, start: datetime) -> list[dict]:
    paths = ["/", "/tutorial-search/", "/watch/BASH/Introduction/English/", "/watch/Python/Loops/Hindi/"]
    return [
        {
            "id": str(uuid.uuid4()),
            "session_id": f"s{i // 8}",
            "category": "page_interaction",
            "name": "page_view",
            "data": {"host": "spoken-tutorial.org", "path": paths[i % len(paths)]},
            "timestamp": (start + timedelta(seconds=i)).isoformat(),
            "url": f"https://spoken-tutorial.org{paths[i % len(paths)]}",
        }
        for i in range(n)
    ]


def run_worker_until(count_stored, expected: int, *, timeout: float) -> None:
    import django_rq

    failed = django_rq.get_queue("events").failed_job_registry
    worker = spawn([sys.executable, "manage.py", "rqworker", "events", "--burst"])

    def done() -> bool:
        if failed.count:
            raise RuntimeError(f"{failed.count} job(s) failed; see `manage.py rqinfo` / the failed registry")
        return count_stored() >= expected

    try:
        wait_until(done, timeout=timeout)
    finally:
        worker.wait(timeout=60)


def bench_seed_design(site, n: int) -> float:
    """One job per event, each job one INSERT."""
    import django_rq
    from bench_jobs import insert_one

    from events.models import Event

    queue = django_rq.get_queue("events")
    events = make_events(n, start=datetime.now(UTC) - timedelta(days=1))
    started = time.perf_counter()
    for event in events:
        queue.enqueue(insert_one, site.pk, event)
    run_worker_until(lambda: Event.objects.filter(source="seed").count(), n, timeout=1800)
    return n / (time.perf_counter() - started)


def bench_our_design(site, n: int, *, batch: int = 100) -> tuple[float, float]:
    """HTTP batches through gunicorn, then a worker until stored. Returns (events/s, accept events/s)."""
    from events.models import Event

    port = free_port()
    web = start_web(port=port, threads=1)
    url = f"http://127.0.0.1:{port}/api/events/"

    try:
        events = make_events(n, start=datetime.now(UTC) - timedelta(hours=20))
        bodies = [json.dumps(events[i : i + batch]).encode() for i in range(0, n, batch)]
        before = Event.objects.count()
        started = time.perf_counter()
        for body in bodies:
            request = urllib.request.Request(
                url, data=body, headers={"Content-Type": "application/json", "X-Site-Id": site.site_id}
            )
            with urllib.request.urlopen(request) as response:
                assert response.status == 202, response.status
        accepted = time.perf_counter() - started
        run_worker_until(lambda: Event.objects.count() - before, n, timeout=1800)
        return n / (time.perf_counter() - started), n / accepted
    finally:
        web.terminate()
        web.wait(timeout=30)


def bench_store_vs_copy(site, n: int) -> tuple[float, float, float]:
    """Rows/s of insert_rows against raw COPYs of the same rows.

    Returns (ours, raw COPY into the events table itself, raw COPY into a copy of it without the
    foreign key). The first raw figure is the goal's baseline: the same table, indexes and
    constraints, in one transaction, with no look-up, no idempotency and no chunking.
    """
    from django.db import connection, transaction

    from events import enrichment, ingest
    from events.models import Event

    events = make_events(n, start=datetime.now(UTC) - timedelta(days=2))
    rows, _ = enrichment.enrich(
        events=events,
        site=site,
        sender={"ip": "49.36.0.1", "user_agent": CHROME, "source": "bench"},
        received_at=datetime.now(UTC),
    )
    assert len(rows) == n, f"enrichment kept {len(rows)} of {n} rows"
    table = Event._meta.db_table
    fields = Event._meta.concrete_fields
    columns = ", ".join(f'"{f.column}"' for f in fields)
    values = [
        [json.dumps(r["data"]) if f.attname == "data" else r.get(f.attname, f.get_default()) for f in fields]
        for r in rows
    ]

    def raw_copy(into: str) -> float:
        started = time.perf_counter()
        with transaction.atomic(), connection.cursor() as cursor:
            with cursor.cursor.copy(f'COPY "{into}" ({columns}) FROM STDIN') as copy:
                for row in values:
                    copy.write_row(row)
        elapsed = time.perf_counter() - started
        with connection.cursor() as cursor:
            cursor.execute(f'SELECT count(*) FROM "{into}" WHERE source = %s', ["bench"])
            assert cursor.fetchone()[0] == n
        return n / elapsed

    Event.objects.filter(source="bench").delete()
    started = time.perf_counter()
    for i in range(0, n, 1000):  # one transaction per chunk, as a job of 1,000 events does
        with transaction.atomic():
            ingest.insert_rows(rows[i : i + 1000])
    ours = n / (time.perf_counter() - started)
    assert Event.objects.filter(source="bench").count() == n

    Event.objects.filter(source="bench").delete()
    raw_same_table = raw_copy(table)
    with connection.cursor() as cursor:
        cursor.execute('DROP TABLE IF EXISTS "bench_copy"')
        cursor.execute(f'CREATE TABLE "bench_copy" (LIKE "{table}" INCLUDING ALL)')  # LIKE drops the FK
    raw_no_fk = raw_copy("bench_copy")
    return ours, raw_same_table, raw_no_fk


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sqlite", action="store_true", help="use SQLite instead of PostgreSQL")
    parser.add_argument("--seed-events", type=int, default=1000, help="events for (a), the slow design")
    parser.add_argument("--events", type=int, default=20000, help="events for (b)")
    parser.add_argument("--copy-rows", type=int, default=50000, help="rows for (c)")
    args = parser.parse_args()

    database = fresh_sqlite("bench_ingest") if args.sqlite else fresh_postgres("bench_ingest")
    redis_url, server = start_queue_server()
    setup_django(database_url=database, redis_url=redis_url)
    from events.sites import create_site

    site = create_site(name="bench", default=True, allow_custom_events=False)
    print(f"database: {'SQLite' if args.sqlite else 'PostgreSQL'}   queue: {redis_url}")
    try:
        seed = bench_seed_design(site, args.seed_events)
        print(f"(a) seed design, 1 job + 1 INSERT per event: {seed:10.0f} events/s  ({args.seed_events} events)")
        ours, accept = bench_our_design(site, args.events)
        print(
            f"(b) ours, HTTP batches of 100 + worker:      {ours:10.0f} events/s  ({args.events} events; "
            f"the API alone accepted {accept:.0f} events/s)"
        )
        print(f"    ratio (b)/(a): {ours / seed:.1f}x   (goal ≥ 20x)")
        if not args.sqlite:
            store, raw, raw_no_fk = bench_store_vs_copy(site, args.copy_rows)
            print(f"(c) store step (insert_rows, 1000-row chunks, a transaction each): {store:8.0f} rows/s")
            print(f"    raw psycopg COPY into the events table, one transaction:       {raw:8.0f} rows/s")
            print(f"    (raw COPY into a copy of the table without its foreign key:    {raw_no_fk:8.0f} rows/s)")
            print(f"    store step / raw COPY: {store / raw:.0%}   (goal ≥ 50%)")
    finally:
        if server is not None:
            server.stop()


if __name__ == "__main__":
    main()
