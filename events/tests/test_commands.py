"""Management commands: `create_site` and `requeue_failed_events`, run as an operator would."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from events import ingest, jobs
from events.models import Event, Site
from events.sites import create_site
from events.tests.test_validation import page_view
from events.validation import validate_batch


def run(*args, **options) -> str:
    out = StringIO()
    call_command(*args, stdout=out, **options)
    return out.getvalue()


@pytest.mark.django_db
def test_create_site_prints_the_public_id_and_a_server_key_that_works(client, queue, run_worker):
    output = run(
        "create_site",
        "Spoken Tutorial",
        "--origin",
        "https://spoken-tutorial.org/",
        "--origin",
        "http://localhost:8000",
    )
    site_id = re.search(r"site id:\s+(\S+)", output).group(1)
    key = re.search(r"server key:\s+(\S+)", output).group(1)
    site = Site.objects.get(site_id=site_id)
    assert site.name == "Spoken Tutorial"
    assert site.allowed_origins == ["https://spoken-tutorial.org", "http://localhost:8000"]
    assert key not in json.dumps(list(Site.objects.values()), default=str)  # only its hash is kept

    response = client.post(
        "/api/events/",
        data=json.dumps(page_view()),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {key}",
    )
    assert response.status_code == 202
    run_worker()
    assert Event.objects.get().site == site


@pytest.mark.django_db
def test_create_site_default_flag_moves_the_default_and_a_bad_origin_is_refused(site):
    output = run("create_site", "New default", "--default")
    assert Site.objects.default().site_id == re.search(r"site id:\s+(\S+)", output).group(1)
    site.refresh_from_db()
    assert site.is_default is False
    with pytest.raises(CommandError, match="--origin 'spoken-tutorial.org'"):
        run("create_site", "Broken", "--origin", "spoken-tutorial.org")
    assert not Site.objects.filter(name="Broken").exists()


@pytest.mark.django_db
def test_create_site_makes_a_cookieless_site_unless_asked_for_cookies_and_can_require_consent():
    def created(*options: str) -> Site:
        output = run("create_site", "Learn", *options)
        found = re.search(r"site id:\s+(\S+)", output)
        assert found, output
        return Site.objects.get(site_id=found.group(1))

    plain = created()
    assert plain.cookieless is True and plain.require_consent is False
    assert "data-cookieless" in plain.tracker_tag(collector="https://eye.example.org")
    with_cookies = created("--cookies", "--require-consent")
    assert with_cookies.cookieless is False and with_cookies.require_consent is True
    tag = with_cookies.tracker_tag(collector="https://eye.example.org")
    assert "data-cookieless" not in tag and "data-require-consent" in tag


@pytest.mark.django_db
def test_requeue_failed_events_puts_failed_batches_back_and_the_worker_stores_them(site, queue, run_worker, settings):
    settings.EVENTS_JOB_RETRY_INTERVALS = []
    missing_pk = site.pk + 1000
    batch = {
        "site": missing_pk,
        "received_at": datetime.now(UTC).isoformat(),
        "sender": ingest.Sender().as_dict(),
        "events": validate_batch([page_view(), page_view()], allow_custom=False),
    }
    jobs.enqueue_store(batch=batch)
    run_worker()  # the batch's site does not exist yet: the job fails and is kept
    assert queue.failed_job_registry.count == 1 and Event.objects.count() == 0

    create_site(pk=missing_pk, name="Restored site")
    assert "requeued 1 failed job(s)" in run("requeue_failed_events")
    assert queue.failed_job_registry.count == 0 and queue.count == 1
    run_worker()
    assert Event.objects.filter(site_id=missing_pk).count() == 2
    assert "requeued 0 failed job(s)" in run("requeue_failed_events")
