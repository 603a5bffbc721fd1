"""`manage.py demo` builds one consistent learning site, and `manage.py up` prints only logins that work."""

from __future__ import annotations

import re
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.test import Client

from events.models import Event, Site
from progress.models import Progress, Video
from the_eye import demo
from the_eye.management.commands.up import Command as Up

pytestmark = pytest.mark.django_db

PASSWORDS = {"admin": "admin-pass-123", "content": "content-pass-123", "learner": "learner-pass-123"}


@pytest.fixture
def passwords(settings, tmp_path, monkeypatch):
    settings.VAR_DIR = tmp_path
    # Real hashing is slow on purpose; these tests check which logins work, not how they are hashed.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    for name, value in PASSWORDS.items():
        monkeypatch.setenv(f"DEMO_{name.upper()}_PASSWORD", value)
    return PASSWORDS


def run(*args: str) -> str:
    out = StringIO()
    call_command(*args, stdout=out, stderr=StringIO())
    return out.getvalue()


def announce() -> str:
    out = StringIO()
    Up(stdout=out)._announce("127.0.0.1", 8000)
    return out.getvalue()


def test_the_demo_is_one_world_of_catalogue_traffic_and_learners_and_a_second_run_adds_nothing(passwords):
    first = run("demo", "--events", "120", "--learners", "30", "--days", "4")
    stored = Event.objects.count()
    progress = list(Progress.objects.values_list("learner_id", "tutorial_id", "language", "watched_seconds", "visits"))
    second = run("demo", "--events", "120", "--learners", "30", "--days", "4")

    assert re.search(r"events:\s+\d+ generated, 0 new", second)
    assert Event.objects.count() == stored
    assert list(Progress.objects.values_list("learner_id", "tutorial_id", "language", "watched_seconds", "visits")) == (
        progress
    )
    assert Site.objects.count() == 1 and Site.objects.default().site_id in first

    # Every watch page in the traffic is in the catalogue (its link opens), one spelling per course.
    catalogue = {
        (c, t, language)
        for c, t, language in Video.objects.values_list("tutorial__course__slug", "tutorial__slug", "language")
    }
    watched = {
        tuple(p.strip("/").split("/")[1:])
        for p in Event.objects.filter(path__startswith="/watch/").values_list("path", flat=True)
    }
    assert watched and watched <= catalogue
    video_events = Event.objects.filter(category="video")
    assert {e.data["course"] for e in video_events} <= {c for c, _, _ in catalogue}

    # Learners watched through the progress path: some completed, some dropped off, some rewatched.
    learners = get_user_model().objects.filter(username__startswith="learner-")
    assert learners.count() == 30
    rows = Progress.objects.filter(learner__in=learners)
    assert rows.filter(completed=True).exists()
    assert rows.filter(completed=False, watched_seconds__gt=0).exists()
    assert rows.filter(visits__gt=1).exists()
    assert len({r.learner_id for r in rows}) > 20

    # Their heartbeats are events of the visit in which the watch page was viewed.
    views = set(Event.objects.filter(name="page_view").values_list("session_id", "visitor_id"))
    assert video_events.count() > 30
    assert set(video_events.values_list("session_id", "visitor_id")) <= views

    # Every login the demo prints works, and the content team sees the Courses page.
    for name, password in passwords.items():
        assert f"{name} / {password}" in first
        assert Client().login(username=name, password=password), name
    assert Client().login(username="learner-001", password=passwords["learner"])  # the learners share it
    content = Client()
    content.login(username="content", password=passwords["content"])
    assert content.get("/dashboard/courses/").status_code == 200
    assert content.get("/dashboard/").status_code in (302, 403)


def test_up_prints_every_working_demo_login_and_only_those(passwords):
    run("demo", "--events", "0", "--learners", "1", "--days", "2")
    shown = announce()
    for name, password in passwords.items():
        assert f"{name} / {password}" in shown
        assert Client().login(username=name, password=password)

    user = get_user_model().objects.get(username="learner")
    user.set_password("changed-by-the-learner")
    user.save()
    assert "learner /" not in announce()


def test_up_without_the_demo_creates_the_admin_it_prints_and_keeps_a_changed_password(passwords):
    demo.ensure_admin()
    demo.ensure_content_team()
    shown = announce()
    assert f"admin / {passwords['admin']}" in shown and "learner /" not in shown and "content /" not in shown
    assert Client().login(username="admin", password=passwords["admin"])

    admin = get_user_model().objects.get(username="admin")
    admin.set_password("chosen-by-the-operator")
    admin.save()
    demo.ensure_admin()
    assert Client().login(username="admin", password="chosen-by-the-operator")
    assert "admin /" not in announce()
