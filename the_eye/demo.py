"""The demo: one learning site whose catalogue, visitors and learners all agree.

`manage.py demo` (and `bin/up`) builds it through the same paths real data takes: the catalogue
through `progress.catalogue`, every learner's watching through `progress.tracking` (visits and
heartbeats), and every event through `events.ingest`. Every course, tutorial and language that
appears in the traffic is in the catalogue, so each `/watch/...` link on a dashboard opens.

Idempotent: event ids and heartbeat ids are derived from the seed, and a learner who already has
progress is not played again, so a second run adds nothing.
"""

from __future__ import annotations

import os
import random
import secrets
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, TextIO

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group
from django.core.management.base import OutputWrapper
from django.db import transaction
from django.templatetags.static import static

from events import ingest
from events.models import Site
from events.sites import create_site
from progress import catalogue, tracking, video_events
from progress.models import Level, Progress, Video

NAMESPACE = uuid.UUID("5b1f3c1e-8d0a-4d8e-9a51-7e0f2b6c9d11")
SITE_NAME = "Spoken Tutorial (demo)"
HOST = "spoken-tutorial.org"
CONTENT_TEAM = "Content team"  # the group dashboard.views lets see the Courses page
LANGUAGES = ["English", "Hindi", "Marathi"]
LANGUAGE_WEIGHTS = [6, 3, 2]
LEVELS = [Level.BASIC, Level.BASIC, Level.INTERMEDIATE, Level.ADVANCED]


@dataclass(frozen=True)
class CourseSpec:
    slug: str
    name: str
    description: str
    video: str  # a file in progress/static/progress/videos/
    seconds: int  # its length
    threshold: int | None
    tutorials: tuple[str, ...]


COURSES = [
    CourseSpec(
        "BASH",
        "BASH",
        "Shell scripting with the Bourne Again SHell.",
        "bash.webm",
        12,
        None,
        ("Introduction", "Basic-commands", "Variables", "Loops"),
    ),
    CourseSpec(
        "Python",
        "Python",
        "Programming in Python 3, from the interpreter to functions.",
        "python.webm",
        15,
        None,
        ("Introduction", "Variables", "Loops", "Functions"),
    ),
    CourseSpec(
        "LibreOffice-Calc",
        "LibreOffice Calc",
        "Spreadsheets with LibreOffice Calc.",
        "calc.webm",
        18,
        None,
        ("Introduction", "Formulas", "Charts"),
    ),
    CourseSpec(
        "Scilab",
        "Scilab",
        "Numerical computing with Scilab.",
        "scilab.webm",
        20,
        90,
        ("Introduction", "Vectors", "Matrices"),
    ),
]
COURSE_WEIGHTS = [5, 6, 3, 2]
# Pages of the learning site besides the watch pages (all of them exist in The Eye).
PAGES = ["/", "/tutorial-search/", "/my-learning/", "/accounts/login/"]
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
    "https://www.libreoffice.org/download/",
    "https://www.gnu.org/software/bash/manual/",
    "https://nptel.ac.in/",
]
# The `learner` login's own story, so My learning shows a course done and one to continue:
# (course, tutorial, language, [(start, end) played], last position, minutes ago).
LEARNER_STORY = [
    ("BASH", "Introduction", "English", [(0, 12)], 12, 3 * 24 * 60),
    ("BASH", "Basic-commands", "English", [(0, 12)], 12, 2 * 24 * 60),
    ("BASH", "Variables", "English", [(0, 4), (6, 7)], 7, 26 * 60),
    ("Python", "Introduction", "Hindi", [(0, 9)], 9, 90),
    ("LibreOffice-Calc", "Introduction", "Marathi", [(0, 18)], 18, 5 * 24 * 60),
    ("LibreOffice-Calc", "Formulas", "Marathi", [(0, 15)], 15, 4 * 24 * 60),
    ("LibreOffice-Calc", "Charts", "Marathi", [(0, 17)], 17, 4 * 24 * 60 - 30),
]
DEFAULT_LEARNERS = 240
DEMO_BATCH = 1000  # events per ingest call (EVENTS_MAX_BATCH)


# --- logins -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Role:
    username: str
    label: str
    where: str  # the page to start from


ADMIN = Role("admin", "admin login", "/admin/")
CONTENT = Role("content", "content team login", "/dashboard/courses/")
LEARNER = Role("learner", "learner login", "/my-learning/")


def password(role: Role) -> str:
    """A demo login's password: $DEMO_<USERNAME>_PASSWORD, else one made once and kept in var/."""
    variable = f"DEMO_{role.username.upper()}_PASSWORD"
    if os.environ.get(variable):
        return os.environ[variable]
    path = settings.VAR_DIR / f"demo-{role.username}-password"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(12) + "\n")
    return path.read_text().strip()


def ensure_admin() -> None:
    """Create the `admin` superuser with its demo password if there is no such user yet.

    An existing `admin` is left alone (its password may have been changed on purpose).
    """
    User = get_user_model()
    if not User.objects.filter(username=ADMIN.username).exists():
        User.objects.create_superuser(ADMIN.username, "admin@example.org", password(ADMIN))


def ensure_content_team() -> Group:
    return Group.objects.get_or_create(name=CONTENT_TEAM)[0]


def working_logins() -> list[tuple[Role, str]]:
    """The demo logins whose user exists and still has the demo password: only those are shown."""
    User = get_user_model()
    users = {u.username: u for u in User.objects.filter(username__in=[r.username for r in (ADMIN, CONTENT, LEARNER)])}
    found = []
    for role in (ADMIN, CONTENT, LEARNER):
        user = users.get(role.username)
        if user is not None and user.is_active and user.check_password(password(role)):
            found.append((role, password(role)))
    return found


def _set_login(role: Role, **fields: Any):
    User = get_user_model()
    user, _ = User.objects.get_or_create(username=role.username)
    for name, value in fields.items():
        setattr(user, name, value)
    user.set_password(password(role))
    user.save()
    return user


# --- the world ----------------------------------------------------------------------------------


def demo_site() -> Site:
    """The demo site, made the default when it is created (The Eye's own pages carry the default
    site's tag); a default chosen later by an operator is left alone."""
    site = Site.objects.filter(name=SITE_NAME).first()
    if site is None:
        site = create_site(
            name=SITE_NAME,
            default=True,
            allowed_origins=["http://localhost:8000", "http://127.0.0.1:8000", f"https://{HOST}"],
            # The generated traffic carries visitor ids as the tracker's cookie would; a cookieless
            # site would fold its many visitors into the few (IP, user agent) pairs it uses.
            cookieless=False,
        )
        site.rotate_server_key()
    return site


def load_catalogue() -> list[Video]:
    """Upsert the demo courses; return every video, with its tutorial and course loaded."""
    for spec in COURSES:
        catalogue.upsert_course(
            slug=spec.slug,
            name=spec.name,
            description=spec.description,
            threshold=spec.threshold,
            tutorials=[(slug, LEVELS[i]) for i, slug in enumerate(spec.tutorials)],
            languages=LANGUAGES,
            duration_seconds=spec.seconds,
            source=static(f"progress/videos/{spec.video}"),
        )
    return list(
        Video.objects.select_related("tutorial__course").filter(tutorial__course__slug__in=[c.slug for c in COURSES])
    )


@dataclass
class Outbox:
    """Events waiting to go through `events.ingest` in batches of `DEMO_BATCH`."""

    site: Site
    bar: ProgressBar
    pending: list[dict[str, Any]] = field(default_factory=list)
    made: int = 0
    stored: int = 0

    def add(self, events: list[dict[str, Any]], *, ip: str, user_agent: str) -> None:
        for event in events:
            event.update(ip=ip, user_agent=user_agent)
        if len(self.pending) + len(events) > DEMO_BATCH:
            self.flush()
        self.pending += events
        self.made += len(events)

    def flush(self) -> None:
        if not self.pending:
            return
        # The server key lets one request state each event's own address and browser, so many
        # visits travel in one batch: the same ingest path, a thousand events per transaction.
        sender = ingest.Sender(source="demo", trusted=True)
        accepted = ingest.accept(site=self.site, payload=self.pending, sender=sender, direct=True)
        self.stored += accepted.stored.inserted if accepted.stored else 0
        self.pending = []
        self.bar.show(self.made)


def _page_event(
    event_id: str, *, session: str, visitor: str, at: datetime, path: str, name: str = "page_view", **extra: Any
) -> dict[str, Any]:
    query = extra.pop("query", "")
    event = {
        "id": event_id,
        "session_id": session,
        "visitor_id": visitor,
        "category": extra.pop("category", "page_interaction"),
        "name": name,
        "timestamp": at.isoformat(),
        "data": {"host": HOST, "path": path, **extra.pop("data", {})},
        **extra,
    }
    if name not in ("engagement", "exit_link"):  # the tracker sends these without their own URL
        event["url"] = f"https://{HOST}{path}{query}"
    return event


def make_traffic(*, outbox: Outbox, videos: list[Video], count: int, days: int, seed: int) -> None:
    """Anonymous visits: page views, clicks, searches and exits over the catalogue's pages."""
    rng = random.Random(seed)
    now = datetime.now(UTC).replace(microsecond=0)
    watch_paths = [v.get_absolute_url() for v in videos]
    made = session_number = 0
    while made < count:
        session_number += 1
        session = str(uuid.uuid5(NAMESPACE, f"session-{seed}-{session_number}"))
        # Visits start in time order, as real traffic arrives (a little jitter aside).
        span = days * 86400 - 60
        start = now - timedelta(seconds=60 + span * (1 - made / count) + rng.randint(0, 1800))
        referrer = rng.choice(REFERRERS)
        # A few dozen visitors, each with one browser and address, so most come back later.
        number = rng.randint(1, max(2, count // 30))
        visitor = f"demo-visitor-{number}"
        habits = random.Random(f"{seed}-{number}")
        is_bot = rng.random() < 0.05
        campaign = rng.choice(CAMPAIGNS) if rng.random() < 0.1 else ""
        batch: list[dict[str, Any]] = []
        moment = start
        for step in range(min(rng.randint(1, 8), count - made)):
            if moment > now:
                break  # a visit that started minutes ago has not gone further yet
            path = rng.choice(watch_paths) if rng.random() < 0.55 else rng.choice(PAGES)
            event_id = str(uuid.uuid5(NAMESPACE, f"{session}-{step}"))
            common: dict[str, Any] = {"session": session, "visitor": visitor, "at": moment}
            kind = rng.random()
            if kind < 0.8 or step == 0:
                event = _page_event(event_id, path=path, query=campaign if step == 0 else "", **common)
                event["referrer"] = referrer if step == 0 else f"https://{HOST}/"
            elif kind < 0.93:
                element = rng.choice(["download button", "next tutorial", "language menu", "course card"])
                event = _page_event(event_id, path=path, name="cta_click", data={"element": element}, **common)
            else:
                spec = rng.choices(COURSES, COURSE_WEIGHTS)[0]
                language = rng.choices(LANGUAGES, LANGUAGE_WEIGHTS)[0]
                event = _page_event(
                    event_id,
                    path="/tutorial-search/",
                    category="form_interaction",
                    name="submit",
                    data={"form": {"course": spec.slug, "language": language}},
                    **common,
                )
            batch.append(event)
            moment += timedelta(seconds=rng.randint(10, 400))
        views = [e for e in batch if e["name"] == "page_view"]
        for view in views if not is_bot else []:
            if rng.random() < 0.6:
                batch.append(
                    _page_event(
                        str(uuid.uuid5(NAMESPACE, f"{view['id']}-engaged")),
                        session=session,
                        visitor=visitor,
                        at=datetime.fromisoformat(view["timestamp"]),
                        path=view["data"]["path"],
                        name="engagement",
                        data={"engaged_seconds": rng.randint(3, 240)},
                    )
                )
        if batch and not is_bot and rng.random() < 0.15:
            batch.append(
                _page_event(
                    str(uuid.uuid5(NAMESPACE, f"{session}-exit")),
                    session=session,
                    visitor=visitor,
                    at=moment - timedelta(seconds=5),
                    path=batch[-1]["data"]["path"],
                    name="exit_link",
                    data={"href": rng.choice(EXIT_LINKS)},
                )
            )
        user_agent = rng.choice(BOT_USER_AGENTS) if is_bot else habits.choice(USER_AGENTS)
        outbox.add(batch, ip=habits.choice(IPS), user_agent=user_agent)
        made += len(batch)


@dataclass(frozen=True)
class Viewing:
    """One opening of a watch page and what was played there."""

    video: Video
    at: datetime
    played: list[tuple[float, float]]


def _plays(rng: random.Random, *, seconds: int, completes: bool) -> list[tuple[float, float]]:
    """What one viewing plays: the whole video (maybe skipping a little) or part of it."""
    if completes:
        if rng.random() < 0.2:  # skips a stretch but still watches enough
            gap = rng.uniform(0.03, 0.08) * seconds
            cut = rng.uniform(0.3, 0.6) * seconds
            return [(0.0, round(cut, 1)), (round(cut + gap, 1), float(seconds))]
        return [(0.0, float(seconds))]
    # Drops off part-way; early minutes lose the most viewers, as on real sites.
    share = min(rng.betavariate(1.3, 2.2), 0.7)
    return [(0.0, round(max(1.0, share * seconds), 1))]


def learner_viewings(rng: random.Random, *, videos: dict[tuple[str, str, str], Video], start: datetime, end: datetime):
    """A believable learner: one course (sometimes two), in order, dropping off, sometimes rewatching."""
    viewings: list[Viewing] = []
    specs = (
        rng.sample(COURSES, k=2, counts=COURSE_WEIGHTS)
        if rng.random() < 0.25
        else [rng.choices(COURSES, COURSE_WEIGHTS)[0]]
    )
    if len(specs) == 2 and specs[0] == specs[1]:
        specs = specs[:1]
    moment = start + (end - start) * rng.random() * 0.6
    keen = rng.random()  # how far this learner gets
    for spec in specs:
        language = rng.choices(LANGUAGES, LANGUAGE_WEIGHTS)[0]
        for tutorial in spec.tutorials:
            video = videos[(spec.slug, tutorial, language)]
            completes = rng.random() < 0.2 + 0.55 * keen
            viewings.append(Viewing(video, moment, _plays(rng, seconds=spec.seconds, completes=completes)))
            moment += timedelta(seconds=spec.seconds + rng.randint(20, 600))
            if completes and rng.random() < 0.18:  # comes back later to rewatch a part
                later = moment + timedelta(hours=rng.randint(2, 72))
                begin = round(rng.uniform(0, spec.seconds * 0.6), 1)
                viewings.append(
                    Viewing(video, later, [(begin, round(min(spec.seconds, begin + spec.seconds * 0.4), 1))])
                )
            if not completes or rng.random() > 0.55 + 0.4 * keen:
                break  # dropped off, or did not come back for the next tutorial
            if rng.random() < 0.3:
                moment += timedelta(hours=rng.randint(3, 48))  # the next one another day
        moment += timedelta(hours=rng.randint(6, 96))
    return [v for v in sorted(viewings, key=lambda v: v.at) if v.at < end]


def _heartbeats(viewing: Viewing, *, key: str) -> Iterator[tracking.Heartbeat]:
    """The heartbeats the watch page sends for a viewing: one per PROGRESS_HEARTBEAT_SECONDS
    played, and one at each pause or end."""
    every = max(1, settings.PROGRESS_HEARTBEAT_SECONDS)
    clock = viewing.at
    for number, (begin, end) in enumerate(viewing.played):
        cursor = begin
        while cursor < end:
            upto = min(end, cursor + every)
            clock += timedelta(seconds=upto - cursor)
            last = upto >= end
            yield tracking.Heartbeat(
                id=uuid.uuid5(NAMESPACE, f"{key}-{number}-{cursor}"),
                position=upto,
                at=clock,
                segments=[[cursor, upto]],
                duration=viewing.video.duration_seconds,
                reason=("ended" if upto >= viewing.video.duration_seconds else "pause") if last else "interval",
            )
            cursor = upto


def play(*, learner, viewings: list[Viewing], outbox: Outbox, visitor: str, key: str, rng: random.Random) -> None:
    """Play a learner's viewings through the progress write path; their events go to `outbox`.

    Each viewing is what the watch page does: a page view from the page's tracker, a visit
    counted, heartbeats whose events carry the tracker's session and visitor ids.
    """
    ip, user_agent = rng.choice(IPS[:8]), rng.choice(USER_AGENTS)
    session, last = "", None
    for number, viewing in enumerate(viewings):
        if last is None or viewing.at - last > timedelta(minutes=30):
            session = str(uuid.uuid5(NAMESPACE, f"{key}-session-{number}"))
        url = f"https://{HOST}{viewing.video.get_absolute_url()}"
        events: list[dict[str, Any]] = [
            _page_event(
                str(uuid.uuid5(NAMESPACE, f"{key}-view-{number}")),
                session=session,
                visitor=visitor,
                at=viewing.at,
                path=viewing.video.get_absolute_url(),
                referrer=f"https://{HOST}/tutorial-search/",
            )
        ]
        context = video_events.Context(
            sender=ingest.Sender(ip=ip, user_agent=user_agent, source="progress"),
            session_id=session,
            visitor_id=visitor,
            url=url,
            collect=events,
        )
        tracking.record_visit(learner=learner, video=viewing.video)
        for heartbeat in _heartbeats(viewing, key=f"{key}-{number}"):
            tracking.record_heartbeat(learner=learner, video=viewing.video, heartbeat=heartbeat, context=context)
            last = heartbeat.at
        last = last or viewing.at
        outbox.add(events, ip=ip, user_agent=user_agent)


def make_learners(*, outbox: Outbox, videos: list[Video], count: int, days: int, seed: int) -> list[str]:
    """`count` learners `learner-001`…, sharing the learner login's password; each new one plays
    their story. Returns the usernames."""
    User = get_user_model()
    names = [f"learner-{n:03d}" for n in range(1, count + 1)]
    existing = set(User.objects.filter(username__in=names).values_list("username", flat=True))
    shared = make_password(password(LEARNER))  # hashed once: hashing is slow on purpose
    User.objects.bulk_create(
        [
            User(username=name, first_name="Learner", last_name=name[-3:], password=shared)
            for name in names
            if name not in existing
        ]
    )
    started = set(Progress.objects.filter(learner__username__in=names).values_list("learner__username", flat=True))
    by_key = {(v.tutorial.course.slug, v.tutorial.slug, v.language): v for v in videos}
    end = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=2)
    start = end - timedelta(days=days)
    for user in User.objects.filter(username__in=names).exclude(username__in=started).order_by("username"):
        rng = random.Random(f"{seed}-{user.username}")
        viewings = learner_viewings(rng, videos=by_key, start=start, end=end)
        with transaction.atomic():  # one commit per learner, not one per heartbeat
            play(
                learner=user,
                viewings=viewings,
                outbox=outbox,
                visitor=f"demo-{user.username}",
                key=f"{seed}-{user.username}",
                rng=rng,
            )
    return names


def play_learner_story(*, videos: list[Video]) -> Any:
    """The `learner` login's fixed story (progress only; its visits are counted once)."""
    learner = _set_login(LEARNER, first_name="Demo", last_name="Learner")
    by_key = {(v.tutorial.course.slug, v.tutorial.slug, v.language): v for v in videos}
    now = datetime.now(UTC)
    for course, tutorial, language, segments, position, minutes_ago in LEARNER_STORY:
        video = by_key[(course, tutorial, language)]
        if not Progress.objects.filter(learner=learner, tutorial=video.tutorial, language=language).exists():
            tracking.record_visit(learner=learner, video=video)
        heartbeat = tracking.Heartbeat(
            id=uuid.uuid5(NAMESPACE, f"learner/{course}/{tutorial}/{language}"),
            position=position,
            at=now - timedelta(minutes=minutes_ago),
            segments=segments,
            duration=video.duration_seconds,
            reason="pause",
        )
        tracking.record_heartbeat(learner=learner, video=video, heartbeat=heartbeat)
    return learner


class ProgressBar:
    """A one-line progress bar on the terminal: bar, percent, count and rate."""

    def __init__(self, *, total: int, out: Any, width: int = 30) -> None:
        self.total, self.out, self.width, self.started = max(1, total), out, width, time.monotonic()

    def show(self, done: int) -> None:
        share = min(1.0, done / self.total)
        rate = done / max(1e-6, time.monotonic() - self.started)
        bar = "#" * int(share * self.width)
        self.out.write(f"\r[{bar:<{self.width}}] {share:4.0%} {done:,}/{self.total:,} events, {rate:,.0f}/s", ending="")
        self.out.flush()

    def done(self) -> None:
        self.out.write("")


@dataclass(frozen=True)
class Built:
    site: Site
    made: int
    stored: int
    learners: int
    started: int
    completed: int


def build(*, events: int, learners: int, days: int, seed: int, stderr: Any) -> Built:
    """Build (idempotently) the whole demo world; see the module docstring."""
    if not isinstance(stderr, OutputWrapper):
        stderr = OutputWrapper(stderr)
    site = demo_site()
    _set_login(ADMIN, is_staff=True, is_superuser=True, email="admin@example.org")
    content = _set_login(CONTENT, is_staff=False)
    content.groups.add(ensure_content_team())
    videos = load_catalogue()
    # About three events per learner besides the anonymous traffic.
    outbox = Outbox(site=site, bar=ProgressBar(total=events + 14 * learners, out=stderr))
    make_traffic(outbox=outbox, videos=videos, count=events, days=days, seed=seed)
    names = make_learners(outbox=outbox, videos=videos, count=learners, days=days, seed=seed)
    outbox.flush()
    outbox.bar.done()
    play_learner_story(videos=videos)
    rows = Progress.objects.filter(learner__username__in=names)
    return Built(
        site=site,
        made=outbox.made,
        stored=outbox.stored,
        learners=len(names),
        started=rows.count(),
        completed=rows.filter(completed=True).count(),
    )


def describe(built: Built, *, out: TextIO) -> None:
    languages = ", ".join(LANGUAGES)
    out.write(f"demo site:  {built.site.name} (site id {built.site.site_id})\n")
    out.write(f"courses:    {len(COURSES)} ({', '.join(c.name for c in COURSES)}) in {languages}\n")
    out.write(f"admin:      admin / {password(ADMIN)}\n")
    out.write(f"content:    content / {password(CONTENT)} (group {CONTENT_TEAM}: /dashboard/courses/)\n")
    out.write(f"learner:    learner / {password(LEARNER)} (see /my-learning/)\n")
    out.write(
        f"learners:   {built.learners} (learner-001 … learner-{built.learners:03d}, same password as learner):"
        f" {built.started} tutorials started, {built.completed} completed\n"
    )
    out.write(f"events:     {built.made} generated, {built.stored} new\n")
