""".env.example and docker-compose.yml agree with what settings read and with how the site runs."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
# Compose builds these from its own services instead of passing the operator's value through.
SET_BY_COMPOSE = {"DATABASE_URL", "REDIS_URL", "MEDIA_ROOT", "STATIC_ROOT"}
# Read by commands (`manage.py up`) on the host; meaningless inside a container.
HOST_ONLY = {"HOST", "PORT"}


def variables_settings_read() -> set[str]:
    source = (ROOT / "the_eye" / "settings.py").read_text()
    return set(re.findall(r"\benv(?:\.\w+)?\(\s*[\"']([A-Z][A-Z0-9_]*)[\"']", source))


def variables_in_env_example() -> set[str]:
    text = (ROOT / ".env.example").read_text()
    return set(re.findall(r"^#? ?([A-Z][A-Z0-9_]*)=", text, flags=re.MULTILINE))


def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def test_env_example_lists_every_variable_the_settings_read():
    read = variables_settings_read()
    assert {"DATABASE_URL", "REDIS_URL", "SECRET_KEY", "EVENTS_MAX_BATCH"} <= read  # the scan itself works
    assert read - variables_in_env_example() == set()


def test_compose_passes_every_variable_of_env_example_to_web_worker_and_migrate():
    services = compose()["services"]
    compose_only = {"POSTGRES_DB", "POSTGRES_USER", "POSTGRES_PASSWORD", "WEB_PORT"}
    expected = variables_in_env_example() - compose_only - HOST_ONLY
    for name in ("web", "worker", "migrate"):
        assert expected - set(services[name]["environment"]) == set(), name
        assert services[name]["environment"]["REDIS_URL"] == "redis://redis:6379/0"
        assert "@postgres:5432/" in services[name]["environment"]["DATABASE_URL"]
    assert SET_BY_COMPOSE <= set(services["web"]["environment"])


def test_compose_runs_a_durable_redis_a_one_shot_migrate_and_scalable_workers():
    services = compose()["services"]
    redis_command = " ".join(services["redis"]["command"])
    for flag in ("--appendonly yes", "--appendfsync everysec", "--maxmemory-policy noeviction"):
        assert flag in redis_command
    worker = services["worker"]
    assert worker["command"] == ["python", "manage.py", "run_worker", "events"]
    assert "container_name" not in worker and "ports" not in worker
    for name in ("web", "worker"):
        assert services[name]["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
        assert services[name]["depends_on"]["redis"]["condition"] == "service_healthy"
        assert "healthcheck" in services[name]
    assert services["migrate"]["command"][-2:] == ["migrate", "--noinput"]
    assert services["migrate"]["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert "gunicorn" in services["web"]["command"]
    assert all("healthcheck" in services[name] for name in ("postgres", "redis"))


def test_the_image_installs_the_pinned_requirements_and_collects_static_files_at_build():
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert dockerfile.startswith("# ") and "FROM python:3.11-slim" in dockerfile
    assert "pip install --no-cache-dir -r requirements.txt" in dockerfile
    assert "manage.py collectstatic --noinput" in dockerfile


def test_docker_compose_accepts_the_file():
    docker_compose = shutil.which("docker-compose")
    if docker_compose is None:
        pytest.skip("docker-compose is not installed (.ci/run installs it and validates the file)")
    result = subprocess.run(
        [docker_compose, "-f", str(ROOT / "docker-compose.yml"), "config", "--quiet"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr


def test_compose_runs_one_queue_per_worker_a_scheduler_and_cron():
    services = compose()["services"]
    assert services["worker-default"]["command"] == ["python", "manage.py", "run_worker", "default"]
    assert services["scheduler"]["command"] == ["python", "manage.py", "run_scheduler"]
    assert services["cron"]["command"] == ["python", "manage.py", "rqcron", "rollups.cron"]
    for name in ("worker", "worker-default", "scheduler", "cron"):
        assert "--with-scheduler" not in services[name]["command"]
        assert services[name]["restart"] == "unless-stopped"
        assert services[name]["environment"]["REDIS_URL"] == "redis://redis:6379/0"
