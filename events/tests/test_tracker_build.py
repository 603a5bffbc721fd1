"""The tracker pages load: the minified copy of tracker.src.js, within 2 KB gzipped."""

from __future__ import annotations

import pytest

from events.management.commands.build_tracker import MAX_GZIPPED_BYTES, SOURCE, TARGET, gzipped_size, minified_tracker


def test_the_shipped_tracker_is_exactly_the_minified_source():
    # Fails when tracker.src.js was edited without running `manage.py build_tracker`.
    assert TARGET.read_text(encoding="utf-8") == minified_tracker()


def test_the_shipped_tracker_is_at_most_2_kb_gzipped():
    shipped = TARGET.read_text(encoding="utf-8")
    size = gzipped_size(shipped)
    print(f"tracker.js: {len(shipped.encode())} bytes, {size} gzipped (source {SOURCE.stat().st_size} bytes)")
    assert size <= MAX_GZIPPED_BYTES


@pytest.mark.django_db
def test_the_collector_serves_the_tracker_as_javascript(client):
    response = client.get("/static/the_eye/tracker.js")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/javascript")
    assert b"".join(response.streaming_content).decode() == TARGET.read_text(encoding="utf-8")
