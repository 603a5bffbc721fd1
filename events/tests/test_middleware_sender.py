"""The middleware's background sender against a live collector: what it does with each answer."""

from __future__ import annotations

import logging
import uuid
from datetime import UTC, datetime

import pytest
from the_eye_client.sender import BackgroundSender, HttpTransport

from events.models import Event
from events.sites import create_site


def request_event(path: str, **extra) -> dict:
    return {
        "id": str(uuid.uuid4()),
        "category": "server",
        "name": "request",
        "timestamp": datetime.now(UTC).isoformat(),
        "session_id": "s" * 32,
        "data": {"host": "host.example.org", "path": path, "method": "GET", "status": 200},
        **extra,
    }


@pytest.fixture
def make_sender(transactional_db, live_server, queue):
    site = create_site(name="Host site", allow_custom_events=False)
    key = site.rotate_server_key()
    made: list[BackgroundSender] = []

    def make(**options) -> BackgroundSender:
        transport = HttpTransport(collector_url=live_server.url, server_key=key, timeout=5)
        options.setdefault("interval", 0.1)
        sender = BackgroundSender(transport=transport, **options)
        made.append(sender)
        return sender

    yield make
    for sender in made:
        sender.close(timeout=1)


def test_events_the_collector_refuses_are_dropped_and_the_rest_of_the_batch_is_delivered(
    make_sender, run_worker, caplog
):
    caplog.set_level(logging.ERROR, logger="the_eye_client.sender")
    sender = make_sender()
    sender.submit(request_event("/a"))
    sender.submit(request_event("no-slash"))
    sender.submit(request_event("/c"))
    assert sender.flush(timeout=10)
    run_worker()
    assert sorted(Event.objects.values_list("path", flat=True)) == ["/a", "/c"]
    assert "event 1: data.path must start with /" in caplog.text


def test_a_batch_over_the_collectors_size_limit_is_sent_in_smaller_batches(make_sender, run_worker, settings):
    settings.EVENTS_MAX_BODY_BYTES = 2500  # the live collector reads its settings per request
    sender = make_sender(batch_size=20)
    for n in range(20):
        sender.submit(request_event(f"/page/{n}"))
    assert sender.flush(timeout=10)
    run_worker()
    assert Event.objects.count() == 20
    assert sender.batch_size < 20


def test_a_full_buffer_drops_new_events_instead_of_growing(make_sender):
    sender = make_sender(capacity=3, interval=60)
    accepted = [sender.submit(request_event(f"/p/{n}")) for n in range(5)]
    assert accepted == [True, True, True, False, False]
    assert (sender.held, sender.dropped) == (3, 2)
