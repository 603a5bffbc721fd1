"""Subject requests from outside: staff API, learner pages, commands, admin; retention per site."""

from __future__ import annotations

import io
import json
import uuid
import zipfile
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.core.management import call_command
from django.http import QueryDict
from django.test import Client

from dashboard import queries
from dashboard.scope import parse_scope
from dashboard.tests.factories import CHROME_DESKTOP, LONDON, MUMBAI, known_traffic
from events import ingest
from events.models import Event, Session, Site, Visitor
from privacy.models import SubjectRequest
from rollups import definitions
from rollups.models import DailyMetric

pytestmark = pytest.mark.django_db


def scope(source: str):
    params = QueryDict(mutable=True)
    params.update({"period": "7d"})
    return parse_scope(params=params).with_source(source)


def assert_rollups_equal_raw_events() -> None:
    rollups, raw = scope("rollups"), scope("raw")
    assert queries.totals(scope=rollups) == queries.totals(scope=raw)
    for name in definitions.VISIT_DIMENSIONS:
        if name != "total":
            assert queries.visits_by(scope=rollups, dimension=name, limit=100) == queries.visits_by(
                scope=raw, dimension=name, limit=100
            ), name
    for name, dimension in definitions.EVENT_DIMENSIONS.items():
        kwargs: dict[str, Any] = {"dimension": name, "limit": 100, "with_visitors": dimension.visitor_sets}
        assert queries.counts_by(scope=rollups, **kwargs) == queries.counts_by(scope=raw, **kwargs), name


def signed_in_visit(site: Site, *, user: str, visitor: str, start: datetime, paths: list[str], ip: str) -> None:
    session = str(uuid.uuid4())
    events = [
        {
            "id": str(uuid.uuid4()),
            "session_id": session,
            "visitor_id": visitor,
            "user": user if i else "",  # the first page before signing in
            "category": "page_interaction",
            "name": "page_view",
            "data": {"host": "learn.example.org", "path": path},
            "timestamp": (start + timedelta(minutes=i)).isoformat(),
        }
        for i, path in enumerate(paths)
    ]
    sender = ingest.Sender(ip=ip, user_agent=CHROME_DESKTOP, source="test", trusted=True)
    ingest.accept(site=site, payload=events, sender=sender, direct=True)


@pytest.fixture
def world(site):
    """The known traffic, plus learner asha's two visits (one before she signed in) and a neighbour
    in the same days and pages."""
    now = known_traffic(site)
    start = now.replace(hour=0, minute=5, second=0) - timedelta(days=1)
    signed_in_visit(site, user="asha", visitor="va", start=start, paths=["/", "/watch/Python/Loops/Hindi/"], ip=MUMBAI)
    signed_in_visit(site, user="", visitor="va", start=start + timedelta(hours=3), paths=["/courses/"], ip=MUMBAI)
    signed_in_visit(site, user="ravi", visitor="vr", start=start, paths=["/", "/watch/Python/Loops/Hindi/"], ip=LONDON)
    return site


def staff_client(staff_user) -> Client:
    client = Client()
    client.force_login(staff_user)
    return client


def read_zip(content: bytes) -> dict[str, str]:
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        return {name: archive.read(name).decode() for name in archive.namelist()}


def test_staff_export_holds_every_event_of_the_users_browser_as_json_and_csv(world, staff_user):
    response = staff_client(staff_user).get("/api/privacy/export/", {"user": "asha"})
    assert response.status_code == 200 and response["Content-Type"] == "application/zip"
    files = read_zip(response.content)
    assert {"about.json", "events.json", "events.csv", "visits.json", "visits.csv", "progress.json"} <= set(files)
    events = json.loads(files["events.json"])
    # Both of asha's visits, the one before signing in included; none of ravi's.
    assert len(events) == 3 and {e["visitor_id"] for e in events} == {"va"}
    assert len(files["events.csv"].strip().splitlines()) == 1 + 3
    assert SubjectRequest.objects.get().action == "export"


@pytest.mark.parametrize("who", ["anonymous", "learner"])
def test_only_staff_may_export_or_erase(world, who, django_user_model):
    client = Client()
    if who == "learner":
        client.force_login(django_user_model.objects.create_user("asha", password="pass-12345"))
    assert client.get("/api/privacy/export/", {"user": "asha"}).status_code in (401, 403)
    assert client.post("/api/privacy/erasures/", {"user": "asha"}, content_type="application/json").status_code in (
        401,
        403,
    )
    assert Event.objects.filter(visitor_id="va").count() == 3


def test_a_request_naming_no_subject_or_two_is_a_400_naming_the_rule(world, staff_user):
    client = staff_client(staff_user)
    for params in ({}, {"user": "asha", "visitor": "va"}):
        response = client.get("/api/privacy/export/", params)
        assert response.status_code == 400
        assert response.json()["errors"][0]["rule"].startswith("exactly one of")


def test_staff_erasure_is_queued_then_corrects_every_rollup_and_leaves_neighbours(world, staff_user, queue, run_worker):
    before_ravi = set(Event.objects.filter(visitor_id="vr").values_list("id", flat=True))
    client = staff_client(staff_user)
    response = client.post("/api/privacy/erasures/", {"user": "asha"}, content_type="application/json")
    assert response.status_code == 202 and response.json()["status"] == "queued"
    assert Event.objects.filter(visitor_id="va").count() == 3  # not yet: the worker erases
    run_worker()
    status = client.get(f"/api/privacy/erasures/{response.json()['id']}/").json()
    assert (status["status"], status["events"], status["visits"], status["visitors"]) == ("done", 3, 2, 1)
    assert not Event.objects.filter(visitor_id="va").exists()
    assert not Session.objects.filter(visitor_id="va").exists() and not Visitor.objects.filter(visitor_id="va").exists()
    assert set(Event.objects.filter(visitor_id="vr").values_list("id", flat=True)) == before_ravi
    assert_rollups_equal_raw_events()
    record = SubjectRequest.objects.get(action="erasure")
    assert "asha" not in json.dumps(list(SubjectRequest.objects.values()), default=str)
    assert record.requested_by == "staff"
    # Again: nothing more to erase.
    again = client.post("/api/privacy/erasures/", {"user": "asha"}, content_type="application/json")
    run_worker()
    assert client.get(f"/api/privacy/erasures/{again.json()['id']}/").json()["events"] == 0


def test_a_learner_downloads_their_data_and_erases_it_from_my_learning(world, django_user_model, queue, run_worker):
    learner = django_user_model.objects.create_user("asha", password="pass-12345")
    client = Client()
    client.force_login(learner)
    page = client.get("/my-learning/").content.decode()
    assert "/my-learning/my-data.zip" in page and "/my-learning/erase/" in page
    download = client.get("/my-learning/my-data.zip")
    assert download.status_code == 200
    assert len(json.loads(read_zip(download.content)["events.json"])) == 3
    assert client.post("/my-learning/erase/", {}).status_code == 200  # no confirmation: asks again
    assert Event.objects.filter(visitor_id="va").exists()
    response = client.post("/my-learning/erase/", {"confirm": "yes"})
    assert response.status_code == 202
    run_worker()
    assert not Event.objects.filter(visitor_id="va").exists()
    assert SubjectRequest.objects.get(action="erasure").requested_by == "the subject"
    assert_rollups_equal_raw_events()


def test_the_commands_export_and_erase_by_visitor_and_session(world, tmp_path):
    path = tmp_path / "out.zip"
    call_command("export_subject", visitor="vr", output=str(path), stdout=io.StringIO())
    assert len(json.loads(read_zip(path.read_bytes())["events.json"])) == 2
    session = Event.objects.filter(visitor_id="v1").values_list("session_id", flat=True).first()
    out = io.StringIO()
    call_command("erase_subject", session=session, stdout=out)
    assert "done" in out.getvalue() and not Event.objects.filter(session_id=session).exists()
    assert Event.objects.filter(visitor_id="v1").exists()  # the visitor's other visits stay
    assert_rollups_equal_raw_events()


def test_each_site_keeps_raw_events_for_its_own_period_and_keeps_the_rollups(site, settings):
    settings.EVENTS_RETENTION_DAYS = 0
    other = Site.objects.create(name="Other", retention_days=None)
    site.retention_days = 10
    site.save()
    old = datetime.now(UTC) - timedelta(days=20)
    for target in (site, other):
        signed_in_visit(target, user="", visitor="v-old", start=old, paths=["/a/", "/b/"], ip=MUMBAI)
    days_before = DailyMetric.objects.filter(site=site, dimension="total").count()
    out = io.StringIO()
    call_command("purge_events", stdout=out)
    assert not Event.objects.filter(site=site).exists() and not Session.objects.filter(site=site).exists()
    assert Event.objects.filter(site=other).count() == 2  # global default 0: keep everything
    assert DailyMetric.objects.filter(site=site, dimension="total").count() == days_before > 0
    assert "Other: retention is off" in out.getvalue()


def test_a_learners_xapi_statements_are_exported_and_erased_with_them(world, staff_user, django_user_model):
    from xapi import statements
    from xapi.models import Statement

    django_user_model.objects.create_user("asha", email="asha@example.org", password="pass-12345")
    verb = {"id": "http://adlnet.gov/expapi/verbs/completed"}
    activity = {"id": "https://learn.example.org/watch/BASH/Intro/English/"}
    mine = [
        {
            "actor": {"account": {"homePage": "https://learn.example.org", "name": "asha"}},
            "verb": verb,
            "object": activity,
        },
        {"actor": {"mbox": "mailto:asha@example.org"}, "verb": verb, "object": activity},
    ]
    theirs = {
        "actor": {"account": {"homePage": "https://learn.example.org", "name": "ravi"}},
        "verb": verb,
        "object": activity,
    }
    statements.store(site=world, payload=[*mine, theirs])
    client = staff_client(staff_user)
    files = read_zip(client.get("/api/privacy/export/", {"user": "asha"}).content)
    assert len(json.loads(files["xapi_statements.json"])) == 2
    from events.erasure import Subject
    from privacy import requests as privacy_requests

    privacy_requests.request_erasure(subject=Subject("user", "asha"), requested_by="staff", queued=False)
    assert Statement.objects.count() == 1 and Statement.objects.get().agent.endswith("|ravi")
