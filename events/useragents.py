"""What a User-Agent string says: browser, OS, device, and whether it is a bot.

Parsing uses ua-parser's regexes (ua-parser-builtins) and is cached by string: a site sees a few
thousand distinct strings a day, so almost every event is a cache hit.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

import ua_parser

# Families ua-parser names that are tools or automation rather than people browsing.
_AUTOMATION_FAMILIES = {
    "HeadlessChrome",
    "curl",
    "Wget",
    "Python Requests",
    "Python-urllib",
    "PhantomJS",
    "Go-http-client",
    "okhttp",
    "Apache-HttpClient",
    "Java",
    "libwww-perl",
    "HTTPie",
    "Scrapy",
    "axios",
    "node-fetch",
    "Electron",
}
# A second net for strings ua-parser does not know: common words in crawler and client names.
_BOT_WORDS = re.compile(
    r"bot\b|bot/|crawl|spider|slurp|headless|lighthouse|pagespeed|puppeteer|playwright|selenium|"
    r"^curl/|^wget/|python-|^java/|go-http-client|okhttp|httpclient|libwww|^axios/|node-fetch|"
    r"facebookexternalhit|uptimerobot|^mozilla/5\.0$",
    re.IGNORECASE,
)
_TABLET = re.compile(r"ipad|tablet|kindle|silk|playbook|nexus (7|9|10)|sm-t\d|tab\b", re.IGNORECASE)
_MOBILE_OS = {"Android", "iOS", "Windows Phone", "KaiOS", "BlackBerry OS", "Symbian OS", "Firefox OS"}
_DESKTOP_OS = {"Windows", "Mac OS X", "macOS", "Linux", "Ubuntu", "Fedora", "Chrome OS", "FreeBSD", "Debian"}


@dataclass(frozen=True)
class Agent:
    browser: str = ""
    browser_version: str = ""
    os: str = ""
    os_version: str = ""
    device: str = ""
    device_type: str = ""  # desktop / mobile / tablet / bot, or "" when the string says nothing
    is_bot: bool = False


def _version(*parts: str | None) -> str:
    return ".".join(p for p in parts if p)[:32]


@lru_cache(maxsize=8192)
def describe(user_agent: str) -> Agent:
    """Browser, OS, device and device type of a User-Agent string; never raises."""
    if not user_agent:
        return Agent()
    parsed = ua_parser.parse(user_agent)
    browser = parsed.user_agent.family if parsed.user_agent else ""
    browser_version = _version(parsed.user_agent.major, parsed.user_agent.minor) if parsed.user_agent else ""
    os_family = parsed.os.family if parsed.os else ""
    os_version = _version(parsed.os.major, parsed.os.minor, parsed.os.patch) if parsed.os else ""
    device = parsed.device.family if parsed.device and parsed.device.family != "Other" else ""
    is_bot = device == "Spider" or browser in _AUTOMATION_FAMILIES or bool(_BOT_WORDS.search(user_agent))
    if is_bot:
        device_type = "bot"
    elif _TABLET.search(device) or (os_family == "Android" and "Mobile" not in user_agent):
        device_type = "tablet"
    elif os_family in _MOBILE_OS or "Mobi" in user_agent:
        device_type = "mobile"
    elif os_family in _DESKTOP_OS or browser:
        device_type = "desktop"
    else:
        device_type = ""
    return Agent(
        browser=browser[:64],
        browser_version=browser_version,
        os=os_family[:64],
        os_version=os_version,
        device=device[:64],
        device_type=device_type,
        is_bot=is_bot,
    )
