"""Shared set-up for benchmarks: a fresh database, a queue server, Django, child processes.

Benchmarks are scripts, not tests: each prints absolute figures and a ratio against a baseline
measured in the same run, because these machines are noisy.
"""

from __future__ import annotations

import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PG_ADMIN_URL = "postgres://postgres@127.0.0.1:5432/postgres"


def fresh_postgres(name: str) -> str:
    """Drop and create database `name` on the local PostgreSQL server; return its URL."""
    import psycopg

    with psycopg.connect(PG_ADMIN_URL.replace("postgres://", "postgresql://"), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    return PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name


def fresh_sqlite(name: str) -> str:
    path = ROOT / "var" / f"{name}.sqlite3"
    for suffix in ("", "-wal", "-shm"):
        Path(str(path) + suffix).unlink(missing_ok=True)
    return f"sqlite:///{path}"


def start_queue_server():
    """Use $REDIS_URL when set, else start an embedded Valkey server; returns (url, server|None)."""
    if os.environ.get("REDIS_URL"):
        return os.environ["REDIS_URL"], None
    from the_eye.lib import embedded_redis

    server = embedded_redis.start(data_dir=Path(tempfile.mkdtemp(prefix="bench-valkey-")), persist=False)
    return server.connection_url + "/0", server


def setup_django(*, database_url: str, redis_url: str) -> None:
    os.environ["DATABASE_URL"] = database_url
    os.environ["REDIS_URL"] = redis_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "the_eye.settings")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)


def child_env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), str(ROOT / "bench")])
    return env


def spawn(argv: list[str]) -> subprocess.Popen:
    return subprocess.Popen(argv, cwd=ROOT, env=child_env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def wait_until(check: Callable[[], bool], *, timeout: float, interval: float = 0.05) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise TimeoutError("the benchmark waited too long")
        time.sleep(interval)


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def median(values: list[float]) -> float:
    return statistics.median(values)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_web(*, port: int, threads: int) -> subprocess.Popen:
    """Run The Eye under gunicorn (one worker) on `port` and wait until /health/ answers."""
    web = spawn(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "the_eye.wsgi",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "1",
            "--threads",
            str(threads),
        ]
    )

    wait_for_health(port=port, timeout=30)
    return web


def wait_for_health(*, port: int, timeout: float) -> None:
    """Wait until The Eye on `port` answers /health/ (raises after `timeout` seconds)."""

    def ready() -> bool:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/health/", timeout=1)
            return True
        except OSError:
            return False

    wait_until(ready, timeout=timeout, interval=0.2)
