"""The collecting endpoint's CORS answers and per-site origin check, without a browser.

What a browser does with these headers is covered by test_tracker_browser.py; here each header
is read as the browser would read it.
"""

from __future__ import annotations

import json

import pytest

from events.models import Event
from events.sites import create_site
from events.tests.test_validation import page_view

URL = "/api/events/"
SPOKEN = "https://spoken-tutorial.org"
OTHER = "https://other.example"


@pytest.fixture
def spoken(db):
    return create_site(name="Spoken Tutorial", allowed_origins=[SPOKEN + "/"])


@pytest.fixture
def other(db):
    return create_site(name="Other", allowed_origins=[OTHER])


def preflight(client, origin, **headers):
    return client.options(
        URL,
        HTTP_ORIGIN=origin,
        HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST",
        HTTP_ACCESS_CONTROL_REQUEST_HEADERS="content-type",
        **headers,
    )


def beacon(client, site, origin=None, **headers):
    """What the tracker sends: a JSON array as text/plain (a simple request, no preflight)."""
    if origin:
        headers["HTTP_ORIGIN"] = origin
    body = json.dumps([page_view(site_id=site.site_id)])
    return client.post(URL, data=body, content_type="text/plain;charset=UTF-8", **headers)


def test_a_preflight_from_an_origin_a_site_lists_is_allowed_without_credentials(client, spoken):
    response = preflight(client, "https://Spoken-Tutorial.org")
    assert response.status_code == 200
    assert response["Access-Control-Allow-Origin"] == "https://Spoken-Tutorial.org"
    assert "POST" in response["Access-Control-Allow-Methods"]
    assert "content-type" in response["Access-Control-Allow-Headers"]
    assert "Access-Control-Allow-Credentials" not in response


def test_a_preflight_from_an_origin_no_site_lists_gets_no_cors_headers(client, spoken):
    response = preflight(client, "https://evil.example")
    assert "Access-Control-Allow-Origin" not in response
    assert "Access-Control-Allow-Credentials" not in response


def test_a_text_plain_post_from_a_listed_origin_is_accepted_and_readable_by_the_page(client, spoken, queue, run_worker):
    response = beacon(client, spoken, SPOKEN)
    assert response.status_code == 202
    assert response["Access-Control-Allow-Origin"] == SPOKEN
    assert "Access-Control-Allow-Credentials" not in response
    run_worker()
    assert Event.objects.filter(site=spoken).count() == 1


def test_an_origin_another_site_lists_is_refused_for_this_site_with_a_readable_403(client, spoken, other, queue):
    response = beacon(client, spoken, OTHER)
    assert response.status_code == 403
    # The origin is listed by some site, so the page may read why it was refused.
    assert response["Access-Control-Allow-Origin"] == OTHER
    body = response.json()
    assert body["error"] == "origin_not_allowed"
    assert body["errors"] == [{"field": "Origin", "rule": "must be one of the site's allowed origins"}]
    assert queue.count == 0 and Event.objects.count() == 0


def test_an_origin_no_site_lists_is_refused_and_the_page_cannot_read_the_answer(client, spoken, queue):
    response = beacon(client, spoken, "https://evil.example")
    assert response.status_code == 403
    assert "Access-Control-Allow-Origin" not in response
    assert queue.count == 0


def test_requests_without_an_origin_are_not_origin_checked(client, spoken, queue):
    assert beacon(client, spoken).status_code == 202
    assert queue.count == 1


def test_the_eyes_own_pages_may_send_for_any_site(client, spoken, queue):
    assert beacon(client, spoken, "http://testserver").status_code == 202


def test_an_origin_added_in_admin_is_allowed_at_once(client, spoken, queue):
    assert beacon(client, spoken, OTHER).status_code == 403
    assert "Access-Control-Allow-Origin" not in preflight(client, OTHER)
    spoken.allowed_origins = [SPOKEN, OTHER]
    spoken.save()
    assert preflight(client, OTHER)["Access-Control-Allow-Origin"] == OTHER
    assert beacon(client, spoken, OTHER).status_code == 202


def test_no_other_url_answers_cross_origin_requests(client, spoken, staff_user):
    client.force_login(staff_user)
    for url in ("/health/", "/api/schema/", "/admin/"):
        response = client.get(url, HTTP_ORIGIN=SPOKEN)
        assert "Access-Control-Allow-Origin" not in response, url
