"""Where a visit came from: the referrer's host, its channel, and the page URL's UTM tags."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import parse_qs, urlsplit

from events.models import Channel

# Hosts are matched by their registrable part, so www.google.co.in and news.google.com count too.
_SEARCH = (
    "google.",
    "bing.com",
    "yahoo.",
    "duckduckgo.com",
    "baidu.com",
    "yandex.",
    "ecosia.org",
    "ask.com",
    "naver.com",
    "search.brave.com",
    "startpage.com",
    "qwant.com",
    "seznam.cz",
    "sogou.com",
    "aol.com",
)
_SOCIAL = (
    "facebook.com",
    "fb.com",
    "fb.me",
    "instagram.com",
    "t.co",
    "twitter.com",
    "x.com",
    "linkedin.com",
    "lnkd.in",
    "youtube.com",
    "youtu.be",
    "reddit.com",
    "pinterest.",
    "quora.com",
    "whatsapp.com",
    "wa.me",
    "telegram.org",
    "t.me",
    "tiktok.com",
    "threads.net",
    "mastodon.social",
    "vk.com",
    "snapchat.com",
    "discord.com",
    "medium.com",
)
UTM_FIELDS = ("utm_source", "utm_medium", "utm_campaign", "utm_content", "utm_term")


@dataclass(frozen=True)
class Origin:
    referrer_host: str
    channel: str


def bare_host(host: str) -> str:
    """Lower case, without port or a leading `www.` — how hosts are compared and shown."""
    host = host.lower().split("@")[-1].split(":")[0].rstrip(".")
    return host[4:] if host.startswith("www.") else host


def _matches(host: str, known: tuple[str, ...]) -> bool:
    for name in known:
        if name.endswith("."):  # a brand with many country domains: google.com, google.co.in …
            if host.startswith(name) or f".{name}" in host:
                return True
        elif host == name or host.endswith("." + name):
            return True
    return False


@lru_cache(maxsize=4096)
def classify(*, referrer: str, page_host: str) -> Origin:
    """The referrer's bare host and channel: direct, internal (same host), search, social, referral."""
    if not referrer:
        return Origin("", Channel.DIRECT)
    raw = referrer.strip()
    host = bare_host(urlsplit(raw if "//" in raw else "//" + raw).netloc)
    if not host:
        return Origin("", Channel.DIRECT)
    if page_host and host == bare_host(page_host):
        return Origin(host[:255], Channel.INTERNAL)
    if _matches(host, _SEARCH):
        return Origin(host[:255], Channel.SEARCH)
    if _matches(host, _SOCIAL):
        return Origin(host[:255], Channel.SOCIAL)
    return Origin(host[:255], Channel.REFERRAL)


def utm_tags(*, url: str, path: str) -> dict[str, str]:
    """The `utm_*` parameters of the page's URL (or of its path, when that holds the query)."""
    query = urlsplit(url).query if url else ""
    if not query and "?" in path:
        query = path.split("?", 1)[1]
    if "utm_" not in query:
        return {}
    values = parse_qs(query, keep_blank_values=False)
    return {name: values[name][0].strip()[:128] for name in UTM_FIELDS if name in values}
