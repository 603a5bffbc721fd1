"""The host middleware as its own distribution, installed where The Eye's code is not.

The test builds a wheel of clients/python, installs it (and Django, nothing else) into a fresh
virtualenv, and runs a small host project there with `runserver`. The host has its own app called
`events` — the name The Eye's app has, which is why the middleware is a package of its own. Its
requests must arrive in a live The Eye, stored by a real worker.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

import django
import pytest

from conftest import DESKTOP_UA
from events.models import Event, Site
from events.tests.test_tracker_browser import wait_for

pytestmark = pytest.mark.django_db(transaction=True)

CLIENT = Path(__file__).resolve().parents[2] / "clients" / "python"
HOST_FILES = {
    "hostproj/__init__.py": "",
    "hostproj/settings.py": """
SECRET_KEY = "host-only"
DEBUG = False
ALLOWED_HOSTS = ["*"]
ROOT_URLCONF = "hostproj.urls"
INSTALLED_APPS = ["events"]  # the host's own app, not The Eye's
MIDDLEWARE = ["the_eye_client.middleware.TheEyeMiddleware"]
DATABASES = {}
USE_TZ = True
THE_EYE_COLLECTOR_URL = "%(collector)s"
THE_EYE_SERVER_KEY = "%(key)s"
THE_EYE_FLUSH_INTERVAL = 0.2
THE_EYE_TRUSTED_PROXY_COUNT = 1
""",
    "hostproj/urls.py": """
from django.urls import path
from events import views
urlpatterns = [path("lessons/<slug:name>/", views.lesson), path("signup/", views.signup)]
""",
    "events/__init__.py": "",
    "events/models.py": """
from django.db import models
class Lesson(models.Model):
    title = models.CharField(max_length=100)
""",
    "events/views.py": """
from django.http import HttpResponse
from events.models import Lesson
def lesson(request, name):
    return HttpResponse(f"{Lesson._meta.app_label}: {name}")
def signup(request):
    return HttpResponse("welcome", status=201)
""",
}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def run(*command: str | Path) -> None:
    done = subprocess.run([str(c) for c in command], timeout=300, capture_output=True, text=True)
    assert done.returncode == 0, f"{' '.join(map(str, command))} failed:\n{done.stderr[-3000:]}"


@pytest.fixture
def host_venv(tmp_path) -> Path:
    """A fresh virtualenv holding only Django and the client wheel, built from a copy of its source."""
    source = tmp_path / "source"
    shutil.copytree(CLIENT, source, ignore=shutil.ignore_patterns("build", "*.egg-info", "__pycache__"))
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "-q"]
    run(*pip, "wheel", "--no-deps", "-w", tmp_path / "dist", source)
    [wheel] = (tmp_path / "dist").glob("the_eye_client-*.whl")
    venv = tmp_path / "venv"
    run(sys.executable, "-m", "venv", "--without-pip", venv)
    run(*pip, "--python", venv / "bin" / "python", "install", wheel, f"Django=={django.get_version()}")
    return venv


def get(url: str, *, data: dict | None = None) -> int:
    body = urllib.parse.urlencode(data).encode() if data else None
    headers = {"User-Agent": DESKTOP_UA, "X-Forwarded-For": "49.36.0.1"}
    with urllib.request.urlopen(urllib.request.Request(url, data=body, headers=headers), timeout=10) as answer:
        return answer.status


def test_a_host_with_its_own_events_app_installs_the_client_wheel_and_its_requests_arrive(
    host_venv, tmp_path, live_server, run_worker
):
    site = Site.objects.create(name="Host with an events app", allow_custom_events=False)
    key = site.rotate_server_key()
    project = tmp_path / "host"
    for name, text in HOST_FILES.items():
        (project / name).parent.mkdir(parents=True, exist_ok=True)
        (project / name).write_text(text % {"collector": live_server.url, "key": key} if "%(" in text else text)
    port = free_port()
    env = {"PATH": "/usr/bin:/bin", "DJANGO_SETTINGS_MODULE": "hostproj.settings", "PYTHONPATH": str(project)}
    server = subprocess.Popen(
        [host_venv / "bin" / "python", "-m", "django", "runserver", f"127.0.0.1:{port}", "--noreload"],
        cwd=project,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                assert get(f"http://127.0.0.1:{port}/lessons/bash/") == 200
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError(f"the host did not start: {server.stderr.read().decode()}") from None
                time.sleep(0.2)
        assert get(f"http://127.0.0.1:{port}/signup/", data={"username": "asha", "password": "s3cret!"}) == 201
        requests = Event.objects.filter(site=site, category="server", name="request")
        wait_for(run_worker, lambda: requests.count() == 2, what="the host's two requests")
    finally:
        server.terminate()
        server.wait(timeout=10)

    lesson = requests.get(path="/lessons/bash/")
    assert lesson.data["view"] == "events.views.lesson"  # the host's own `events` app served it
    assert lesson.data["status"] == 200 and lesson.country == "IN" and lesson.browser == "Chrome"
    signup = requests.get(path="/signup/")
    assert signup.data["method"] == "POST" and signup.data["status"] == 201
    assert signup.data["post"] == {"username": "asha", "password": "[redacted]"}
