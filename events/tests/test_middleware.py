"""The Django middleware in a small host site, with The Eye as the collector (`live_server`).

Real parts end to end: the host's request goes through Django's test client and the middleware;
the background thread POSTs batches over HTTP to the live collector; a real RQ worker stores them.
"""

from __future__ import annotations

import json
import logging
import socket

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from pytest_django.live_server_helper import LiveServer
from the_eye_client import sender as sender_module
from the_eye_client.middleware import config_from_settings
from the_eye_client.sender import get_sender

from conftest import DESKTOP_UA
from events.models import Event, IpPrivacy
from events.sites import create_site

MIDDLEWARE = "the_eye_client.middleware.TheEyeMiddleware"
INDIAN_IP = "49.36.0.1"  # the shipped GeoLite2 database places it in Mumbai
REFERRER = "https://www.google.com/search?q=bash+tutorial"


@pytest.fixture
def host(transactional_db, live_server, settings, queue):
    """A host site with the middleware on, sending to The Eye at `live_server` with its key.

    `live_server` is requested first so the collector's own middleware stack is built before
    the middleware is added to the (shared) settings.
    """
    # Its visitors are counted by the middleware's cookie, so not a cookieless site.
    site = create_site(name="Host site", ip_privacy=IpPrivacy.RAW, allow_custom_events=False, cookieless=False)
    key = site.rotate_server_key()
    settings.ROOT_URLCONF = "events.tests.host_site"
    # Where the README advises: right after SecurityMiddleware, before WhiteNoise and the rest.
    settings.MIDDLEWARE = [settings.MIDDLEWARE[0], MIDDLEWARE, *settings.MIDDLEWARE[1:]]
    settings.THE_EYE_COLLECTOR_URL = live_server.url
    settings.THE_EYE_SERVER_KEY = key
    settings.THE_EYE_FLUSH_INTERVAL = 0.2
    settings.THE_EYE_TIMEOUT = 5.0
    yield site
    sender_module.close_all(timeout=2)


def visitor(**extra) -> Client:
    """A browser: its own cookies, a desktop user agent and a public IP address."""
    return Client(HTTP_USER_AGENT=DESKTOP_UA, REMOTE_ADDR=INDIAN_IP, **extra)


def deliver(run_worker) -> None:
    """Deliver what the host's sender holds, then store it with a worker burst; no job may fail."""
    import django_rq

    assert get_sender(config=config_from_settings()).flush(timeout=15), "events were not delivered"
    run_worker()
    queue = django_rq.get_queue("events")
    retried = queue.failed_job_registry.get_job_ids() + queue.scheduled_job_registry.get_job_ids()
    assert not retried, [getattr(queue.fetch_job(j), "exc_info", j) for j in retried]


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_a_page_view_on_the_host_is_stored_with_the_seeds_fields(host, run_worker, django_user_model):
    learner = django_user_model.objects.create_user("asha", password="learner-pass-123")
    browser = visitor()
    browser.force_login(learner)

    response = browser.get("/watch/BASH/Intro+to+BASH/English/?autoplay=1&token=s3cr3t", HTTP_REFERER=REFERRER)
    assert response.status_code == 200
    deliver(run_worker)

    event = Event.objects.get()
    assert (event.site, event.category, event.name) == (host, "server", "request")
    assert event.user == "asha"
    assert event.host == "testserver"
    assert event.path == "/watch/BASH/Intro+to+BASH/English/"
    assert event.user_agent == DESKTOP_UA
    assert event.ip == INDIAN_IP
    assert event.referrer == REFERRER
    assert event.visitor_id == response.cookies["the_eye_vid"].value
    assert event.session_id == response.cookies["the_eye_sid"].value
    assert event.session_id != browser.session.session_key  # never the host's own session key
    data = event.data
    assert (data["method"], data["status"], data["first_visit"]) == ("GET", 200, True)
    assert data["view_kwargs"] == {"foss": "BASH", "tutorial": "Intro+to+BASH", "language": "English"}
    assert data["url_name"] == "watch" and data["view"] == "events.tests.host_site.watch"
    assert data["query"] == {"autoplay": "1", "token": "[redacted]"}
    assert abs((event.received_at - event.timestamp).total_seconds()) < 60  # a UTC time of the request


def test_the_visitor_cookie_tells_a_first_visit_from_a_returning_one(host, run_worker):
    browser = visitor()
    first = browser.get("/watch/BASH/Intro/English/")
    browser.get("/watch/BASH/Loops/English/")
    visitor().get("/watch/BASH/Intro/English/")  # someone else, first time
    deliver(run_worker)

    cookie = first.cookies["the_eye_vid"]
    assert cookie["max-age"] == 183 * 24 * 3600 and cookie["httponly"]
    by_path = {(e.visitor_id, e.path): e.data["first_visit"] for e in Event.objects.all()}
    mine = cookie.value
    assert by_path[(mine, "/watch/BASH/Intro/English/")] is True
    assert by_path[(mine, "/watch/BASH/Loops/English/")] is False
    others = [v for (v, p), first_visit in by_path.items() if v != mine]
    assert len(others) == 1 and by_path[(others[0], "/watch/BASH/Intro/English/")] is True
    assert len({e.session_id for e in Event.objects.all()}) == 2  # one visit per browser


SECRETS = ("hunter2-secret", "4111111111111111", "csrf-value-xyz", "cvv-777", "tok-abc", "sk_live_999")


def test_post_data_is_stored_with_every_secret_redacted_at_any_depth(host, run_worker):
    browser = visitor()
    signup = browser.post(
        "/accounts/signup/",
        {
            "username": "ravi",
            "password1": "hunter2-secret",
            "Password2": "hunter2-secret",
            "csrfmiddlewaretoken": "csrf-value-xyz",
            "billing[card_number]": "4111111111111111",
            "billing[cvv]": "cvv-777",
            "courses": ["bash", "python"],
        },
    )
    assert (signup.status_code, signup.content) == (201, b"welcome ravi")
    api = browser.post(
        "/profile/api/",
        data=json.dumps(
            {
                "name": "Ravi",
                "account": {"Auth_Token": "tok-abc", "wallet": [{"Card_Number": "4111111111111111", "label": "work"}]},
                "integrations": [{"API_KEY": "sk_live_999"}],
            }
        ),
        content_type="application/json",
    )
    assert api.status_code == 200
    upload = browser.post("/upload/", {"notes": SimpleUploadedFile("notes.txt", b"hunter2-secret inside")})
    assert upload.content == b"got 1 files"
    deliver(run_worker)

    events = {e.path: e for e in Event.objects.all()}
    assert events["/accounts/signup/"].data["post"] == {
        "username": "ravi",
        "password1": "[redacted]",
        "Password2": "[redacted]",
        "csrfmiddlewaretoken": "[redacted]",
        "billing[card_number]": "[redacted]",
        "billing[cvv]": "[redacted]",
        "courses": ["bash", "python"],
    }
    assert events["/profile/api/"].data["post"] == {
        "name": "Ravi",
        "account": {"Auth_Token": "[redacted]", "wallet": [{"Card_Number": "[redacted]", "label": "work"}]},
        "integrations": [{"API_KEY": "[redacted]"}],
    }
    assert events["/upload/"].data["files"] == {"notes": ["notes.txt"]}
    stored = json.dumps([{f.name: str(getattr(e, f.attname)) for f in Event._meta.fields} for e in events.values()])
    for secret in SECRETS:
        assert secret not in stored, secret


def test_positional_view_args_missing_pages_and_url_tokens_are_recorded(host, run_worker):
    browser = visitor()
    browser.get("/archive/2024/02/")
    missing = browser.get("/no/such/page/")
    browser.get("/accounts/reset/MQ/c0ffee-reset-token/")
    browser.get("/courses/")
    assert missing.status_code == 404
    deliver(run_worker)

    events = {e.data["status"]: e for e in Event.objects.exclude(path__in=["/archive/2024/02/", "/courses/"])}
    archive = Event.objects.get(path="/archive/2024/02/")
    assert archive.data["view_args"] == ["2024", "02"]
    courses = Event.objects.get(path="/courses/").data
    assert (courses["view"], courses["url_name"]) == ("events.tests.host_site.CourseList", "courses")
    assert events[404].path == "/no/such/page/"  # the seed silently dropped unmatched paths
    assert "view" not in events[404].data
    reset = events[200]
    assert reset.path == "/accounts/reset/MQ/[redacted]/"
    assert reset.data["view_kwargs"] == {"uidb64": "MQ", "token": "[redacted]"}


def test_static_media_admin_and_health_paths_send_nothing(host, run_worker, settings):
    settings.THE_EYE_SKIP_PATHS = ["/internal/"]
    browser = visitor()
    for skipped in (
        "/static/the_eye/nothing.css",
        "/media/video.mp4",
        "/admin/",
        "/admin/login/",
        "/health/",
        "/favicon.ico",
        "/internal/metrics",
    ):
        response = browser.get(skipped)
        assert "the_eye_vid" not in response.cookies, skipped
    browser.get("/healthy-cooking/")  # only whole path segments are skipped
    deliver(run_worker)
    assert [e.path for e in Event.objects.all()] == ["/healthy-cooking/"]


def test_the_host_is_unaffected_while_the_collector_is_down_and_events_arrive_once_it_is_back(
    host, run_worker, settings, caplog
):
    port = closed_port()
    settings.THE_EYE_COLLECTOR_URL = f"http://127.0.0.1:{port}"
    browser = visitor()
    pages = [browser.get(f"/watch/BASH/Part-{n}/English/") for n in range(3)]
    signup = browser.post("/accounts/signup/", {"username": "meera", "password1": "x"})
    assert [(p.status_code, p.content) for p in pages] == [
        (200, f"watching BASH / Part-{n} in English".encode()) for n in range(3)
    ]
    assert (signup.status_code, signup.content) == (201, b"welcome meera")

    sender = get_sender(config=config_from_settings())
    assert sender.flush(timeout=10) is False  # nothing listens: the events stay held
    assert sender.held == 4
    assert "collector unreachable" in caplog.text
    run_worker()
    assert Event.objects.count() == 0

    collector = LiveServer(f"127.0.0.1:{port}")
    try:
        deliver(run_worker)
    finally:
        collector.stop()
    assert sorted(e.path for e in Event.objects.all()) == sorted(
        [f"/watch/BASH/Part-{n}/English/" for n in range(3)] + ["/accounts/signup/"]
    )


def test_a_wrong_server_key_is_logged_not_raised(host, run_worker, settings, caplog):
    settings.THE_EYE_SERVER_KEY = "tes_not-the-key"
    caplog.set_level(logging.ERROR, logger="the_eye_client.sender")
    response = visitor().get("/watch/BASH/Intro/English/")
    assert (response.status_code, response.content) == (200, b"watching BASH / Intro in English")

    sender = get_sender(config=config_from_settings())
    assert sender.flush(timeout=10)  # answered, and dropped: retrying could never succeed
    assert sender.held == 0
    assert "1 events dropped: collector answered 401" in caplog.text
    run_worker()
    assert Event.objects.count() == 0


def test_a_failure_while_recording_never_reaches_the_hosts_response(host, run_worker, caplog):
    response = visitor().get("/odd/thing/")
    assert (response.status_code, response.content) == (200, b"odd but fine")
    assert "The Eye could not record GET /odd/thing/" in caplog.text
    deliver(run_worker)
    assert Event.objects.count() == 0


def test_undelivered_events_are_spooled_at_exit_and_sent_by_the_next_process(host, run_worker, settings, tmp_path):
    port = closed_port()
    settings.THE_EYE_COLLECTOR_URL = f"http://127.0.0.1:{port}"
    settings.THE_EYE_SPOOL_DIR = str(tmp_path)
    visitor().get("/watch/BASH/Intro/English/")
    first = get_sender(config=config_from_settings())
    assert first.close(timeout=0.5) == 1  # what process exit does, with the collector down
    assert len(list(tmp_path.glob("the-eye-*.json"))) == 1

    collector = LiveServer(f"127.0.0.1:{port}")
    try:
        deliver(run_worker)  # a new sender (as in a restarted host) finds the spooled file
    finally:
        collector.stop()
    assert list(tmp_path.iterdir()) == []
    assert Event.objects.get().path == "/watch/BASH/Intro/English/"


def test_inside_the_eye_the_middleware_hands_events_to_the_ingest_path(host, run_worker, settings):
    settings.THE_EYE_COLLECTOR_URL = "local"
    browser = visitor()
    browser.get("/watch/BASH/Intro/English/")
    browser.get("/health/")
    browser.post("/api/events/", data="{}", content_type="application/json")  # the collector's own door
    deliver(run_worker)

    event = Event.objects.get()
    assert (event.source, event.path, event.ip) == ("middleware", "/watch/BASH/Intro/English/", INDIAN_IP)


def test_without_a_collector_address_the_middleware_stays_out_of_the_way(host, settings, run_worker):
    settings.THE_EYE_COLLECTOR_URL = ""
    response = visitor().get("/watch/BASH/Intro/English/")
    assert (response.status_code, response.content) == (200, b"watching BASH / Intro in English")
    assert "the_eye_vid" not in response.cookies
    run_worker()
    assert Event.objects.count() == 0


def test_the_host_adds_its_own_secrets_and_an_oversized_form_still_counts_as_a_visit(host, settings, run_worker):
    settings.THE_EYE_REDACT_KEYS = ["mobile*"]
    browser = visitor()
    browser.post("/accounts/signup/", {"username": "ravi", "mobile_number": "9876543210"})
    browser.post("/accounts/signup/", {f"answer_{n}": "x" * 900 for n in range(40)})  # ~36 KB of fields
    deliver(run_worker)

    posts = [e.data["post"] for e in Event.objects.order_by("timestamp")]
    assert posts[0] == {"username": "ravi", "mobile_number": "[redacted]"}
    assert posts[1] == "[omitted: more than 12000 bytes]"
