"""A forking worker's first job, cold vs warm: what loading enrichment before the fork saves.

RQ forks a work-horse per job. Without `events.enrichment.warm()` in the worker (manage.py
run_worker), every horse compiles ua-parser's patterns and opens the GeoIP database again before
it can enrich a single event. This bench forks like RQ does and times `enrichment.enrich()` of one
browser-like batch (real user agents and public addresses, as the tracker's requests carry) in
each child: first from a parent that never enriched (cold), then from a parent that called
`warm()` (warm). Prints medians of the children and the ratio, measured in the same run.
Usage: `python bench/worker_warmup.py [--children 15] [--events 50]`.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import time
from datetime import UTC, datetime

from common import fresh_sqlite, setup_django, start_queue_server
from enrichment import make_batch


def time_in_children(*, children: int, run) -> list[float]:
    """Fork `children` times; each child runs `run()` once and reports its seconds."""
    found = []
    for _ in range(children):
        read, write = os.pipe()
        pid = os.fork()
        if pid == 0:  # the work-horse
            os.close(read)
            began = time.perf_counter()
            run()
            os.write(write, repr(time.perf_counter() - began).encode())
            os._exit(0)
        os.close(write)
        with os.fdopen(read) as pipe:
            found.append(float(pipe.read()))
        os.waitpid(pid, 0)
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--children", type=int, default=15)
    parser.add_argument("--events", type=int, default=50, help="events per batch (the tracker sends up to 50)")
    args = parser.parse_args()
    redis_url, server = start_queue_server()
    setup_django(database_url=fresh_sqlite("bench_warmup"), redis_url=redis_url)
    from django.db import connection

    from events import enrichment, naming
    from events.sites import create_site

    site = create_site(name="bench", cookieless=False, allow_custom_events=True)
    batch = make_batch(site, random.Random(7), args.events)
    events = batch["events"]  # as the door hands them on: with the visitors' IP and user agent
    rules = naming.rules()  # the same database read in both cases, done once here
    connection.close()  # never share a database socket with a forked child

    def enrich() -> None:
        naming.rules = lambda: rules  # the horse would read them too: keep the DB out of the timing
        enrichment.enrich(events=events, site=site, sender={"source": "bench"}, received_at=datetime.now(UTC))

    cold = time_in_children(children=args.children, run=enrich)
    enrichment.warm()
    warm = time_in_children(children=args.children, run=enrich)
    if server is not None:
        server.stop()
    cold_ms, warm_ms = statistics.median(cold) * 1000, statistics.median(warm) * 1000
    print(f"first enrich() of a {args.events}-event batch in a fresh work-horse, median of {args.children}:")
    print(f"  cold parent (no warm-up):       {cold_ms:8.1f} ms")
    print(f"  warm parent (enrichment.warm()): {warm_ms:8.1f} ms")
    print(f"  warm / cold = {warm_ms / cold_ms:.2f}  ({cold_ms / warm_ms:.1f}x faster per job)")


if __name__ == "__main__":
    main()
