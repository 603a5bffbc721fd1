"""Cost of one watch-page heartbeat, against the seed's design measured in the same run.

(a) baseline, the seed's design: one UPDATE of the learner's row with the playhead;
(b) `progress.tracking.record_heartbeat` without its event: lock the row, merge the segments into
    the watched-seconds intervals, update position and completion;
(c) the same with its `video/heartbeat` event queued through `events.ingest.accept()`;
(d) the whole `POST /api/progress/heartbeat/` through Django's test client (session, CSRF check
    off, DRF validation, (c)).
Each heartbeat reports the next 20 seconds of a 2-hour video with a gap every fifth time, so the
interval list grows as a rewatching learner's would. Prints medians per heartbeat in µs and the
ratio to (a). Usage: `python bench/progress_heartbeat.py [--postgres] [--heartbeats 300]`.
"""

from __future__ import annotations

import argparse
import json
import time
import uuid
from datetime import UTC, datetime, timedelta

from common import fresh_postgres, fresh_sqlite, median, setup_django, start_queue_server


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--postgres", action="store_true")
    parser.add_argument("--heartbeats", type=int, default=300)
    args = parser.parse_args()
    database = fresh_postgres("bench_progress") if args.postgres else fresh_sqlite("bench_progress")
    redis_url, server = start_queue_server()
    setup_django(database_url=database, redis_url=redis_url)
    from django.contrib.auth import get_user_model
    from django.test import Client

    from events.ingest import Sender
    from events.sites import create_site
    from progress import tracking, video_events
    from progress.models import Course, Progress, Tutorial, Video

    create_site(name="bench", default=True)
    course = Course.objects.create(name="BASH", slug="BASH")
    duration = 2 * 3600
    videos = [
        Video.objects.create(
            tutorial=Tutorial.objects.create(course=course, title=f"T{i}", slug=f"t{i}", order=i),
            language="English",
            duration_seconds=duration,
            source="/static/progress/videos/bash.webm",
        )
        for i in range(4)
    ]
    users = [get_user_model().objects.create_user(f"learner{i}", password="bench-pass-123") for i in range(4)]
    context = video_events.Context(
        sender=Sender(ip="49.36.0.1", source="bench"), session_id="bench", url="http://localhost/watch/"
    )
    start = datetime.now(UTC) - timedelta(days=1)

    def segments(n: int) -> list[list[float]]:
        begin = (n * 20 + (n // 5) * 3) % (duration - 30)
        return [[begin, begin + 20.0]]

    seed_row = Progress.objects.create(learner=users[0], tutorial=videos[0].tutorial, language="English")
    timings: dict[str, list[float]] = {"a": [], "b": [], "c": [], "d": []}
    client = Client()
    client.force_login(users[3])
    for n in range(args.heartbeats):
        t0 = time.perf_counter()
        Progress.objects.filter(pk=seed_row.pk).update(last_position=segments(n)[0][1])
        timings["a"].append(time.perf_counter() - t0)

        for key, user, video, with_event in (("b", users[1], videos[1], False), ("c", users[2], videos[2], True)):
            heartbeat = tracking.Heartbeat(
                id=uuid.uuid4(), position=segments(n)[0][1], at=start + timedelta(seconds=20 * n), segments=segments(n)
            )
            t0 = time.perf_counter()
            tracking.record_heartbeat(
                learner=user, video=video, heartbeat=heartbeat, context=context if with_event else None
            )
            timings[key].append(time.perf_counter() - t0)

        body = json.dumps(
            {
                "id": str(uuid.uuid4()),
                "tutorial": videos[3].tutorial_id,
                "language": "English",
                "position": segments(n)[0][1],
                "segments": segments(n),
                "at": (start + timedelta(seconds=20 * n)).isoformat(),
            }
        )
        t0 = time.perf_counter()
        response = client.post("/api/progress/heartbeat/", data=body, content_type="application/json")
        timings["d"].append(time.perf_counter() - t0)
        assert response.status_code == 200, response.content

    intervals = len(Progress.objects.get(learner=users[3]).watched)
    base = median(timings["a"])
    print(
        f"database: {'PostgreSQL' if args.postgres else 'SQLite'}; {args.heartbeats} heartbeats; "
        f"{intervals} watched intervals at the end"
    )
    labels = {
        "a": "(a) seed: one UPDATE of the playhead",
        "b": "(b) record_heartbeat, no event",
        "c": "(c) record_heartbeat + queued event",
        "d": "(d) POST /api/progress/heartbeat/",
    }
    for key, label in labels.items():
        value = median(timings[key])
        print(f"{label:42s} {value * 1e6:9.0f} µs   ×{value / base:5.1f}")
    if server is not None:
        server.stop()


if __name__ == "__main__":
    main()
