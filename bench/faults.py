"""Fault injection: does every acknowledged event get stored exactly once, whatever dies?

Runs The Eye on its own private parts — a PostgreSQL cluster made here with initdb in a temporary
folder on a free port (never the machine's shared server) and a private Valkey server — with
gunicorn, two `events` workers, a `default` worker and the scheduler under the same supervisor
`manage.py up` uses. Browser-like clients (Origin, a Chrome User-Agent, text/plain bodies with
client event ids, resending until a 2xx like the tracker) send phases of events; during each phase
one fault is injected:

  workhorse     SIGKILL to a work-horse in the middle of a job
  idle-worker   SIGKILL to an idle worker, then the next batches
  busy-worker   SIGKILL to a worker and its work-horse in the middle of a job
  scheduler     SIGKILL to the scheduler (retries wait for it)
  redis         the queue's Redis stopped for a few seconds, then started again
  postgres      PostgreSQL stopped for a few seconds, then started again
  both          both stopped together: the collector answers 503 + Retry-After, clients resend

each `--repeats` times. After the last phase it waits until everything acknowledged is stored (or
`--settle` seconds pass), then prints per fault: sent, acknowledged, stored, lost (acknowledged
but not stored) and duplicated (page views the rollups counted beyond the stored events: a job
that ran twice and counted twice). Target: lost = 0 and duplicated = 0.

    python bench/faults.py [--events-per-phase 2000] [--repeats 2] [--batch 50] [--phase-seconds 12]
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import ROOT, free_port, wait_until  # noqa: E402

from the_eye.lib import embedded_redis  # noqa: E402
from the_eye.lib.supervisor import Supervisor  # noqa: E402

FAULTS = ["workhorse", "idle-worker", "busy-worker", "scheduler", "redis", "postgres", "both"]
ORIGIN = "https://learn.example.org"
CHROME = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"
OUTAGE_SECONDS = 5.0


# --- Private PostgreSQL -----------------------------------------------------------------------


class PrivatePostgres:
    """A throw-away cluster: initdb in a temporary folder, its own port, trust auth on 127.0.0.1."""

    def __init__(self) -> None:
        found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"), key=lambda p: int(p.split("/")[4]))
        pg_ctl = found[-1] if found else shutil.which("pg_ctl")
        if not pg_ctl:
            raise SystemExit("PostgreSQL's server programs (initdb, pg_ctl) are not installed")
        self.bin = Path(pg_ctl).parent
        self.dir = Path(tempfile.mkdtemp(prefix="the-eye-faults-pg-"))
        self.data = self.dir / "data"
        self.port = free_port()
        # PostgreSQL refuses to run as root: run its programs as the `postgres` user then.
        self.as_user = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        if self.as_user:
            shutil.chown(self.dir, user="postgres")
        self._run("initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync")
        self.start()

    @property
    def url(self) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, program: str, *args: str) -> None:
        subprocess.run([*self.as_user, str(self.bin / program), *args], check=True, capture_output=True)

    def start(self) -> None:
        options = f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=on"
        self._run("pg_ctl", "-D", str(self.data), "-o", options, "-l", str(self.dir / "log"), "-w", "start")

    def stop(self) -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop")

    def destroy(self) -> None:
        try:
            self.stop()
        except subprocess.CalledProcessError:
            pass
        shutil.rmtree(self.dir, ignore_errors=True)


# --- The site under test ----------------------------------------------------------------------


class Stack:
    def __init__(self, *, retry_intervals: str) -> None:
        self.pg = PrivatePostgres()
        self.valkey_dir = Path(tempfile.mkdtemp(prefix="the-eye-faults-valkey-"))
        self.valkey_port = free_port()
        self.valkey = embedded_redis.start(data_dir=self.valkey_dir, port=self.valkey_port)
        self.web_port = free_port()
        self.env = {
            **os.environ,
            "DATABASE_URL": self.pg.url,
            "REDIS_URL": f"redis://127.0.0.1:{self.valkey_port}/0",
            "EVENTS_JOB_RETRY_INTERVALS": retry_intervals,
            "LOG_LEVEL": "WARNING",
            "PYTHONPATH": str(ROOT),
        }
        manage = [sys.executable, str(ROOT / "manage.py")]
        subprocess.run([*manage, "migrate", "--noinput", "-v", "0"], env=self.env, cwd=ROOT, check=True)
        code = (
            "from events.models import Site; "
            f"s = Site.objects.create(name='Faults', is_default=True, allowed_origins=[{ORIGIN!r}], "
            "allow_custom_events=False); print(s.pk, s.site_id)"
        )
        out = subprocess.run(
            [*manage, "shell", "-c", code], env=self.env, cwd=ROOT, check=True, capture_output=True, text=True
        )
        pk, self.site_id = out.stdout.split()[-2:]
        self.site_pk = int(pk)
        self.supervisor = Supervisor()
        self.log = open(self.valkey_dir / "processes.log", "ab")  # noqa: SIM115 - lives as long as the stack
        web = [sys.executable, "-m", "gunicorn", "the_eye.wsgi", "--bind", f"127.0.0.1:{self.web_port}"]
        web += ["--workers", "2", "--threads", "4"]
        self._command("web", web)
        for n in (1, 2):
            self._command(f"worker-events-{n}", [*manage, "run_worker", "events"])
        self._command("worker-default", [*manage, "run_worker", "default"])
        self._command("scheduler", [*manage, "run_scheduler", "--reap-every", "2"])
        self._running = True
        self._watcher = threading.Thread(target=self._watch, daemon=True)
        self._watcher.start()
        wait_until(self._web_ready, timeout=60, interval=0.3)

    def _command(self, name: str, argv: list[str]) -> None:
        self.supervisor.add(
            name,
            lambda: subprocess.Popen(
                argv, env=self.env, cwd=ROOT, stdout=self.log, stderr=self.log, start_new_session=True
            ),
        )

    def _watch(self) -> None:
        while self._running:
            self.supervisor.check()
            time.sleep(0.2)

    def _web_ready(self) -> bool:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{self.web_port}/health/", timeout=2)
            return True
        except OSError:
            return False

    def workers(self) -> list:
        return [c for c in self.supervisor.children if c.name.startswith("worker-events") and c.alive()]

    def queue_busy(self) -> bool:
        """Jobs are waiting in, or being taken from, the `events` queue."""
        from redis import Redis
        from redis.exceptions import RedisError

        try:
            redis = Redis(port=self.valkey_port)
            keys = ("rq:queue:events", "rq:queue:events:intermediate")
            return any(redis.llen(key) for key in keys) or bool(redis.zcard("rq:wip:events"))
        except RedisError:
            return True

    @staticmethod
    def horse_of(pid: int) -> int | None:
        try:
            children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        except OSError:
            return None
        return int(children[0]) if children else None

    def restart_redis(self) -> None:
        self.valkey.stop()  # SIGTERM: Valkey writes its append-only file out and exits
        time.sleep(OUTAGE_SECONDS)
        self.valkey = embedded_redis.start(data_dir=self.valkey_dir, port=self.valkey_port)

    def restart_postgres(self) -> None:
        self.pg.stop()
        time.sleep(OUTAGE_SECONDS)
        self.pg.start()

    def close(self) -> None:
        self._running = False
        self.supervisor.stop(timeout=10)
        try:
            self.valkey.stop()
        except Exception:  # noqa: BLE001 - already stopped
            pass
        self.pg.destroy()
        shutil.rmtree(self.valkey_dir, ignore_errors=True)


# --- Faults -------------------------------------------------------------------------------------


def inject(stack: Stack, fault: str, gate: threading.Event) -> str:
    """Cause one fault; return what was done."""
    if fault in ("workhorse", "busy-worker"):
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            for child in stack.workers():
                horse = stack.horse_of(child.pid)
                if horse:
                    if fault == "workhorse":
                        os.kill(horse, signal.SIGKILL)
                        return f"killed work-horse {horse} of {child.name}"
                    os.killpg(child.pid, signal.SIGKILL)  # the worker and its horse share a group
                    return f"killed {child.name} ({child.pid}) and its work-horse {horse}"
            time.sleep(0.005)
        return "no busy worker seen"
    if fault == "idle-worker":
        gate.clear()  # hold the senders until the queue is drained, kill an idle worker, send again
        try:
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline:
                if stack.queue_busy():
                    time.sleep(0.1)
                    continue
                for child in stack.workers():
                    if stack.horse_of(child.pid) is None:
                        os.kill(child.pid, signal.SIGKILL)
                        return f"killed idle {child.name} ({child.pid})"
                time.sleep(0.05)
            return "no idle worker seen"
        finally:
            gate.set()
    if fault == "scheduler":
        child = stack.supervisor.child("scheduler")
        os.kill(child.pid, signal.SIGKILL)
        return f"killed scheduler ({child.pid})"
    if fault == "redis":
        stack.restart_redis()
        return f"Redis stopped for {OUTAGE_SECONDS:.0f} s"
    if fault == "postgres":
        stack.restart_postgres()
        return f"PostgreSQL stopped for {OUTAGE_SECONDS:.0f} s"
    if fault == "both":
        stack.valkey.stop()
        stack.pg.stop()
        time.sleep(OUTAGE_SECONDS)
        stack.pg.start()
        stack.valkey = embedded_redis.start(data_dir=stack.valkey_dir, port=stack.valkey_port)
        return f"Redis and PostgreSQL stopped together for {OUTAGE_SECONDS:.0f} s"
    raise ValueError(fault)


# --- Senders ----------------------------------------------------------------------------------


@dataclass
class Phase:
    fault: str
    repeat: int
    sent: set[str] = field(default_factory=set)
    acked: set[str] = field(default_factory=set)
    refused: int = 0
    note: str = ""
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def path(self) -> str:
        return f"/faults/{self.fault}/{self.repeat}"


def make_batch(phase: Phase, size: int) -> list[dict]:
    session = uuid.uuid4().hex
    now = datetime.now(UTC).isoformat()
    return [
        {
            "id": str(uuid.uuid4()),
            "session_id": session,
            "category": "page_interaction",
            "name": "page_view",
            "data": {"host": "learn.example.org", "path": phase.path},
            "timestamp": now,
            "url": f"{ORIGIN}{phase.path}",
        }
        for _ in range(size)
    ]


def deliver(stack: Stack, phase: Phase, batch: list[dict], gate: threading.Event) -> None:
    """POST until a 2xx, as the tracker does (its outbox resends on errors, 429 and 5xx)."""
    body = json.dumps(batch).encode()
    ids = [e["id"] for e in batch]
    with phase.lock:
        phase.sent.update(ids)
    while True:
        gate.wait()
        request = urllib.request.Request(
            f"http://127.0.0.1:{stack.web_port}/api/events/",
            data=body,
            headers={
                "Content-Type": "text/plain;charset=UTF-8",
                "Origin": ORIGIN,
                "User-Agent": CHROME,
                "X-Site-Id": stack.site_id,
                "Accept-Language": "en-IN,en;q=0.9",
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                if 200 <= response.status < 300:
                    with phase.lock:
                        phase.acked.update(ids)
                    return
        except urllib.error.HTTPError as error:
            if error.code == 400:
                raise SystemExit(f"the collector refused a valid batch: {error.read()[:300]!r}") from None
            pause = float(error.headers.get("Retry-After") or 0.5)
        except OSError:
            pause = 0.5
        with phase.lock:
            phase.refused += 1
        time.sleep(min(pause, 2.0))


def run_phase(stack: Stack, phase: Phase, *, events: int, batch: int, senders: int, seconds: float) -> None:
    batches = [make_batch(phase, batch) for _ in range(max(1, events // batch))]
    # Paced so that sending goes on through the fault (an outage lasts OUTAGE_SECONDS).
    pause = seconds * senders / len(batches)
    gate = threading.Event()
    gate.set()
    work = list(batches)
    work_lock = threading.Lock()

    def sender() -> None:
        while True:
            with work_lock:
                if not work:
                    return
                item = work.pop()
            began = time.monotonic()
            deliver(stack, phase, item, gate)
            time.sleep(max(0.0, pause - (time.monotonic() - began)))

    threads = [threading.Thread(target=sender) for _ in range(senders)]
    for thread in threads:
        thread.start()
    # The fault strikes once about a third of the phase is acknowledged.
    wait_until(lambda: len(phase.acked) >= events // 3, timeout=300, interval=0.01)
    phase.note = inject(stack, phase.fault, gate)
    for thread in threads:
        thread.join()


# --- Counting ---------------------------------------------------------------------------------


def stored_and_counted(stack: Stack, phases: list[Phase]) -> dict[str, tuple[int, int]]:
    """Per phase path: (acknowledged ids found stored, page views the rollups counted)."""
    import psycopg

    result = {}
    with psycopg.connect(stack.pg.url.replace("postgres://", "postgresql://")) as conn:
        for phase in phases:
            stored = conn.execute(
                "SELECT count(*) FROM events_event WHERE id = ANY(%s::uuid[])", [list(phase.acked)]
            ).fetchone()[0]
            counted = conn.execute(
                "SELECT coalesce(sum(pageviews), 0) FROM rollups_dailymetric "
                "WHERE site_id = %s AND dimension = 'page' AND value = %s",
                [stack.site_pk, phase.path],
            ).fetchone()[0]
            result[phase.path] = (stored, int(counted))
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events-per-phase", type=int, default=2000)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--batch", type=int, default=50)
    parser.add_argument("--senders", type=int, default=4)
    parser.add_argument("--phase-seconds", type=float, default=12, help="how long each phase sends")
    parser.add_argument("--settle", type=float, default=600, help="most seconds to wait for storing at the end")
    parser.add_argument("--faults", default=",".join(FAULTS))
    # Short pauses between retries so the run ends soon after the last outage (production: minutes).
    parser.add_argument("--retry-intervals", default="1,2,3,5,8,10,15,20,30,30,30,30")
    args = parser.parse_args()
    faults = [f for f in args.faults.split(",") if f]
    unknown = set(faults) - set(FAULTS)
    if unknown:
        raise SystemExit(f"unknown faults: {', '.join(sorted(unknown))}")

    started = time.monotonic()
    stack = Stack(retry_intervals=args.retry_intervals)
    phases: list[Phase] = []
    try:
        print(f"PostgreSQL {stack.pg.url} (private), Valkey port {stack.valkey_port}, web port {stack.web_port}")
        for repeat in range(1, args.repeats + 1):
            for fault in faults:
                phase = Phase(fault=fault, repeat=repeat)
                phases.append(phase)
                run_phase(
                    stack,
                    phase,
                    events=args.events_per_phase,
                    batch=args.batch,
                    senders=args.senders,
                    seconds=args.phase_seconds,
                )
                print(f"  {fault:<12} #{repeat}: {phase.note}; {len(phase.acked)} acknowledged", flush=True)
        acked = sum(len(p.acked) for p in phases)
        print(f"waiting for {acked} acknowledged events to be stored…", flush=True)
        deadline = time.monotonic() + args.settle
        counts = stored_and_counted(stack, phases)
        while sum(s for s, _ in counts.values()) < acked and time.monotonic() < deadline:
            time.sleep(2)
            counts = stored_and_counted(stack, phases)
        time.sleep(3)  # a job re-run late would show as a duplicate count: give it the chance
        counts = stored_and_counted(stack, phases)
        restarts = {c.name: c.restarts for c in stack.supervisor.children}
    finally:
        stack.close()

    totals: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0, 0, 0, 0])
    for phase in phases:
        stored, counted = counts[phase.path]
        row = totals[phase.fault]
        row[0] += len(phase.sent)
        row[1] += len(phase.acked)
        row[2] += stored
        row[3] += len(phase.acked) - stored
        row[4] += max(0, counted - stored)
        row[5] += phase.refused
    print()
    print(f"{'fault':<13}{'times':>6}{'sent':>8}{'acked':>8}{'stored':>8}{'lost':>6}{'dup':>5}{'resent':>8}")
    for fault in faults:
        sent, ack, stored, lost, dup, refused = totals[fault]
        print(f"{fault:<13}{args.repeats:>6}{sent:>8}{ack:>8}{stored:>8}{lost:>6}{dup:>5}{refused:>8}")
    all_rows = list(totals.values())
    print(
        f"{'all':<13}{len(phases):>6}"
        + "".join(f"{sum(r[i] for r in all_rows):>{w}}" for i, w in enumerate((8, 8, 8, 6, 5, 8)))
    )
    print(f"\nrestarts by the supervisor: {restarts}")
    print("`resent`: requests answered with an error or no answer, then sent again by the client")
    print(f"took {time.monotonic() - started:.0f} s")
    lost = sum(r[3] for r in all_rows)
    dup = sum(r[4] for r in all_rows)
    sys.exit(0 if lost == 0 and dup == 0 else 1)


if __name__ == "__main__":
    main()
