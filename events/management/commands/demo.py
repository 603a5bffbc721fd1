from __future__ import annotations

import random
import secrets
import uuid
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand

from events import ingest
from events.models import Site

DEMO_NAMESPACE = uuid.UUID("5b1f3c1e-8d0a-4d8e-9a51-7e0f2b6c9d11")
HOST = "spoken-tutorial.org"
FOSSES = ["BASH", "Python", "LibreOffice-Calc", "Scilab", "Java", "GIMP"]
LANGUAGES = ["English", "Hindi", "Marathi", "Tamil", "Bengali"]
TUTORIALS = ["Introduction", "Basic-commands", "Variables", "Loops", "Functions", "Files"]
PAGES = ["/", "/tutorial-search/", "/news/", "/about-us/", "/contact/", "/statistics/", "/accounts/login/"]
REFERRERS = [
    "",
    "",
    "",
    "https://www.google.com/",
    "https://www.bing.com/",
    "https://www.youtube.com/",
    "https://www.facebook.com/",
    "https://t.co/abc",
    "https://fossee.in/",
    "https://nptel.ac.in/",
]
# Addresses the shipped GeoLite2 database places in India (mostly) and elsewhere.
IPS = [
    "49.36.0.1",
    "49.36.10.20",
    "103.27.8.1",
    "117.200.1.9",
    "106.51.2.3",
    "59.88.4.4",
    "14.139.5.6",
    "81.2.69.142",
    "8.8.8.8",
    "1.1.1.1",
    "190.12.3.4",
    "41.58.1.1",
]
USER_AGENTS = [
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Linux; Android 14; SM-A146B) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36",
    "Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0",
    "Mozilla/5.0 (iPad; CPU OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15",
]
# Crawlers and scripts: the worker drops their events and counts them (admin → Dropped events).
BOT_USER_AGENTS = [
    "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
    "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/131.0.0.0 Safari/537.36",
    "curl/8.5.0",
]
CAMPAIGNS = [
    "?utm_source=newsletter&utm_medium=email&utm_campaign=workshop-2026",
    "?utm_source=whatsapp&utm_medium=social&utm_campaign=hindi-week",
]


EXIT_LINKS = [
    "https://fossee.in/",
    "https://www.python.org/downloads/",
    "https://www.scilab.org/",
    "https://www.gimp.org/",
    "https://nptel.ac.in/",
]
DEMO_BATCH = 1000  # events per ingest call (EVENTS_MAX_BATCH)


class ProgressBar:
    """A one-line progress bar on the terminal: bar, percent, count and rate."""

    def __init__(self, *, total: int, out, width: int = 30) -> None:
        import time

        self.total, self.out, self.width, self.started = max(1, total), out, width, time.monotonic()

    def show(self, done: int) -> None:
        import time

        share = min(1.0, done / self.total)
        rate = done / max(1e-6, time.monotonic() - self.started)
        bar = "#" * int(share * self.width)
        self.out.write(f"\r[{bar:<{self.width}}] {share:4.0%} {done:,}/{self.total:,} events, {rate:,.0f}/s", ending="")
        self.out.flush()

    def done(self) -> None:
        self.out.write("")


def admin_password() -> str:
    """The demo admin's password: $DEMO_ADMIN_PASSWORD, else one made once and kept in var/."""
    import os

    if os.environ.get("DEMO_ADMIN_PASSWORD"):
        return os.environ["DEMO_ADMIN_PASSWORD"]
    path = settings.VAR_DIR / "demo-admin-password"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(12) + "\n")
    return path.read_text().strip()


class Command(BaseCommand):
    help = "Create (idempotently) the demo site, an admin and realistic events through the ingest path."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--events", type=int, default=2000, help="about how many events to make")
        parser.add_argument("--days", type=int, default=14, help="spread over this many days up to now")
        parser.add_argument("--seed", type=int, default=7)

    def handle(self, *args, events: int, days: int, seed: int, **options) -> None:
        site = self.demo_site()
        password = admin_password()
        User = get_user_model()
        admin, _ = User.objects.get_or_create(username="admin", defaults={"email": "admin@example.org"})
        admin.is_staff = admin.is_superuser = True
        admin.set_password(password)
        admin.save()
        made, stored = self.make_events(site=site, count=events, days=days, seed=seed)
        self.stdout.write(f"demo site:  {site.name} (site id {site.site_id})")
        self.stdout.write(f"admin:      admin / {password}")
        self.stdout.write(f"events:     {made} generated, {stored} new")
        from progress.demo import load_demo

        load_demo(stdout=self.stdout)

    def demo_site(self) -> Site:
        site = Site.objects.filter(name="Spoken Tutorial (demo)").first()
        if site is None:
            Site.objects.filter(is_default=True).update(is_default=False)
            site = Site.objects.create(
                name="Spoken Tutorial (demo)",
                is_default=True,
                allowed_origins=["http://localhost:8000", "http://127.0.0.1:8000", f"https://{HOST}"],
            )
            site.rotate_server_key()
        return site

    def make_events(self, *, site: Site, count: int, days: int, seed: int) -> tuple[int, int]:
        """Sessions of page views, clicks and form submits, each session one batch."""
        rng = random.Random(seed)
        now = datetime.now(UTC).replace(microsecond=0)
        made = stored = 0
        session_number = 0
        pending: list[dict] = []
        progress = ProgressBar(total=count, out=self.stderr)
        while made < count:
            session_number += 1
            session_id = str(uuid.uuid5(DEMO_NAMESPACE, f"session-{seed}-{session_number}"))
            # Visits start in time order, as real traffic arrives (a little jitter aside): an
            # earlier visit arriving after a later one is the rare, costlier case of enrichment.
            span = days * 86400 - 60
            start = now - timedelta(seconds=60 + span * (1 - made / count) + rng.randint(0, 1800))
            referrer = rng.choice(REFERRERS)
            # A few dozen visitors, each with one browser and address, so most come back later.
            visitor = rng.randint(1, max(2, count // 30))
            habits = random.Random(f"{seed}-{visitor}")
            is_bot = rng.random() < 0.05
            campaign = rng.choice(CAMPAIGNS) if rng.random() < 0.1 else ""
            batch = []
            moment = start
            for step in range(min(rng.randint(1, 8), count - made)):
                if moment > now:
                    break  # a visit that started minutes ago has not gone further yet
                if rng.random() < 0.55:
                    foss, lang, tut = rng.choice(FOSSES), rng.choice(LANGUAGES), rng.choice(TUTORIALS)
                    page = f"/watch/{foss}/{tut}/{lang}/"
                else:
                    page = rng.choice(PAGES)
                kind = rng.random()
                if kind < 0.8 or step == 0:
                    category, name, data = "page_interaction", "page_view", {"host": HOST, "path": page}
                elif kind < 0.93:
                    element = rng.choice(["download button", "chat bubble", "next tutorial", "language menu"])
                    category, name, data = (
                        "page_interaction",
                        "cta_click",
                        {"host": HOST, "path": page, "element": element},
                    )
                else:
                    category, name = "form_interaction", "submit"
                    data = {"host": HOST, "path": "/contact/", "form": {"topic": rng.choice(["feedback", "workshop"])}}
                batch.append(
                    {
                        "id": str(uuid.uuid5(DEMO_NAMESPACE, f"{session_id}-{step}")),
                        "session_id": session_id,
                        "category": category,
                        "name": name,
                        "data": data,
                        "timestamp": moment.isoformat(),
                        "url": f"https://{HOST}{data['path']}" + (campaign if step == 0 else ""),
                        "visitor_id": f"demo-visitor-{visitor}",
                        "referrer": referrer if step == 0 else f"https://{HOST}/",
                    }
                )
                moment += timedelta(seconds=rng.randint(10, 400))
            for view in [e for e in batch if e["name"] == "page_view" and not is_bot and rng.random() < 0.6]:
                batch.append(
                    {
                        "id": str(uuid.uuid5(DEMO_NAMESPACE, f"{view['id']}-engaged")),
                        "session_id": session_id,
                        "visitor_id": view["visitor_id"],
                        "category": "page_interaction",
                        "name": "engagement",
                        "data": {"host": HOST, "path": view["data"]["path"], "engaged_seconds": rng.randint(3, 240)},
                        "timestamp": view["timestamp"],
                    }
                )
            if batch and not is_bot and rng.random() < 0.15:
                last = batch[-1]
                batch.append(
                    {
                        "id": str(uuid.uuid5(DEMO_NAMESPACE, f"{session_id}-exit")),
                        "session_id": session_id,
                        "visitor_id": last["visitor_id"],
                        "category": "page_interaction",
                        "name": "exit_link",
                        "data": {"host": HOST, "path": last["data"]["path"], "href": rng.choice(EXIT_LINKS)},
                        "timestamp": (moment - timedelta(seconds=5)).isoformat(),
                    }
                )
            user_agent = rng.choice(BOT_USER_AGENTS) if is_bot else habits.choice(USER_AGENTS)
            # The server key lets one request state each event's own address and browser, so many
            # visits travel in one batch: the same ingest path, a thousand events per transaction.
            ip = habits.choice(IPS)
            for event in batch:
                event.update(ip=ip, user_agent=user_agent)
            if len(pending) + len(batch) > DEMO_BATCH:
                stored += self._store(site, pending)
                pending = []
                progress.show(made)
            pending += batch
            made += len(batch)
        if pending:
            stored += self._store(site, pending)
            progress.show(made)
        progress.done()
        return made, stored

    def _store(self, site: Site, events: list[dict]) -> int:
        sender = ingest.Sender(source="demo", trusted=True)
        accepted = ingest.accept(site=site, payload=events, sender=sender, direct=True)
        return accepted.stored.inserted if accepted.stored else 0
