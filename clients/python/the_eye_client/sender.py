"""Deliver a host site's events to The Eye from one background thread, never on the request path.

`BackgroundSender.submit()` only appends to a bounded in-memory buffer (a few microseconds under
a lock). One daemon thread per process cuts the buffer into batches — `batch_size` events, or
whatever is there after `interval` seconds — and hands each to a transport:

- `HttpTransport` POSTs the batch to `<collector>/api/events/` with the site's server key;
- collector "local" (inside The Eye itself): the transport The Eye registers with
  `use_local_transport()`, which hands the batch straight to its write path.

What happens to a batch depends on the answer. Delivered: forgotten. Collector unreachable, a
timeout, 5xx, 408 or 429: put back at the front of the buffer and tried again after a growing pause
(1 s, 2 s, 4 s, … up to `max_backoff`). 400 naming bad events: those events are logged and dropped,
the rest sent again at once. 413: the batch size is halved. Any other 4xx (a wrong server key, …):
logged and dropped, since sending it again can never succeed. Events carry ids, so a batch sent
twice (a retry after a lost answer) is stored once.

Memory stays bounded: past `capacity` held events, new events are dropped and counted (logged at
most once a minute). On process exit the sender tries to deliver what it holds for a few seconds;
with a spool folder set, whatever is still undelivered is written there as JSON and picked up by
the next process that starts a sender (a graceful restart loses nothing; a crash loses the buffer).
"""

from __future__ import annotations

import atexit
import glob
import http.client
import json
import logging
import os
import random
import threading
import time
import urllib.error
import urllib.request
import weakref
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, Protocol

log = logging.getLogger(__name__)

USER_AGENT = "the-eye-middleware/1"


@dataclass(frozen=True)
class Outcome:
    """What became of one delivery attempt."""

    kind: Literal["sent", "retry", "drop", "partial", "too_large"]
    reason: str = ""
    bad_indices: tuple[int, ...] = ()


class Transport(Protocol):
    def send(self, events: list[dict[str, Any]]) -> Outcome: ...


def judge_rejection(status: int, body: Any) -> Outcome:
    """Decide what to do with a batch the collector refused, from its status and JSON body."""
    detail = body.get("detail", "") if isinstance(body, dict) else ""
    if status >= 500 or status in (408, 429):
        return Outcome("retry", f"collector answered {status} {detail}".strip())
    if status == 413:
        return Outcome("too_large", f"collector answered 413 {detail}".strip())
    errors = body.get("errors") if isinstance(body, dict) else None
    if status == 400 and errors and all(isinstance(e, dict) and isinstance(e.get("index"), int) for e in errors):
        rules = "; ".join(f"event {e['index']}: {e.get('field')} {e.get('rule')}" for e in errors[:5])
        return Outcome("partial", rules, tuple(sorted({e["index"] for e in errors})))
    rules = "; ".join(f"{e.get('field')} {e.get('rule')}" for e in errors or [] if isinstance(e, dict))
    return Outcome("drop", f"collector answered {status}: {detail} {rules}".strip())


class _RefuseRedirects(urllib.request.HTTPRedirectHandler):
    # urllib would follow a redirect of a POST as a GET without the body; a redirect here means
    # the collector URL is wrong (http → https, a missing prefix), which the log should say.
    def redirect_request(self, req, fp, code, msg, headers, newurl):  # type: ignore[no-untyped-def]
        return None


class HttpTransport:
    """POSTs a batch to The Eye's `POST /api/events/` with `Authorization: Bearer <server key>`."""

    def __init__(self, *, collector_url: str, server_key: str, timeout: float) -> None:
        self.endpoint = collector_url.rstrip("/") + "/api/events/"
        self._headers = {
            "Content-Type": "application/json",
            "Authorization": f"Bearer {server_key}",
            "User-Agent": USER_AGENT,
        }
        self._timeout = timeout
        self._opener = urllib.request.build_opener(_RefuseRedirects)

    def send(self, events: list[dict[str, Any]]) -> Outcome:
        body = json.dumps(events, separators=(",", ":"), default=str).encode()
        request = urllib.request.Request(self.endpoint, data=body, headers=self._headers, method="POST")
        try:
            with self._opener.open(request, timeout=self._timeout) as response:
                response.read()
        except urllib.error.HTTPError as error:
            try:
                answer = json.loads(error.read() or b"null")
            except (ValueError, OSError, http.client.HTTPException):
                answer = None
            if 300 <= error.code < 400:
                where = error.headers.get("Location", "?")
                return Outcome("drop", f"collector redirected to {where}; set THE_EYE_COLLECTOR_URL to that address")
            return judge_rejection(error.code, answer)
        except (OSError, http.client.HTTPException, ValueError) as error:
            # URLError, refused connections, time-outs and broken answers are all OSErrors or
            # HTTPExceptions: the collector may be back later.
            return Outcome("retry", f"collector unreachable at {self.endpoint}: {error}")
        return Outcome("sent")


LocalTransportFactory = Callable[[str], Transport]  # server key → transport
_local_transport: LocalTransportFactory | None = None


def use_local_transport(factory: LocalTransportFactory) -> None:
    """Say how collector "local" delivers: The Eye registers its in-process write path here."""
    global _local_transport
    _local_transport = factory


_SENDERS: weakref.WeakSet[BackgroundSender] = weakref.WeakSet()


class BackgroundSender:
    """A bounded buffer of events and the one daemon thread that delivers it in batches."""

    def __init__(
        self,
        *,
        transport: Transport,
        batch_size: int = 100,
        interval: float = 2.0,
        capacity: int = 10_000,
        max_backoff: float = 60.0,
        spool_dir: str | Path | None = None,
    ) -> None:
        self.transport = transport
        self.batch_size = max(1, batch_size)
        self.interval = interval
        self.capacity = capacity
        self.max_backoff = max_backoff
        self.spool_dir = Path(spool_dir) if spool_dir else None
        self._reset()
        _SENDERS.add(self)

    def _reset(self) -> None:
        self._cond = threading.Condition()
        self._buffer: deque[dict[str, Any]] = deque()
        self._buffer_since = 0.0  # monotonic time the oldest waiting event arrived
        self._sending: list[dict[str, Any]] | None = None
        self._held = 0  # buffer + the batch being sent; bounded by capacity
        self._retry_at = 0.0
        self._failures = 0  # consecutive failed attempts, for the pause
        self._attempts_failed = 0  # all failed attempts ever; flush() watches it
        self._flushing = 0
        self._stopping = False
        self._thread: threading.Thread | None = None
        self._last_drop_log = 0.0
        self.dropped = 0
        self.delivered = 0

    # --- the request side: cheap, never raises on a full buffer --------------------------------

    def submit(self, event: dict[str, Any]) -> bool:
        """Queue one event for delivery; return False (and count it) when the buffer is full.

        Takes a lock and appends; starts the thread on first use. Never blocks on the network.
        """
        with self._cond:
            if self._stopping:  # the process is exiting
                return False
            if self._held >= self.capacity:
                self.dropped += 1
                now = time.monotonic()
                if now - self._last_drop_log > 60:
                    self._last_drop_log = now
                    log.warning(
                        "the event buffer is full (%d events); %d events dropped so far", self.capacity, self.dropped
                    )
                return False
            if not self._buffer:
                self._buffer_since = time.monotonic()
            self._buffer.append(event)
            self._held += 1
            if self._thread is None:
                self._start()
            # Wake the thread only when its deadline changes: the first event starts the
            # interval, a full batch ends it. Other submits cost no context switch (while the
            # collector is down the buffer stays above a batch, and waking it each time would).
            if len(self._buffer) in (1, self.batch_size):
                self._cond.notify_all()
        return True

    @property
    def closed(self) -> bool:
        return self._stopping

    @property
    def held(self) -> int:
        """Events waiting for delivery (including a batch being sent)."""
        with self._cond:
            return self._held

    def flush(self, *, timeout: float) -> bool:
        """Try to deliver everything held now; True once all of it is delivered or dropped.

        Skips any pause after failures. Returns False at the deadline, or as soon as an attempt
        fails (the collector is still down; the events stay held and are retried later).
        """
        deadline = time.monotonic() + timeout
        with self._cond:
            if self._thread is None and not self._stopping and (self._held or self.spool_dir):
                self._start()  # also picks up events spooled by a previous process
            if not self._held:
                return True
            self._flushing += 1
            self._retry_at = 0.0
            failed_before = self._attempts_failed
            self._cond.notify_all()
            try:
                while self._held and self._attempts_failed == failed_before:
                    remaining = deadline - time.monotonic()
                    if remaining <= 0:
                        break
                    self._cond.wait(remaining)
                return not self._held
            finally:
                self._flushing -= 1

    def close(self, *, timeout: float) -> int:
        """Flush for at most `timeout` seconds, stop the thread, spool what is left; return its count."""
        self.flush(timeout=timeout)
        with self._cond:
            self._stopping = True
            left = [*(self._sending or []), *self._buffer]
            self._buffer.clear()
            self._held = 0
            self._cond.notify_all()
        if left and self.spool_dir:
            self._spool(left)
        elif left:
            log.warning(
                "%d events were not delivered before exit and are lost (set THE_EYE_SPOOL_DIR to keep them)", len(left)
            )
        return len(left)

    # --- the thread --------------------------------------------------------------------------

    def _start(self) -> None:
        # Called with the lock held.
        self._take_spooled()
        self._thread = threading.Thread(target=self._run, name="the-eye-sender", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while True:
            with self._cond:
                batch = self._next_batch()
                if batch is None:
                    return
            try:
                outcome = self.transport.send(batch)
            except Exception as error:  # a bug in a transport must not kill the thread
                log.exception("sending events failed")
                outcome = Outcome("retry", repr(error))
            with self._cond:
                self._settle(batch, outcome)
                self._cond.notify_all()

    def _next_batch(self) -> list[dict[str, Any]] | None:
        while not self._stopping:
            now = time.monotonic()
            due = self._retry_at
            if not (self._flushing or len(self._buffer) >= self.batch_size):
                due = max(due, self._buffer_since + self.interval)
            if self._buffer and now >= due:
                count = min(self.batch_size, len(self._buffer))
                self._sending = [self._buffer.popleft() for _ in range(count)]
                return self._sending
            self._cond.wait(max(0.0, due - now) if self._buffer else None)
        return None

    def _settle(self, batch: list[dict[str, Any]], outcome: Outcome) -> None:
        self._sending = None
        if self._stopping:  # close() has taken (and spooled) this batch already
            return
        if outcome.kind == "retry":
            self._failures += 1
            self._attempts_failed += 1
            pause = min(self.max_backoff, 2 ** (self._failures - 1)) * random.uniform(0.8, 1.2)
            self._retry_at = time.monotonic() + pause
            self._put_back(batch)
            log.warning("%s; %d events kept, next try in %.0f s", outcome.reason, self._held, pause)
            return
        self._failures = 0
        self._retry_at = 0.0
        if outcome.kind == "partial":
            bad = set(outcome.bad_indices)
            kept = [e for i, e in enumerate(batch) if i not in bad]
            log.error(
                "the collector refused %d of %d events (%s); sending the rest again",
                len(bad),
                len(batch),
                outcome.reason,
            )
            self._held -= len(batch) - len(kept)
            self._put_back(kept)
        elif outcome.kind == "too_large" and len(batch) > 1:
            self.batch_size = max(1, len(batch) // 2)
            log.warning("%s; sending batches of %d events from now on", outcome.reason, self.batch_size)
            self._put_back(batch)
        elif outcome.kind == "sent":
            self._held -= len(batch)
            self.delivered += len(batch)
        else:
            self._held -= len(batch)
            log.error("%d events dropped: %s", len(batch), outcome.reason)

    def _put_back(self, batch: list[dict[str, Any]]) -> None:
        self._buffer.extendleft(reversed(batch))
        self._buffer_since = 0.0  # due as soon as the pause ends

    # --- spool -------------------------------------------------------------------------------

    def _spool(self, events: list[dict[str, Any]]) -> None:
        assert self.spool_dir is not None
        try:
            self.spool_dir.mkdir(parents=True, exist_ok=True)
            final = self.spool_dir / f"the-eye-{os.getpid()}-{time.time_ns()}.json"
            partial = final.with_suffix(".tmp")
            partial.write_text(json.dumps(events, separators=(",", ":"), default=str))
            os.replace(partial, final)  # readers never see half a file
            log.warning("%d undelivered events saved to %s", len(events), final)
        except OSError as error:
            log.error("%d undelivered events could not be saved to %s: %s", len(events), self.spool_dir, error)

    def _take_spooled(self) -> None:
        # Several processes may start at once: the atomic rename lets exactly one claim a file.
        if not self.spool_dir:
            return
        for name in sorted(glob.glob(str(self.spool_dir / "the-eye-*.json"))):
            claimed = f"{name}.claimed-{os.getpid()}"
            try:
                os.rename(name, claimed)
            except OSError:
                continue
            try:
                events = json.loads(Path(claimed).read_text())
                room = max(0, self.capacity - self._held)
                taken = [e for e in events if isinstance(e, dict)][:room]
                self._buffer.extendleft(reversed(taken))
                self._held += len(taken)
                self._buffer_since = 0.0
                os.unlink(claimed)
                log.info("%d spooled events from %s queued for delivery", len(taken), name)
            except (OSError, ValueError) as error:
                log.error("spooled events in %s could not be read: %s", claimed, error)


@dataclass(frozen=True)
class SenderConfig:
    collector_url: str
    server_key: str
    batch_size: int = 100
    interval: float = 2.0
    capacity: int = 10_000
    timeout: float = 5.0
    max_backoff: float = 60.0
    spool_dir: str = ""


_REGISTRY: dict[SenderConfig, BackgroundSender] = {}
_REGISTRY_LOCK = threading.Lock()


def get_sender(*, config: SenderConfig) -> BackgroundSender:
    """The process's one sender for this configuration, created on first use.

    Every middleware instance with the same settings shares it, so a process runs one thread.
    """
    with _REGISTRY_LOCK:
        sender = _REGISTRY.get(config)
        if sender is None or sender.closed:
            transport: Transport
            if config.collector_url == "local":
                if _local_transport is None:
                    raise RuntimeError('THE_EYE_COLLECTOR_URL "local" works only inside The Eye itself')
                transport = _local_transport(config.server_key)
            else:
                transport = HttpTransport(
                    collector_url=config.collector_url, server_key=config.server_key, timeout=config.timeout
                )
            sender = BackgroundSender(
                transport=transport,
                batch_size=config.batch_size,
                interval=config.interval,
                capacity=config.capacity,
                max_backoff=config.max_backoff,
                spool_dir=config.spool_dir or None,
            )
            _REGISTRY[config] = sender
        return sender


def close_all(*, timeout: float, senders: Sequence[BackgroundSender] | None = None) -> None:
    """Flush and stop every sender of this process (each gets up to `timeout` seconds)."""
    for sender in list(senders if senders is not None else _SENDERS):
        try:
            sender.close(timeout=timeout)
        except Exception:
            log.exception("closing the event sender failed")


def _close_at_exit() -> None:
    if not _SENDERS:
        return  # nothing to flush (and importing Django this late can fail at shutdown)
    try:
        from django.conf import settings

        timeout = float(getattr(settings, "THE_EYE_EXIT_FLUSH_SECONDS", 3.0))
    except Exception:
        timeout = 3.0
    close_all(timeout=timeout)


def _after_fork_in_child() -> None:
    # A forked worker (gunicorn, uWSGI) inherits the parent's buffer and lock but not its thread:
    # start empty, the parent still delivers its own events.
    for sender in list(_SENDERS):
        sender._reset()


atexit.register(_close_at_exit)
os.register_at_fork(after_in_child=_after_fork_in_child)
