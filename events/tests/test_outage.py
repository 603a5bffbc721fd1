"""The collector keeps accepting while one of its two stores is down, and says 503 when both are."""

from __future__ import annotations

import json
import tempfile
from contextlib import contextmanager
from pathlib import Path

import pytest
from django.core.cache import cache
from django.db import OperationalError, connection

from events.models import Event
from events.tests.test_validation import page_view
from the_eye.lib import embedded_redis

URL = "/api/events/"


@contextmanager
def database_down():
    """Every query fails the way a stopped PostgreSQL fails (`bench/faults.py` stops a real one)."""

    def refuse(execute, sql, params, many, context):
        raise OperationalError("connection refused: the database is down")

    with connection.execute_wrapper(refuse):
        yield


def send(client, body, **headers):
    return client.post(URL, data=json.dumps(body), content_type="application/json", **headers)


@pytest.mark.django_db
def test_with_the_database_down_a_known_site_still_gets_202_and_the_batch_is_stored_once_it_is_back(
    client, site, queue, run_worker
):
    assert send(client, [page_view()], HTTP_X_SITE_ID=site.site_id).status_code == 202  # the site is now known
    with database_down():
        response = send(client, [page_view(), page_view()], HTTP_X_SITE_ID=site.site_id)
        default_site = send(client, [page_view()])  # names no site: the default, never looked up
    assert response.status_code == 202
    assert queue.count == 2
    run_worker()
    stored = set(map(str, Event.objects.values_list("id", flat=True)))
    assert set(response.json()["ids"]) <= stored
    assert default_site.status_code == 503  # never looked up while the database was up


@pytest.mark.django_db
def test_with_the_database_down_a_site_never_seen_gets_503_with_retry_after(client, site, queue):
    cache.clear()
    with database_down():
        response = send(client, [page_view()], HTTP_X_SITE_ID=site.site_id)
    assert response.status_code == 503
    assert response["Retry-After"] == "30"
    assert response.json()["error"] == "unavailable"
    assert queue.count == 0


@pytest.mark.django_db
def test_a_server_key_is_trusted_during_an_outage_only_if_the_database_confirmed_it(client, site, queue):
    key = site.rotate_server_key()
    assert send(client, [page_view()], HTTP_AUTHORIZATION=f"Bearer {key}").status_code == 202
    with database_down():
        known = send(client, [page_view()], HTTP_AUTHORIZATION=f"Bearer {key}")
        guessed = send(client, [page_view()], HTTP_AUTHORIZATION="Bearer tes_not-a-key")
    assert known.status_code == 202
    assert guessed.status_code == 503 and queue.count == 2


@pytest.mark.django_db
def test_with_the_database_and_redis_down_the_client_gets_503_with_retry_after(client, site, settings):
    server = embedded_redis.start(data_dir=Path(tempfile.mkdtemp()), persist=False)
    url = server.connection_url + "/0?socket_connect_timeout=1&socket_timeout=1"
    settings.RQ_QUEUES = {"events": {"URL": url}, "default": {"URL": url}}
    assert send(client, [page_view()], HTTP_X_SITE_ID=site.site_id).status_code == 202
    server.stop()
    with database_down():
        response = send(client, [page_view()], HTTP_X_SITE_ID=site.site_id)
    assert response.status_code == 503
    assert response["Retry-After"] == "30"
    assert Event.objects.count() == 0
