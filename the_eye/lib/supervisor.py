"""Keep a set of child processes running: restart each one that exits, with a growing pause.

`manage.py up` runs the site's processes (web, workers, scheduler, cron, the embedded Valkey)
under one `Supervisor`, so one process that crashes or is killed is restarted — logged with its
exit status and the pause — while the others go on serving. `bench/faults.py` uses it too, to
kill parts of a running site and watch it heal. Nothing here touches the database.
"""

from __future__ import annotations

import logging
import signal
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field

log = logging.getLogger("the_eye.supervisor")

FIRST_PAUSE = 1.0
LONGEST_PAUSE = 60.0
# A process that ran this long before exiting starts again after the first pause, not a longer one.
STABLE_SECONDS = 60.0


@dataclass
class Child:
    name: str
    start: Callable[[], subprocess.Popen]
    process: subprocess.Popen | None = None
    started_at: float = 0.0
    restarts: int = 0
    pause: float = FIRST_PAUSE
    restart_at: float | None = None
    history: list[str] = field(default_factory=list)

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process is not None else None

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None


class Supervisor:
    """Start children, restart the ones that exit (with backoff), stop them all in reverse order."""

    def __init__(self) -> None:
        self.children: list[Child] = []
        self.stopping = False

    def add(self, name: str, start: Callable[[], subprocess.Popen]) -> Child:
        child = Child(name=name, start=start)
        self._start(child)
        self.children.append(child)
        return child

    def command(self, name: str, argv: list[str], *, env: dict[str, str], cwd: str) -> Child:
        """Supervise a plain command; it gets its own process group, so a terminal's Ctrl-C
        reaches it only through `stop()`, in order."""
        return self.add(name, lambda: subprocess.Popen(argv, env=env, cwd=cwd, start_new_session=True))

    def child(self, name: str) -> Child:
        return next(c for c in self.children if c.name == name)

    def _start(self, child: Child) -> None:
        child.process = child.start()
        child.started_at = time.monotonic()
        child.restart_at = None

    def check(self) -> None:
        """One round: notice exits and restart what is due. Call it about twice a second."""
        if self.stopping:
            return
        now = time.monotonic()
        for child in self.children:
            if child.restart_at is None and not child.alive():
                status = child.process.returncode if child.process is not None else None
                if now - child.started_at >= STABLE_SECONDS:
                    child.pause = FIRST_PAUSE
                child.restart_at = now + child.pause
                message = f"{child.name} exited with status {status}; restarting in {child.pause:.0f} s"
                log.warning(message)
                child.history.append(message)
                child.pause = min(child.pause * 2, LONGEST_PAUSE)
            elif child.restart_at is not None and now >= child.restart_at:
                try:
                    self._start(child)
                except Exception as error:  # noqa: BLE001 - a failed start is retried like an exit
                    log.error("%s could not start (%s)", child.name, error)
                    child.process = None
                    child.started_at = now
                    continue
                child.restarts += 1
                log.warning("%s restarted (pid %s, restart %d)", child.name, child.pid, child.restarts)

    def run(self, *, interval: float = 0.5) -> None:
        while not self.stopping:
            self.check()
            time.sleep(interval)

    def stop(self, *, timeout: float = 15.0) -> None:
        """Stop the children one at a time, newest first: SIGTERM, then SIGKILL after `timeout`.

        One at a time, so what others depend on (the queue server, added first) outlives them.
        """
        self.stopping = True
        for child in reversed(self.children):
            if child.process is None:
                continue
            if child.alive():
                child.process.send_signal(signal.SIGTERM)
            try:
                child.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                child.process.kill()
                child.process.wait()
