"""`manage.py up` keeps its processes running; a worker outlives a Redis outage."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
from redis import Redis
from rq import Queue

from the_eye.lib import embedded_redis
from the_eye.lib.supervisor import Supervisor

ROOT = Path(__file__).resolve().parents[2]


def wait_until(condition, *, seconds: float = 20.0, step: float = 0.1) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "gave up waiting"
        time.sleep(step)


def test_a_process_that_exits_is_restarted_and_the_others_keep_running(caplog):
    supervisor = Supervisor()
    steady = supervisor.command(
        "steady", [sys.executable, "-c", "import time; time.sleep(60)"], env=dict(os.environ), cwd="."
    )
    flaky = supervisor.command("flaky", [sys.executable, "-c", "raise SystemExit(3)"], env=dict(os.environ), cwd=".")
    steady_pid = steady.pid
    try:

        def restarted_twice() -> bool:
            supervisor.check()
            return flaky.restarts >= 2

        wait_until(restarted_twice, seconds=15)
        assert steady.alive() and steady.pid == steady_pid
        assert flaky.history[:2] == [
            "flaky exited with status 3; restarting in 1 s",
            "flaky exited with status 3; restarting in 2 s",
        ]
        assert "flaky exited with status 3" in caplog.text
    finally:
        supervisor.stop(timeout=5)
    assert not steady.alive()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def private_valkey():
    data_dir = Path(tempfile.mkdtemp(prefix="the-eye-outage-"))
    port = free_port()
    servers = [embedded_redis.start(data_dir=data_dir, port=port)]

    def restart():
        servers[-1].stop()
        time.sleep(6)
        servers.append(embedded_redis.start(data_dir=data_dir, port=port))

    yield port, restart
    servers[-1].stop()


def test_a_worker_outlives_a_redis_outage_in_the_middle_of_a_job_and_runs_jobs_once_redis_is_back(private_valkey):
    port, restart = private_valkey
    url = f"redis://127.0.0.1:{port}/0"
    env = {**os.environ, "REDIS_URL": url}
    worker = subprocess.Popen(
        [sys.executable, str(ROOT / "manage.py"), "run_worker", "default", "--verbosity", "0"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        queue = Queue("default", connection=Redis.from_url(url))
        busy = queue.enqueue("time.sleep", 3)
        wait_until(lambda: busy.get_status(refresh=True) == "started")
        restart()  # in the middle of the job, Redis stops for six seconds and comes back with its data
        assert worker.poll() is None, "the worker quit when Redis went away"
        job = queue.enqueue("os.getpid")
        wait_until(lambda: job.get_status(refresh=True) == "finished", seconds=60, step=0.5)
        assert worker.poll() is None
    finally:
        worker.kill()
        worker.wait()
