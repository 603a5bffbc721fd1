"""Delivery you can kill: one queue per worker, the reaper, a worker process killed with SIGKILL."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from rq import Worker

from events.models import Event
from events.tests.test_validation import page_view
from the_eye import queues

ROOT = Path(__file__).resolve().parents[2]


def post_batch(client, count: int = 3):
    response = client.post(
        "/api/events/", data=json.dumps([page_view() for _ in range(count)]), content_type="application/json"
    )
    assert response.status_code == 202
    return response.json()["ids"]


def take_like_a_worker_that_then_dies(queue) -> str:
    """What RQ's worker does first with a job (an atomic BLMOVE into the intermediate list),
    without anything after it: the state a worker killed at that instant leaves behind."""
    job_id = queue.connection.lmove(queue.key, queue.intermediate_queue_key).decode()
    assert queue.count == 0
    return job_id


@pytest.mark.django_db
def test_a_job_taken_by_a_worker_that_died_before_starting_it_is_requeued_and_stored(client, site, queue, run_worker):
    ids = post_batch(client)
    job_id = take_like_a_worker_that_then_dies(queue)
    assert queues.reap(queue=queue).total == 0  # first sight: a living worker gets its moment
    assert queues.reap(queue=queue, grace_seconds=0).never_started == 1
    assert queue.job_ids == [job_id]
    assert run_worker() == 1
    assert sorted(str(i) for i in Event.objects.values_list("id", flat=True)) == sorted(ids)


@pytest.mark.django_db
def test_a_job_whose_worker_stopped_sending_heartbeats_is_requeued_once(client, site, queue, run_worker):
    ids = post_batch(client)
    job_id = take_like_a_worker_that_then_dies(queue)
    # A worker that started the job and was killed: its started entry's heartbeat ran out.
    queue.connection.zadd(queue.started_job_registry.key, {f"{job_id}:execution-1": time.time() - 1})
    queue.connection.lrem(queue.intermediate_queue_key, 1, job_id)
    assert queues.reap(queue=queue).abandoned == 1
    assert queues.reap(queue=queue).abandoned == 0
    assert queue.job_ids == [job_id]
    run_worker()
    assert Event.objects.count() == len(ids)


@pytest.mark.django_db
def test_a_job_a_living_worker_is_running_is_left_alone(client, site, queue):
    post_batch(client)
    job_id = take_like_a_worker_that_then_dies(queue)
    queue.connection.lrem(queue.intermediate_queue_key, 1, job_id)
    queue.connection.zadd(queue.started_job_registry.key, {f"{job_id}:execution-1": time.time() + 30})
    assert queues.reap(queue=queue, grace_seconds=0).total == 0
    assert queue.count == 0


def start_worker_process() -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, str(ROOT / "manage.py"), "run_worker", "events", "--verbosity", "0"],
        cwd=ROOT,
        env=dict(os.environ),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )


def wait_for_worker(queue, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + 20
    while not any(w.pid == process.pid for w in Worker.all(queue=queue)):
        assert process.poll() is None, "the worker exited"
        assert time.monotonic() < deadline, "the worker did not register"
        time.sleep(0.1)


@pytest.mark.django_db
def test_the_batch_after_an_idle_worker_is_killed_with_sigkill_is_stored(client, site, queue, run_worker):
    worker = start_worker_process()
    try:
        wait_for_worker(queue, worker)
        os.kill(worker.pid, signal.SIGKILL)
        worker.wait(timeout=10)
        ids = post_batch(client)
        # Nothing of the dead worker may still be reading the queue: the job waits in it.
        time.sleep(0.5)
        assert queue.job_ids and queue.connection.llen(queue.intermediate_queue_key) == 0
        assert run_worker() == 1
        assert sorted(str(i) for i in Event.objects.values_list("id", flat=True)) == sorted(ids)
    finally:
        if worker.poll() is None:
            worker.kill()


def test_health_counts_only_workers_heard_from_lately(queue):
    from datetime import timedelta

    from rq.utils import now, utcformat

    alive = Worker([queue], connection=queue.connection, name="alive")
    alive.register_birth()
    alive.heartbeat()
    killed = Worker([queue], connection=queue.connection, name="killed")
    killed.register_birth()
    # A worker killed with SIGKILL stays registered until its key expires, silent meanwhile.
    queue.connection.hset(killed.key, "last_heartbeat", utcformat(now() - timedelta(seconds=queues.WORKER_TTL + 5)))
    assert len(Worker.all(queue=queue)) == 2
    assert queues.live_workers(queue=queue) == 1


@pytest.mark.django_db
def test_the_scheduler_process_moves_due_retries_to_the_queue_and_reaps_what_dead_workers_left(
    client, site, queue, run_worker
):
    from datetime import timedelta

    ids = post_batch(client)
    stranded = take_like_a_worker_that_then_dies(queue)
    # Seen long ago by an earlier reaper run: overdue now.
    queue.connection.set(f"the_eye:reaper:seen:{queue.name}:{stranded}", time.time() - 60)
    later = queue.enqueue_in(timedelta(seconds=1), "os.getpid")
    scheduler = subprocess.Popen(
        [sys.executable, str(ROOT / "manage.py"), "run_scheduler", "--reap-every", "0.5", "--verbosity", "0"],
        cwd=ROOT,
        env=dict(os.environ),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 20
        while set(queue.job_ids) != {stranded, later.id}:
            assert scheduler.poll() is None and time.monotonic() < deadline, queue.job_ids
            time.sleep(0.1)
    finally:
        scheduler.terminate()
        scheduler.wait(timeout=10)
    run_worker()
    assert sorted(str(i) for i in Event.objects.values_list("id", flat=True)) == sorted(ids)
