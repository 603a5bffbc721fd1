"""Run the whole site in the foreground: queue server, workers, scheduler, cron and web server.

Started by `bin/up` (the README's first command). When `REDIS_URL` is unset it starts the embedded
Valkey server first. Every part is supervised: one that exits is restarted after a pause that
doubles up to a minute (logged), while the others keep serving. Ctrl-C (or SIGTERM) stops every
part, newest first, and waits for them.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand

from events.models import Site
from the_eye import demo, queues
from the_eye.lib import embedded_redis
from the_eye.lib.supervisor import Supervisor


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
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
        self.supervisor = Supervisor()
        self.valkey_servers: list[Any] = []  # kept referenced: a collected server object stops its process
        self.valkey_port: int | None = None
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
            cwd = str(settings.BASE_DIR)
            # One queue per worker (see the_eye/queues.py); the scheduler (retries) and the
            # reaper of abandoned jobs run in their own process.
            for queue in queues.queue_names():
                self.supervisor.command(f"worker-{queue}", [*manage, "run_worker", queue], env=env, cwd=cwd)
            self.supervisor.command("scheduler", [*manage, "run_scheduler"], env=env, cwd=cwd)
            # Periodic work (rollup catch-up, retention purge): see rollups/cron.py.
            self.supervisor.command("cron", [*manage, "rqcron", "rollups.cron"], env=env, cwd=cwd)
            web = [sys.executable, "-m", "gunicorn", "the_eye.wsgi", "--bind", f"{host}:{port}"]
            web += ["--workers", str(workers), "--threads", "4", "--access-logfile", "-"]
            self.supervisor.command("web", web, env=env, cwd=cwd)
            self._announce(host, port)
            # Every process that exits is restarted with a growing pause; the others go on.
            self.supervisor.run()
        except KeyboardInterrupt:
            self.stdout.write("\nstopping…")
        finally:
            self._stop()

    def _queue_env(self) -> dict[str, str]:
        env = dict(os.environ)
        if os.environ.get("REDIS_URL"):
            self.stdout.write(f"queue: {os.environ['REDIS_URL']}")
            return env
        self.supervisor.add("valkey", self._start_valkey)
        url = f"redis://127.0.0.1:{self.valkey_port}"
        embedded_redis.record(var_dir=settings.VAR_DIR, url=url)
        env["REDIS_URL"] = url
        self.stdout.write(f"queue: embedded Valkey at {url} (data in var/valkey, append-only)")
        return env

    def _start_valkey(self) -> subprocess.Popen:
        # A restart reuses the first start's port, so every process's REDIS_URL stays right.
        server = embedded_redis.start(data_dir=settings.VAR_DIR / "valkey", port=self.valkey_port)
        self.valkey_port = server.port
        self.valkey_servers.append(server)
        return server._process

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

    def _on_term(self, signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    def _stop(self) -> None:
        self.supervisor.stop()
        if self.valkey_port is not None:
            embedded_redis.forget(var_dir=settings.VAR_DIR)
        self.stdout.write("stopped.")
