"""Production settings: no public signing key, HTTPS settings that pass `check --deploy`, rate
limits with 429 and Retry-After, and optional error reporting to Sentry."""

from __future__ import annotations

import base64
import json
import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

from events.tests.test_validation import page_view


@pytest.fixture(autouse=True)
def fresh_rate_counters():
    """Rate counters live in the shared cache for a minute or more: start each test at zero, or
    the requests of earlier tests from the same test address count against this one."""
    from django.core.cache import cache

    cache.clear()


ROOT = Path(__file__).resolve().parents[2]
# The production block of README "Production settings" and .env.example.
PRODUCTION = {
    "DEBUG": "false",
    "ALLOWED_HOSTS": "eye.example.org",
    "CSRF_TRUSTED_ORIGINS": "https://eye.example.org",
    "SECURE_PROXY_SSL_HEADER": "HTTP_X_FORWARDED_PROTO,https",
    "SECURE_SSL_REDIRECT": "true",
    "SESSION_COOKIE_SECURE": "true",
    "CSRF_COOKIE_SECURE": "true",
    "SECURE_HSTS_SECONDS": "31536000",
    "SECURE_HSTS_INCLUDE_SUBDOMAINS": "true",
    "SECURE_HSTS_PRELOAD": "true",
}


def manage(*args: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), *args],
        cwd=ROOT,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_check_deploy_is_clean_under_the_documented_production_settings():
    documented = (ROOT / "README.md").read_text() + (ROOT / ".env.example").read_text()
    for name, value in PRODUCTION.items():
        assert f"{name}={value}" in documented, name
    result = manage("check", "--deploy", "--fail-level", "WARNING", SECRET_KEY=secrets.token_urlsafe(50), **PRODUCTION)
    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout


def test_the_site_refuses_to_start_with_the_public_development_key_when_debug_is_off():
    public = "the-eye-development-key-change-me-in-production-0123456789"
    refused = manage("check", SECRET_KEY=public, DEBUG="false")
    assert refused.returncode != 0
    assert "SECRET_KEY is the public development key" in refused.stderr
    assert manage("check", SECRET_KEY=public, DEBUG="true").returncode == 0
    weak = manage("check", SECRET_KEY="short", DEBUG="false")
    assert weak.returncode != 0 and "too weak" in weak.stderr


@pytest.mark.skipif(bool(os.environ.get("SECRET_KEY")), reason="SECRET_KEY is set for this run")
def test_without_a_key_each_checkout_makes_its_own_private_one():
    from django.conf import settings

    key_file = settings.VAR_DIR / "secret-key"
    assert key_file.read_text().strip() == settings.SECRET_KEY
    assert len(settings.SECRET_KEY) >= 50 and key_file.stat().st_mode & 0o077 == 0


def test_errors_go_to_sentry_from_web_and_worker_when_a_dsn_is_set():
    code = (
        "import sentry_sdk; c = sentry_sdk.get_client(); "
        "print(c.is_active(), sorted(k for k in c.integrations if k in ('django', 'rq')))"
    )
    result = manage("shell", "-c", code, SENTRY_DSN="https://public@127.0.0.1:9/1")
    assert result.stdout.strip().splitlines()[-1] == "True ['django', 'rq']", result.stderr
    assert manage("shell", "-c", code, SENTRY_DSN="").stdout.strip().splitlines()[-1] == "False []"


def send(client, **headers):
    return client.post("/api/events/", data=json.dumps([page_view()]), content_type="application/json", **headers)


@pytest.mark.django_db
def test_a_client_address_over_its_collecting_rate_gets_429_with_retry_after(client, site, queue, settings):
    settings.THROTTLE_COLLECT_PER_ADDRESS = "2/min"
    assert [send(client).status_code for _ in range(2)] == [202, 202]
    refused = send(client)
    assert refused.status_code == 429
    assert 1 <= int(refused["Retry-After"]) <= 60
    assert refused.json()["error"] == "throttled"
    assert send(client, REMOTE_ADDR="10.1.2.3").status_code == 202  # another address is not held back
    assert queue.count == 3


@pytest.mark.django_db
def test_a_site_over_its_collecting_rate_gets_429_from_every_address(client, site, queue, settings):
    settings.THROTTLE_COLLECT_PER_SITE = "3/hour"
    codes = [send(client, REMOTE_ADDR=f"10.0.0.{i}").status_code for i in range(4)]
    assert codes == [202, 202, 202, 429]
    assert queue.count == 3


@pytest.mark.django_db
def test_wrong_basic_auth_passwords_are_refused_with_429_after_the_limit(client, staff_user, queue, settings):
    settings.THROTTLE_AUTH_FAILURES = "3/min"

    def basic(password: str):
        token = base64.b64encode(f"staff:{password}".encode()).decode()
        return client.get("/api/events/", HTTP_AUTHORIZATION=f"Basic {token}")

    assert [basic("wrong").status_code for _ in range(3)] == [403, 403, 403]
    held = basic("staff-pass-123")  # even the right password waits: the address is held back
    assert held.status_code == 429 and int(held["Retry-After"]) >= 1
    assert basic("staff-pass-123").status_code == 429
    settings.THROTTLE_AUTH_FAILURES = ""
    assert basic("staff-pass-123").status_code == 200
    assert re.fullmatch(r"\d+", held["Retry-After"])
