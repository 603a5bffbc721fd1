"""Dashboard speed: each page's numbers from rollups vs. GROUP BY over raw events, same run.

    python bench/dashboard.py                      # 10 M events on PostgreSQL (database bench_dashboard)
    python bench/dashboard.py --events 1000000     # a quicker run
    python bench/dashboard.py --reuse              # keep the loaded data of the previous run
    python bench/dashboard.py --reuse --rebuild    # keep its events, rebuild the rollups
    python bench/dashboard.py --load-only          # load events (no rollups, no queries)

Loading uses the documented bulk path: rows are made by the real enrichment (`events.enrichment
.enrich`), inserted with the ingest module's COPY (`events.ingest.insert_rows`), and the rollups
are then built by `rollups.update.rebuild` — the same rows and rollups the one-batch-at-a-time
path produces (sessions and visitors tables aside, which no benchmarked page reads). Then every
page's queries run several times from rollups and from raw events over the last 30 days; the
script prints p50 of both and the ratio, and checks that both give the same numbers. Last, it
times every dashboard page whole (queries, figures, HTML) as a signed-in admin gets it.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
PG = "postgres://postgres@127.0.0.1:5432/"

COURSES = [
    "BASH",
    "Python",
    "LibreOffice-Calc",
    "Scilab",
    "Java",
    "GIMP",
    "Linux",
    "C-and-Cpp",
    "PHP-and-MySQL",
    "Blender",
]
LANGUAGES = ["English", "Hindi", "Marathi", "Tamil", "Bengali", "Telugu", "Gujarati", "Kannada"]
TUTORIALS = ["Introduction", "Basic-commands", "Variables", "Loops", "Functions", "Files", "Arrays", "Strings"]
PAGES = ["/", "/tutorial-search/", "/news/", "/about-us/", "/contact/", "/statistics/", "/accounts/login/"]
AGENTS = [
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Linux; Android 14; SM-A146B) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36",
    "Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15",
]


def fresh_database(name: str) -> str:
    import psycopg

    with psycopg.connect(PG.replace("postgres://", "postgresql://") + "postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    return PG + name


def progress(done: int, total: int, started: float, what: str) -> None:
    share = done / max(1, total)
    rate = done / max(1e-6, time.monotonic() - started)
    print(
        f"\r  {what}: [{'#' * int(30 * share):<30}] {share:4.0%} {done:,}/{total:,} ({rate:,.0f}/s)", end="", flush=True
    )


def load(*, site, total: int, days: int, seed: int) -> None:
    from django.db import transaction

    from events import enrichment, ingest
    from events.validation import validate_batch
    from the_eye.demo import IPS, REFERRERS  # the same mix of sources and places

    rng = random.Random(seed)
    now = datetime.now(UTC).replace(microsecond=0)
    visitors = max(10, total // 12)
    made, started, number = 0, time.monotonic(), 0
    while made < total:
        events: list[dict] = []
        while len(events) < 980 and made + len(events) < total:
            number += 1
            visitor = rng.randint(1, visitors)
            habits = random.Random(visitor)
            session = f"bench-{seed}-{number}"
            moment = now - timedelta(seconds=rng.randint(600, days * 86400))
            referrer = rng.choice(REFERRERS)
            first = len(events)
            for step in range(rng.choice([1, 1, 2, 3, 4, 5, 6, 8])):
                if moment > now:
                    break
                if rng.random() < 0.6:
                    path = f"/watch/{rng.choice(COURSES)}/{rng.choice(TUTORIALS)}/{habits.choice(LANGUAGES)}/"
                else:
                    path = rng.choice(PAGES)
                events.append(
                    {
                        "id": str(uuid.UUID(int=rng.getrandbits(128))),
                        "session_id": session,
                        "visitor_id": f"v{visitor}",
                        "category": "page_interaction",
                        "name": "page_view",
                        "data": {"host": "spoken-tutorial.org", "path": path},
                        "timestamp": moment.isoformat(),
                        "referrer": referrer if step == 0 else "https://spoken-tutorial.org/",
                    }
                )
                if rng.random() < 0.5:
                    events.append(
                        {
                            "id": str(uuid.UUID(int=rng.getrandbits(128))),
                            "session_id": session,
                            "visitor_id": f"v{visitor}",
                            "category": "page_interaction",
                            "name": "engagement",
                            "data": {
                                "host": "spoken-tutorial.org",
                                "path": path,
                                "engaged_seconds": rng.randint(2, 300),
                            },
                            "timestamp": moment.isoformat(),
                        }
                    )
                moment += timedelta(seconds=rng.randint(10, 400))
            ip, agent = habits.choice(IPS), habits.choice(AGENTS)
            for event in events[first:]:
                event.update(ip=ip, user_agent=agent)
        clean = validate_batch(events, allow_custom=True)
        rows, _ = enrichment.enrich(events=clean, site=site, sender={"source": "bench"}, received_at=now)
        with transaction.atomic():
            ingest.insert_rows(rows)
        made += len(events)
        progress(made, total, started, "events (COPY)")
    print()


def build_rollups(site) -> None:
    from rollups.update import rebuild

    started = time.monotonic()
    read = rebuild(site_id=site.pk)
    print(f"  rollups rebuilt from {read:,} events in {time.monotonic() - started:.0f} s")


def pages_queries(scope):
    from dashboard import queries

    return {
        "overview": lambda s: (queries.totals(scope=s), queries.trend(scope=s)),
        "pages": lambda s: (
            queries.counts_by(scope=s, dimension="page", limit=20, with_visitors=True),
            queries.counts_by(scope=s, dimension="event_name"),
            queries.visits_by(scope=s, dimension="entry"),
            queries.visits_by(scope=s, dimension="exit"),
        ),
        "sources": lambda s: tuple(
            queries.visits_by(scope=s, dimension=d) for d in ("referrer", "channel", "utm_campaign")
        ),
        "audience": lambda s: tuple(
            queries.visits_by(scope=s, dimension=d)
            for d in ("browser", "os", "device", "device_type", "screen", "language")
        ),
        "geography": lambda s: tuple(queries.visits_by(scope=s, dimension=d) for d in ("country", "region", "city")),
        "courses": lambda s: (
            queries.counts_by(scope=s, dimension="course", with_visitors=True),
            queries.counts_by(scope=s, dimension="course_language", limit=30),
        ),
    }


def p50(run, repeat: int) -> tuple[float, object]:
    times, result = [], None
    for _ in range(repeat):
        started = time.perf_counter()
        result = run()
        times.append(time.perf_counter() - started)
    return statistics.median(times), result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=10_000_000)
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--database", default="bench_dashboard")
    parser.add_argument("--reuse", action="store_true", help="keep the data loaded by the previous run")
    parser.add_argument("--rebuild", action="store_true", help="with --reuse: rebuild the rollups first")
    parser.add_argument("--load-only", action="store_true", help="load the events and stop")
    parser.add_argument("--repeat", type=int, default=7, help="runs per page from rollups")
    parser.add_argument("--raw-repeat", type=int, default=3, help="runs per page by GROUP BY over raw events")
    args = parser.parse_args()
    url = PG + args.database if args.reuse else fresh_database(args.database)
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "the_eye.settings")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.http import QueryDict

    from dashboard.scope import parse_scope
    from events.models import Event, Site
    from events.sites import create_site

    call_command("migrate", verbosity=0)
    site = Site.objects.filter(name="bench").first() or create_site(name="bench", default=True)
    if not args.reuse:
        print(f"loading {args.events:,} events over {args.days} days into {args.database} …")
        load(site=site, total=args.events, days=args.days, seed=1)
        if args.load_only:
            return
    if not args.reuse or args.rebuild:
        build_rollups(site)
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")
    print(
        f"events: {Event.objects.filter(site=site).count():,}; range: last 30 days; PostgreSQL {connection.pg_version}"
    )
    scope = parse_scope(params=QueryDict(f"site={site.site_id}&period=30d"))
    print(f"{'page':<10} {'rollups p50':>12} {'raw p50':>10} {'ratio':>8}  same numbers")
    for name, run in pages_queries(scope).items():
        fast, a = p50(lambda run=run: run(scope.with_source("rollups")), args.repeat)
        slow, b = p50(lambda run=run: run(scope.with_source("raw")), args.raw_repeat)
        print(
            f"{name:<10} {fast * 1000:>9.1f} ms {slow * 1000:>7.0f} ms {slow / fast:>7.1f}×  {'yes' if a == b else 'NO'}",
            flush=True,
        )
    time_pages(site=site, repeat=args.repeat)


def time_pages(*, site, repeat: int) -> None:
    """p50 of every dashboard page as an admin gets it: queries, figures and HTML together."""
    from django.contrib.auth import get_user_model
    from django.test import Client

    from dashboard.pages import PAGES

    admin, _ = get_user_model().objects.get_or_create(
        username="bench-admin", defaults={"is_staff": True, "is_superuser": True}
    )
    client = Client()
    client.force_login(admin)
    print(f"{'whole page':<12} {'p50':>9} {'max':>9} {'bytes':>9}")
    for name in PAGES:
        url = f"/dashboard/{name}/?site={site.site_id}&period=30d"
        times = []
        for _ in range(repeat):
            started = time.perf_counter()
            response = client.get(url)
            times.append(time.perf_counter() - started)
            if response.status_code != 200:
                raise SystemExit(f"{url} answered {response.status_code}")
        print(
            f"{name:<12} {statistics.median(times) * 1000:>6.1f} ms {max(times) * 1000:>6.1f} ms "
            f"{len(response.content):>9,}",
            flush=True,
        )


if __name__ == "__main__":
    main()
