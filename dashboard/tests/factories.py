"""A small, known traffic fixture stored through the real ingest path (enrichment included)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from events import ingest
from events.models import Site

CHROME_DESKTOP = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"
)
CHROME_ANDROID = (
    "Mozilla/5.0 (Linux; Android 14; SM-A146B) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Mobile Safari/537.36"
)
FIREFOX_LINUX = "Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0"
MUMBAI, DELHI, LONDON = "49.36.0.1", "103.27.8.1", "81.2.69.142"
XSS_PATH = '/<script>window.__xss=1</script><img src=x onerror="window.__xss=2">'
HOST = "spoken.example.org"


def visit(
    site: Site,
    *,
    visitor: str,
    start: datetime,
    paths: list[str],
    ip: str,
    agent: str,
    referrer: str = "",
    gap_seconds: int = 60,
    extras: list[dict] | None = None,
) -> None:
    """One visit: page views `gap_seconds` apart (plus `extras`), stored as one batch."""
    session = str(uuid.uuid4())
    events = []
    for i, path in enumerate(paths):
        events.append(
            {
                "id": str(uuid.uuid4()),
                "session_id": session,
                "visitor_id": visitor,
                "category": "page_interaction",
                "name": "page_view",
                "data": {"host": HOST, "path": path},
                "timestamp": (start + timedelta(seconds=i * gap_seconds)).isoformat(),
                "url": f"https://{HOST}{path}" if "<" not in path else "",
                "referrer": referrer if i == 0 else f"https://{HOST}/",
            }
        )
    for extra in extras or []:
        events.append({"id": str(uuid.uuid4()), "session_id": session, "visitor_id": visitor, **extra})
    sender = ingest.Sender(ip=ip, user_agent=agent, source="test", trusted=True)
    ingest.accept(site=site, payload=events, sender=sender, direct=True)


def known_traffic(site: Site, *, now: datetime | None = None) -> datetime:
    """Eleven visits by six visitors over three days, from India and the UK; returns `now`.

    Each visitor's visits are stored in time order (a late earlier visit relabels later ones as
    returning, which the rollups learn at the next `rebuild_rollups`; see its own test).
    """
    now = (now or datetime.now(UTC)).replace(microsecond=0)
    today = now.replace(hour=0, minute=0, second=0)
    early = today if now - today > timedelta(minutes=40) else now - timedelta(minutes=30)
    two_days_ago, yesterday = today - timedelta(days=2), today - timedelta(days=1)
    engagement = {
        "category": "page_interaction",
        "name": "engagement",
        "data": {"host": HOST, "path": "/watch/Python/Loops/Hindi/", "engaged_seconds": 42},
        "timestamp": (yesterday + timedelta(hours=9, minutes=2)).isoformat(),
    }
    exit_link = {
        "category": "page_interaction",
        "name": "exit_link",
        "data": {"host": HOST, "path": "/", "href": "https://python.org/=cmd"},
        "timestamp": (two_days_ago + timedelta(hours=8, minutes=1)).isoformat(),
    }
    visit(
        site,
        visitor="v1",
        start=two_days_ago + timedelta(hours=8),
        paths=["/", "/tutorial-search/"],
        ip=MUMBAI,
        agent=CHROME_DESKTOP,
        referrer="https://www.google.com/",
        extras=[exit_link],
    )
    visit(
        site,
        visitor="v1",
        start=yesterday + timedelta(hours=9),
        paths=["/watch/Python/Loops/Hindi/", "/watch/Python/Functions/Hindi/", "/"],
        ip=MUMBAI,
        agent=CHROME_DESKTOP,
        extras=[engagement],
    )
    visit(
        site,
        visitor="v2",
        start=two_days_ago + timedelta(hours=10),
        paths=["/watch/BASH/Loops/English/"],
        ip=DELHI,
        agent=CHROME_ANDROID,
        referrer="https://www.facebook.com/",
    )
    visit(
        site,
        visitor="v2",
        start=early + timedelta(minutes=5),
        paths=["/watch/BASH/Loops/English/", "/news/"],
        ip=DELHI,
        agent=CHROME_ANDROID,
        gap_seconds=90,
    )
    visit(
        site,
        visitor="v3",
        start=yesterday + timedelta(hours=11),
        paths=["/about-us/"],
        ip=LONDON,
        agent=FIREFOX_LINUX,
        referrer="https://fossee.in/page",
    )
    visit(
        site,
        visitor="v3",
        start=yesterday + timedelta(hours=12),
        paths=[XSS_PATH, "/"],
        ip=LONDON,
        agent=FIREFOX_LINUX,
        referrer='https://evil.example/<img src=x onerror="window.__xss=3">',
    )
    visit(
        site,
        visitor="v4",
        start=early + timedelta(minutes=1),
        paths=["/", "/watch/Python/Loops/Hindi/"],
        ip=MUMBAI,
        agent=CHROME_ANDROID,
        referrer="https://www.google.com/",
    )
    visit(
        site,
        visitor="v5",
        start=yesterday + timedelta(hours=20),
        paths=["/watch/Python/Loops/English/"],
        ip=DELHI,
        agent=CHROME_DESKTOP,
    )
    visit(site, visitor="v5", start=early + timedelta(minutes=2), paths=["/"], ip=DELHI, agent=CHROME_DESKTOP)
    visit(
        site,
        visitor="v6",
        start=two_days_ago + timedelta(hours=23, minutes=50),
        paths=["/", "/news/", "/"],
        ip=MUMBAI,
        agent=FIREFOX_LINUX,
        gap_seconds=300,
    )  # runs past midnight
    visit(
        site,
        visitor="v6",
        start=now - timedelta(minutes=3),
        paths=["/news/", '/=HYPERLINK("x")'],
        ip=MUMBAI,
        agent=FIREFOX_LINUX,
    )
    return now
