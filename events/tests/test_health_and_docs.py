"""`/health/`, the API description at `/api/schema/` and `/api/docs/`, and the queue dashboard."""

from __future__ import annotations

import json
import re
import tempfile
from datetime import UTC, datetime
from pathlib import Path

import pytest
from django.db import connection

from events import ingest, jobs
from events.tests.test_validation import page_view
from events.validation import validate_batch
from the_eye.lib import embedded_redis


@pytest.mark.django_db
def test_health_tells_anonymous_callers_only_up_or_down(client, site, queue):
    ingest.accept(site=site, payload=[page_view()], sender=ingest.Sender())
    response = client.get("/health/")
    assert response.status_code == 200
    assert response.json() == {"status": "up"}


@pytest.mark.django_db
def test_health_reports_the_database_and_the_queue_with_its_depth_and_failed_jobs_to_staff(
    client, site, queue, settings, staff_user
):
    client.force_login(staff_user)
    settings.EVENTS_JOB_RETRY_INTERVALS = []
    ingest.accept(site=site, payload=[page_view()], sender=ingest.Sender())
    ingest.accept(site=site, payload=[page_view()], sender=ingest.Sender())
    response = client.get("/health/")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "up"
    assert body["database"] == {"ok": True, "vendor": connection.vendor}
    assert body["queue"]["ok"] is True
    assert (body["queue"]["depth"], body["queue"]["failed_jobs"]) == (2, 0)
    assert response["Cache-Control"].startswith("max-age=0")


def unstorable_batch(site):
    """A batch for a site that does not exist: the worker cannot store it, however often it tries."""
    return {
        "site": site.pk + 1000,
        "received_at": datetime.now(UTC).isoformat(),
        "sender": ingest.Sender().as_dict(),
        "events": validate_batch([page_view()], allow_custom=False),
    }


@pytest.mark.django_db
def test_health_counts_a_job_that_failed(client, site, queue, run_worker, settings, staff_user):
    client.force_login(staff_user)
    settings.EVENTS_JOB_RETRY_INTERVALS = []
    jobs.enqueue_store(batch=unstorable_batch(site))
    run_worker()
    body = client.get("/health/").json()
    assert (body["queue"]["depth"], body["queue"]["failed_jobs"]) == (0, 1)


@pytest.mark.django_db
def test_health_answers_503_when_redis_is_down(client, settings, staff_user):
    client.force_login(staff_user)
    server = embedded_redis.start(data_dir=Path(tempfile.mkdtemp(prefix="the-eye-health-")), persist=False)
    url = server.connection_url + "/0?socket_connect_timeout=1&socket_timeout=1"
    settings.RQ_QUEUES = {"events": {"URL": url}, "default": {"URL": url}}
    try:
        assert client.get("/health/").status_code == 200
    finally:
        server.stop()
    response = client.get("/health/")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "down"
    assert body["database"]["ok"] is True and body["queue"]["ok"] is False
    assert body["queue"]["error"]


# --- API description -------------------------------------------------------------------------


@pytest.fixture
def schema(client, db):
    response = client.get("/api/schema/", {"format": "json"})
    assert response.status_code == 200
    return json.loads(response.content)


def test_the_schema_is_openapi_3_and_covers_every_endpoint_with_its_bodies(schema):
    assert schema["openapi"].startswith("3.")
    paths = schema["paths"]
    expected = {
        ("/api/events/", "post"): {"202", "400", "401", "413", "415"},
        ("/api/events/", "get"): {"200", "400", "401", "403"},
        ("/api/events/{id}/", "get"): {"200", "401", "403", "404"},
        ("/api/logs/", "post"): {"200", "400", "413", "415"},
        ("/api/logs/", "get"): {"200", "400", "401", "403"},
    }
    for (path, method), statuses in expected.items():
        operation = paths[path][method]
        assert statuses <= set(operation["responses"]), (path, method)
        for status in statuses - {"200", "202"}:
            content = operation["responses"][status]["content"]["application/json"]
            assert "$ref" in content["schema"], (path, method, status)
    for path, method in [("/api/events/", "post"), ("/api/logs/", "post")]:
        assert "application/json" in paths[path][method]["requestBody"]["content"]


def test_collecting_bodies_are_json_only_and_hold_at_least_one_item_as_the_doors_demand(schema, client, site):
    paths = schema["paths"]
    for path in ("/api/events/", "/api/logs/"):
        body = paths[path]["post"]["requestBody"]["content"]
        assert list(body) == ["application/json"], path  # no form or multipart: those answer 415
        schema_of = body["application/json"]["schema"]
        array = next(s for s in schema_of.get("oneOf", [schema_of]) if s.get("type") == "array")
        assert (array["minItems"], array["maxItems"]) == (1, 1000)
        # `[]` is outside the schema, and the door refuses it.
        assert client.post(path, "[]", content_type="application/json").status_code == 400
        assert client.post(path, "a=1", content_type="application/x-www-form-urlencoded").status_code == 415
    for path, method in [
        ("/api/stats/", "get"),
        ("/api/progress/", "get"),
        ("/api/progress/{id}/", "get"),
        ("/api/progress/heartbeat/", "post"),
    ]:
        assert {"400", "403"} <= set(paths[path][method]["responses"]), path


@pytest.mark.django_db
def test_trace_and_other_undefined_methods_answer_405_on_every_api_path(client, schema):
    for path in schema["paths"]:
        url = path.replace("{id}", "00000000-0000-4000-8000-000000000001" if "events" in path else "1")
        response = client.generic("TRACE", url)
        assert response.status_code == 405, (path, response.status_code)
        assert "TRACE" not in response["Allow"]


def test_the_schema_describes_the_error_bodies_and_the_filters(schema):
    components = schema["components"]["schemas"]
    assert set(components["Error"]["properties"]) >= {"error", "detail", "errors"}
    assert set(components["LogsError"]["properties"]) >= {"success", "code", "field", "rule"}
    assert set(components["Log"]["properties"]) == {"userId", "sessionId", "actions"}
    filters = {p["name"] for p in schema["paths"]["/api/events/"]["get"]["parameters"]}
    assert filters >= {
        "session_id",
        "category",
        "name",
        "user",
        "path",
        "site",
        "start_time",
        "end_time",
        "page",
        "page_size",
    }
    logs_params = {p["name"] for p in schema["paths"]["/api/logs/"]["get"]["parameters"]}
    assert logs_params >= {"userId", "from", "to", "types"}
    # Sending needs no login; reading does.
    assert schema["paths"]["/api/events/"]["post"]["security"] == [{}]
    assert {"basicAuth": []} in schema["paths"]["/api/events/"]["get"]["security"]


@pytest.mark.django_db
def test_the_docs_page_loads_swagger_ui_from_our_own_static_files(client):
    response = client.get("/api/docs/")
    assert response.status_code == 200
    html = response.content.decode()
    assets = re.findall(r'(?:src|href)="([^"]+)"', html)
    # Content-hashed once collected (swagger-ui-bundle.<hash>.js), plain before.
    assert any(re.search(r"/swagger-ui-bundle(\.[0-9a-f]{12})?\.js$", a) for a in assets), assets
    assert all(a.startswith("/static/") for a in assets), assets
    assert not re.search(r"https?://", " ".join(assets))
    assert "cdn" not in html.lower() and "unpkg" not in html.lower()
    for asset in assets:
        served = client.get(asset)
        assert served.status_code == 200, asset
        served.close()


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_the_docs_page_renders_every_operation_in_a_browser(browser, live_server, artifacts):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions
    from selenium.webdriver.support.ui import WebDriverWait

    browser.get(live_server.url + "/api/docs/")
    WebDriverWait(browser, 20).until(
        expected_conditions.presence_of_element_located((By.CSS_SELECTOR, ".opblock-summary-path"))
    )
    shown = {
        (
            e.find_element(By.CSS_SELECTOR, ".opblock-summary-method").text,
            e.find_element(By.CSS_SELECTOR, ".opblock-summary-path").text,
        )
        for e in browser.find_elements(By.CSS_SELECTOR, ".opblock-summary")
    }
    assert {
        ("POST", "/api/events/"),
        ("GET", "/api/events/"),
        ("GET", "/api/events/{id}/"),
        ("POST", "/api/logs/"),
        ("GET", "/api/logs/"),
    } <= shown
    browser.save_screenshot(str(artifacts / "api-docs.png"))
    errors = [e for e in browser.get_log("browser") if e["level"] == "SEVERE"]
    assert errors == []


# --- Queue dashboard -------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_queue_dashboard_is_for_staff_only(client, staff_user, django_user_model, queue):
    anonymous = client.get("/django-rq/")
    assert anonymous.status_code == 302 and "/admin/login/" in anonymous["Location"]
    assert client.get("/django-rq/stats.json/").status_code == 401
    django_user_model.objects.create_user("learner", password="learner-pass-123")
    client.login(username="learner", password="learner-pass-123")
    assert client.get("/django-rq/").status_code == 302
    client.force_login(staff_user)
    page = client.get("/django-rq/")
    assert page.status_code == 200 and b"events" in page.content
    stats = client.get("/django-rq/stats.json/").json()
    assert "events" in {q["name"] for q in stats["queues"]}
