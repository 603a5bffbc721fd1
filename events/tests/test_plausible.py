"""`POST /api/event`: Plausible's Events API, through the one write path, with its own answers."""

from __future__ import annotations

import json

import pytest
from django.core.exceptions import ValidationError

from events.models import DroppedEvents, Event, Site

URL = "/api/event"
BROWSER_UA = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"
pytestmark = pytest.mark.django_db


@pytest.fixture
def learn(db):
    return Site.objects.create(name="Learn", domains=["learn.example.org"], allow_custom_events=True)


def send(client, body, *, content_type="text/plain", ip="49.36.0.1", ua=BROWSER_UA, **headers):
    data = body if isinstance(body, str) else json.dumps(body)
    return client.post(URL, data=data, content_type=content_type, REMOTE_ADDR=ip, HTTP_USER_AGENT=ua, **headers)


def test_a_pageview_with_short_keys_is_answered_202_ok_and_stored_as_a_page_view(client, learn, queue, run_worker):
    body = {"n": "pageview", "u": "https://learn.example.org/courses/python/?utm_source=news", "d": "learn.example.org"}
    response = send(client, {**body, "r": "https://www.google.com/", "v": 36, "w": 1280})
    assert response.status_code == 202
    assert response.content == b"ok"
    assert queue.count == 1 and Event.objects.count() == 0  # queued like every other door
    run_worker()
    event = Event.objects.get()
    assert (event.site, event.category, event.name) == (learn, "page_interaction", "page_view")
    assert (event.host, event.path, event.source) == ("learn.example.org", "/courses/python/", "plausible")
    assert (event.referrer_host, event.channel, event.utm_source) == ("google.com", "search", "news")
    assert event.country == "IN" and event.browser == "Chrome"  # enriched from the request's IP and UA
    assert event.visitor_id and event.session_id == f"p-{event.visitor_id}"


def test_long_keys_and_a_json_body_work_too_and_props_become_a_custom_events_data(client, learn, run_worker):
    body = {
        "name": "Signup",
        "url": "https://learn.example.org/join",
        "domain": "learn.example.org",
        "props": {"plan": "free", "seats": 3},
        "revenue": {"amount": "15.99", "currency": "usd"},
        "interactive": False,
    }
    assert send(client, body, content_type="application/json").status_code == 202
    run_worker()
    event = Event.objects.get()
    assert (event.category, event.name, event.path) == ("custom", "Signup", "/join")
    assert event.data == {
        "plan": "free",
        "seats": 3,
        "revenue": {"amount": "15.99", "currency": "USD"},
        "interactive": False,
        "host": "learn.example.org",
        "path": "/join",
    }


def test_outbound_links_and_file_downloads_become_exit_links_and_downloads(client, learn, run_worker):
    page = {"u": "https://learn.example.org/docs/", "d": "learn.example.org"}
    send(client, {**page, "n": "Outbound Link: Click", "p": {"url": "https://python.org/"}})
    send(client, {**page, "n": "File Download", "p": json.dumps({"url": "https://learn.example.org/a.pdf"})})
    run_worker()
    exit_link = Event.objects.get(name="exit_link")
    assert exit_link.data == {"href": "https://python.org/", "host": "learn.example.org", "path": "/docs/"}
    download = Event.objects.get(name="download")  # the older library sends props as a JSON string
    assert download.category == "page_interaction" and download.data["href"] == "https://learn.example.org/a.pdf"


def test_the_newer_scripts_engagement_becomes_engaged_seconds(client, learn, run_worker):
    send(client, {"n": "engagement", "u": "https://learn.example.org/a", "d": "learn.example.org", "e": 4250, "sd": 80})
    run_worker()
    event = Event.objects.get()
    assert event.name == "engagement" and event.data["engaged_seconds"] == 4.2 and event.data["scroll_depth"] == 80


def test_a_comma_separated_domain_sends_one_event_to_each_site(client, learn, run_worker):
    Site.objects.create(name="All sites", domains=["rollup.example.org"])
    send(client, {"n": "pageview", "u": "https://learn.example.org/", "d": "learn.example.org,rollup.example.org"})
    run_worker()
    assert sorted(Event.objects.values_list("site__name", flat=True)) == ["All sites", "Learn"]


def test_a_request_repeated_in_the_same_second_is_stored_once(client, learn, run_worker):
    body = {"n": "pageview", "u": "https://learn.example.org/", "d": "learn.example.org"}
    send(client, body)
    send(client, body)
    send(client, body, ip="81.2.69.142")  # another visitor: another event
    run_worker()
    assert Event.objects.count() == 2
    assert DroppedEvents.objects.get(reason="duplicate").count == 1


def test_the_visitor_is_the_forwarded_address_only_behind_a_trusted_proxy(client, learn, run_worker, settings):
    body = {"n": "pageview", "u": "https://learn.example.org/", "d": "learn.example.org"}
    send(client, body, ip="10.0.0.2", HTTP_X_FORWARDED_FOR="81.2.69.142")
    run_worker()
    assert Event.objects.get().country == ""  # the header of an untrusted sender is ignored
    settings.TRUSTED_PROXY_COUNT = 1
    send(client, {**body, "u": "https://learn.example.org/b"}, ip="10.0.0.2", HTTP_X_FORWARDED_FOR="81.2.69.142")
    run_worker()
    assert Event.objects.get(path="/b").country == "GB"


def test_a_bots_request_is_answered_202_and_not_stored(client, learn, run_worker):
    ua = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"
    assert (
        send(client, {"n": "pageview", "u": "https://learn.example.org/", "d": "learn.example.org"}, ua=ua).status_code
        == 202
    )
    run_worker()
    assert not Event.objects.exists() and DroppedEvents.objects.get(reason="bot").count == 1


@pytest.mark.parametrize(
    ("body", "field", "rule"),
    [
        ({"u": "https://learn.example.org/", "d": "learn.example.org"}, "name", "is required"),
        ({"n": "pageview", "d": "learn.example.org"}, "url", "is required"),
        ({"n": "pageview", "u": "/relative", "d": "learn.example.org"}, "url", "must be an absolute http(s) URL"),
        ({"n": "pageview", "u": "https://learn.example.org/"}, "domain", "is required"),
        (
            {"n": "pageview", "u": "https://x.org/", "d": "unknown.example.org"},
            "domain",
            "must be a domain a site lists",
        ),
        ({"n": "x", "u": "https://x.org/", "d": "learn.example.org", "p": "[1]"}, "props", "must be a JSON object"),
        ({"n": "x", "u": "https://x.org/", "d": "learn.example.org", "p": {"a": [1]}}, "props.a", "must be a string"),
        (
            {"n": "x", "u": "https://x.org/", "d": "learn.example.org", "$": {"amount": "lots"}},
            "revenue.amount",
            "must",
        ),
        ({"n": "Outbound Link: Click", "u": "https://x.org/", "d": "learn.example.org"}, "props.url", "is required"),
        ({"n": "x" * 65, "u": "https://x.org/", "d": "learn.example.org"}, "name", "must be at most 64 characters"),
        ([{"n": "pageview"}], "body", "must be a JSON object"),
    ],
)
def test_a_bad_body_is_refused_with_400_naming_plausibles_field_and_nothing_is_queued(
    client, learn, queue, body, field, rule
):
    response = send(client, body)
    assert response.status_code == 400
    [error] = response.json()["errors"]
    assert error["field"] == field and error["rule"].startswith(rule)
    assert queue.count == 0


def test_custom_events_for_a_site_that_refuses_them_are_refused_for_every_listed_site(client, learn, queue):
    Site.objects.create(name="Strict", domains=["strict.example.org"], allow_custom_events=False)
    body = {"n": "Signup", "u": "https://learn.example.org/", "d": "learn.example.org,strict.example.org"}
    response = send(client, body)
    assert response.status_code == 400 and response.json()["errors"][0]["field"] == "name"
    assert queue.count == 0  # all or nothing: not even Learn's copy is queued


def test_a_browser_origin_the_site_does_not_list_is_refused(client, learn, queue):
    body = {"n": "pageview", "u": "https://learn.example.org/", "d": "learn.example.org"}
    response = send(client, body, HTTP_ORIGIN="https://elsewhere.example")
    assert response.status_code == 403 and response.json()["errors"][0]["field"] == "Origin"
    learn.allowed_origins = ["https://learn.example.org"]
    learn.save()
    assert send(client, body, HTTP_ORIGIN="https://learn.example.org").status_code == 202


def test_a_site_lists_only_host_names_and_no_domain_of_another_site(learn):
    other = Site(name="Other", domains=["https://Learn.Example.org/"])
    with pytest.raises(ValidationError, match="already listed by the site Learn"):
        other.full_clean()
    other.domains = ["not a host/at all"]
    with pytest.raises(ValidationError, match="host name"):
        other.full_clean()
    other.domains = ["WWW.Other.org", "www.other.org"]
    other.full_clean()
    assert other.domains == ["www.other.org"]


def test_the_api_schema_describes_the_plausible_endpoint(client):
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/json").json()
    operation = schema["paths"]["/api/event"]["post"]
    assert set(operation["responses"]) >= {"202", "400", "403", "415"}
    assert "text/plain" in operation["requestBody"]["content"]
