"""Remove secrets from what a host site's visitors sent before it leaves the host.

The seed's middleware logged `password1` in clear text because it listed the exact keys to hide.
Here a key is hidden when it matches any of a list of case-insensitive shell-style patterns
(`password*`, `*token*`, …), at any depth of dicts and lists, and the host can add its own
patterns (setting `THE_EYE_REDACT_KEYS`). Everything here is pure: no settings, no I/O.
"""

from __future__ import annotations

import fnmatch
import functools
import re
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

REDACTED = "[redacted]"

# Generous on purpose: hiding a harmless field costs a little insight, leaking a secret costs trust.
DEFAULT_SENSITIVE_KEYS: tuple[str, ...] = (
    "pass",
    "passwd*",
    "password*",
    "*_password*",
    "pwd",
    "pin",
    "*_pin",
    "pin_*",
    "*token*",
    "*secret*",
    "csrf*",
    "*card*",
    "*cvv*",
    "*cvc*",
    "*iban*",
    "*account_number*",
    "authorization",
    "*auth_key*",
    "*api_key*",
    "*apikey*",
    "*access_key*",
    "*private_key*",
    "*signature*",
    "*ssn*",
    "*aadhaar*",
    "*pan_number*",
    "*otp*",
    "*sessionid*",
    "*session_key*",
    "cookie",
    "set-cookie",
)


@functools.lru_cache(maxsize=32)
def compile_patterns(patterns: tuple[str, ...]) -> re.Pattern[str]:
    """One regex matching any of the shell-style patterns, case-insensitively."""
    if not patterns:
        return re.compile(r"(?!)")  # matches nothing
    return re.compile("|".join(f"(?:{fnmatch.translate(p.lower())})" for p in patterns), re.IGNORECASE)


def is_sensitive(key: Any, *, patterns: tuple[str, ...] = DEFAULT_SENSITIVE_KEYS) -> bool:
    """Whether a key names a secret under the given patterns (any case, any type of key)."""
    return bool(compile_patterns(patterns).match(str(key)))


def redact(value: Any, *, patterns: tuple[str, ...] = DEFAULT_SENSITIVE_KEYS, max_length: int = 1000) -> Any:
    """A JSON-ready copy of `value` with the value of every sensitive key replaced by "[redacted]".

    Walks dicts, lists and tuples at any depth (a list under a secret key is hidden whole). Other
    values become strings cut at `max_length` characters, so the result always serialises. Never
    changes its input.
    """
    matcher = compile_patterns(patterns)
    return _walk(value, matcher, max_length)


def _walk(value: Any, matcher: re.Pattern[str], max_length: int) -> Any:
    if isinstance(value, Mapping):
        return {
            str(key): REDACTED if matcher.match(str(key)) else _walk(item, matcher, max_length)
            for key, item in value.items()
        }
    if isinstance(value, (list, tuple)):
        return [_walk(item, matcher, max_length) for item in value]
    if value is None or isinstance(value, (bool, int, float)):
        return value
    text = value if isinstance(value, str) else str(value)
    return text[:max_length]


def redact_query_dict(pairs: Iterable[tuple[str, list[Any]]], *, patterns: tuple[str, ...]) -> dict[str, Any]:
    """Form fields (`QueryDict.lists()`) as a redacted dict: one value as itself, several as a list.

    Keys such as `user[address][card]` are matched on every bracketed part, so a secret nested in
    a form's naming convention is hidden too.
    """
    matcher = compile_patterns(patterns)
    result: dict[str, Any] = {}
    for key, values in pairs:
        parts = [key, *re.findall(r"\[([^\]]*)\]", key)]
        if any(matcher.match(part) for part in parts):
            result[key] = REDACTED
        else:
            result[key] = _walk(values[0] if len(values) == 1 else list(values), matcher, 1000)
    return result


def redact_url(url: str, *, patterns: tuple[str, ...]) -> str:
    """A URL whose query parameters with sensitive names carry "[redacted]" instead of their value."""
    parts = urlsplit(url)
    if not parts.query:
        return url
    matcher = compile_patterns(patterns)
    pairs = parse_qsl(parts.query, keep_blank_values=True)
    if not any(matcher.match(k) for k, _ in pairs):
        return url
    query = urlencode([(k, REDACTED if matcher.match(k) else v) for k, v in pairs], safe="[]")
    return urlunsplit(parts._replace(query=query))
