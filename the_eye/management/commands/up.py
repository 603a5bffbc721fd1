"""Run the whole site in the foreground: queue server, worker, scheduler and web server.

Started by `bin/up` (the README's first command). When `REDIS_URL` is unset it starts the embedded
Valkey server first. Ctrl-C (or SIGTERM) stops every part, newest first, and waits for them.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand

from events.models import Site
from the_eye import demo
from the_eye.lib import embedded_redis


class Command(BaseCommand):
    help = "Migrate, load the demo, and run web server + RQ worker (+ embedded Valkey) until Ctrl-C."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
        parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
        parser.add_argument("--workers", type=int, default=2, help="gunicorn worker processes")
        parser.add_argument("--no-demo", action="store_true", help="skip `manage.py demo`")
        parser.add_argument("--demo-events", type=int, default=3000)

    def handle(
        self, *args: Any, host: str, port: int, workers: int, no_demo: bool, demo_events: int, **options: Any
    ) -> None:
        self.children: list[subprocess.Popen] = []
        self.valkey = None
        signal.signal(signal.SIGTERM, self._on_term)
        try:
            env = self._queue_env()
            call_command("migrate", interactive=False, verbosity=0)
            call_command("collectstatic", interactive=False, verbosity=0)
            if not no_demo:
                call_command("demo", events=demo_events, stdout=self.stdout)
            # With or without the demo, the admin login printed below exists.
            demo.ensure_admin()
            demo.ensure_content_team()
            manage = [sys.executable, str(settings.BASE_DIR / "manage.py")]
            self._spawn("worker", [*manage, "rqworker", "events", "default", "--with-scheduler"], env)
            # Periodic work (rollup catch-up, retention purge): see rollups/cron.py.
            self._spawn("cron", [*manage, "rqcron", "rollups.cron"], env)
            self._spawn(
                "web",
                [
                    sys.executable,
                    "-m",
                    "gunicorn",
                    "the_eye.wsgi",
                    "--bind",
                    f"{host}:{port}",
                    "--workers",
                    str(workers),
                    "--threads",
                    "4",
                    "--access-logfile",
                    "-",
                ],
                env,
            )
            self._announce(host, port)
            self._watch()
        except KeyboardInterrupt:
            self.stdout.write("\nstopping…")
        finally:
            self._stop()

    def _queue_env(self) -> dict[str, str]:
        env = dict(os.environ)
        if os.environ.get("REDIS_URL"):
            self.stdout.write(f"queue: {os.environ['REDIS_URL']}")
            return env
        self.valkey = embedded_redis.start(data_dir=settings.VAR_DIR / "valkey")
        url = self.valkey.connection_url
        embedded_redis.record(var_dir=settings.VAR_DIR, url=url)
        env["REDIS_URL"] = url
        self.stdout.write(f"queue: embedded Valkey at {url} (data in var/valkey, append-only)")
        return env

    def _spawn(self, name: str, argv: list[str], env: dict[str, str]) -> None:
        # A new process group, so Ctrl-C reaches the children only through _stop, in order.
        child = subprocess.Popen(argv, env=env, cwd=settings.BASE_DIR, start_new_session=True)
        child.name = name  # type: ignore[attr-defined]
        self.children.append(child)

    def _announce(self, host: str, port: int) -> None:
        site = Site.objects.default()
        base = f"http://{'localhost' if host in ('127.0.0.1', '0.0.0.0') else host}:{port}"
        self.stdout.write(self.style.SUCCESS(f"\nThe Eye is running at {base}/"))
        # Only logins that work are printed: the user exists and still has the demo password.
        for role, password in demo.working_logins():
            self.stdout.write(f"  {role.label + ':':<20}{role.username} / {password}   ({base}{role.where})")
        self.stdout.write(f"  {'dashboards:':<20}{base}/dashboard/")
        if site:
            self.stdout.write(f"  {'default site id:':<20}{site.site_id}")
        self.stdout.write("  Ctrl-C stops everything.\n")

    def _watch(self) -> None:
        while True:
            for child in self.children:
                if child.poll() is not None:
                    raise SystemExit(f"{child.name} exited with status {child.returncode}; stopping")  # type: ignore[attr-defined]
            time.sleep(0.5)

    def _on_term(self, signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    def _stop(self) -> None:
        for child in reversed(self.children):
            if child.poll() is None:
                child.send_signal(signal.SIGTERM)
        for child in reversed(self.children):
            try:
                child.wait(timeout=15)
            except subprocess.TimeoutExpired:
                child.kill()
        if self.valkey is not None:
            self.valkey.stop()
            embedded_redis.forget(var_dir=settings.VAR_DIR)
        self.stdout.write("stopped.")
