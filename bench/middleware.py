"""Added latency of `the_eye_client.middleware.TheEyeMiddleware` per host request, measured in one run.

The same host views (events/tests/host_site.py: a tutorial page with view kwargs and a query,
and every fourth request a sign-up form POST with passwords) are served through Django's test
client by three stacks, interleaved request by request so drift on a noisy machine hits all alike:

(a) The Eye's usual middleware stack without ours (the baseline);
(b) the same plus TheEyeMiddleware, sending to a real collector — The Eye under gunicorn in
    another process, with a queue server — as a host site would;
(c) the same plus TheEyeMiddleware while the collector is down (a closed port): the sender keeps
    retrying in the background;
(a') a second copy of (a): its distance from (a) is the machine's noise floor.

It prints p50 and p99 per request for each, the difference from (a) and the ratio, and checks
that every request of (b) reached the collector and was stored by a worker.
Goals: added p50 < 1 ms and p99 < 5 ms. Usage: `python bench/middleware.py [--requests 5000]`.
"""

from __future__ import annotations

import argparse
import sys
import time

from common import free_port, fresh_sqlite, percentile, setup_django, spawn, start_queue_server, start_web

DESKTOP_UA = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"
MIDDLEWARE = "the_eye_client.middleware.TheEyeMiddleware"


def make_client(*, collector: str | None, key: str):
    """A test client whose handler has loaded the middleware stack for `collector` (None: without ours)."""
    from django.conf import settings
    from django.test import Client
    from django.test.utils import override_settings

    middleware = list(settings.MIDDLEWARE) + ([MIDDLEWARE] if collector else [])
    client = Client(HTTP_USER_AGENT=DESKTOP_UA, REMOTE_ADDR="49.36.0.1")
    with override_settings(MIDDLEWARE=middleware, THE_EYE_COLLECTOR_URL=collector or "", THE_EYE_SERVER_KEY=key):
        client.get("/watch/BASH/Warm-up/English/")  # loads the stack (and starts the sender) now
    return client


def one_request(client, n: int) -> float:
    started = time.perf_counter()
    if n % 4 == 3:
        response = client.post(
            "/accounts/signup/",
            {
                "username": f"learner{n}",
                "password1": "hunter2-secret",
                "password2": "hunter2-secret",
                "csrfmiddlewaretoken": "x" * 64,
                "course": "bash",
            },
            HTTP_REFERER="https://spoken-tutorial.org/accounts/signup/",
        )
    else:
        response = client.get(
            f"/watch/BASH/Part-{n % 50}/English/?autoplay=1",
            HTTP_REFERER="https://www.google.com/search?q=bash+tutorial",
        )
    elapsed = (time.perf_counter() - started) * 1000
    assert response.status_code in (200, 201), response.status_code
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=5000, help="requests per stack")
    args = parser.parse_args()

    database = fresh_sqlite("bench_middleware")
    redis_url, queue_server = start_queue_server()
    setup_django(database_url=database, redis_url=redis_url)
    from django.conf import settings
    from the_eye_client import sender as sender_module
    from the_eye_client.middleware import config_from_settings
    from the_eye_client.sender import get_sender

    from events.models import Event
    from events.sites import create_site

    settings.ROOT_URLCONF = "events.tests.host_site"
    settings.THE_EYE_EXIT_FLUSH_SECONDS = 1
    site = create_site(name="bench host", allow_custom_events=False)
    key = site.rotate_server_key()
    port = free_port()
    collector = start_web(port=port, threads=4)
    up_url, down_url = f"http://127.0.0.1:{port}", f"http://127.0.0.1:{free_port()}"
    try:
        clients = {
            "without": make_client(collector=None, key=key),
            # A second baseline: how far two identical stacks differ on this machine (noise floor).
            "without, again": make_client(collector=None, key=key),
            "with, collector up": make_client(collector=up_url, key=key),
            "with, collector down": make_client(collector=down_url, key=key),
        }
        times: dict[str, list[float]] = {name: [] for name in clients}
        names = list(clients)
        for n in range(args.requests):
            order = names if n % 2 else names[::-1]
            for name in order:
                times[name].append(one_request(clients[name], n))

        base50, base99 = percentile(times["without"], 50), percentile(times["without"], 99)
        print(f"{args.requests} requests per stack through Django's test client (ms per request)")
        print(f"{'stack':24} {'p50':>8} {'p99':>8} {'added p50':>10} {'added p99':>10} {'ratio p50':>10}")
        for name, values in times.items():
            p50, p99 = percentile(values, 50), percentile(values, 99)
            print(f"{name:24} {p50:8.3f} {p99:8.3f} {p50 - base50:10.3f} {p99 - base99:10.3f} {p50 / base50:9.2f}x")
        print("paired differences (same request number, stack minus without):")
        for name in names[1:]:
            diffs = [w - b for w, b in zip(times[name], times["without"], strict=True)]
            print(f"  {name:22} p50 {percentile(diffs, 50):7.3f} ms   p99 {percentile(diffs, 99):7.3f} ms")
        print("goals: added p50 < 1 ms, added p99 < 5 ms")

        with_settings = dict(THE_EYE_COLLECTOR_URL=up_url, THE_EYE_SERVER_KEY=key)
        from django.test.utils import override_settings

        with override_settings(**with_settings):
            sender = get_sender(config=config_from_settings())
        delivered = sender.flush(timeout=60)
        worker = spawn([sys.executable, "manage.py", "rqworker", "events", "--burst"])
        worker.wait(timeout=600)
        expected = args.requests + 1  # and the warm-up request
        import django_rq

        queue = django_rq.get_queue("events")
        if queue.failed_job_registry.count or queue.scheduled_job_registry.count:
            job = queue.fetch_job(
                (queue.failed_job_registry.get_job_ids() or queue.scheduled_job_registry.get_job_ids())[0]
            )
            print(
                f"jobs failed: {queue.failed_job_registry.count}, waiting to retry: "
                f"{queue.scheduled_job_registry.count}; first error: {(job.exc_info or '').strip().splitlines()[-1:]}"
            )
        stored = Event.objects.filter(site=site).count()
        print(
            f"delivered to the collector: {'all' if delivered else 'NOT all'}; stored by the worker: "
            f"{stored} of {expected} recorded requests; dropped by the sender: {sender.dropped}"
        )
    finally:
        sender_module.close_all(timeout=0)
        collector.terminate()
        collector.wait(timeout=30)
        if queue_server is not None:
            queue_server.stop()


if __name__ == "__main__":
    main()
