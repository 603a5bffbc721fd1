"""Record every request a Django host site serves as one The Eye event, without slowing it down.

A host site adds one line and two settings:

    MIDDLEWARE = [..., "the_eye_client.middleware.TheEyeMiddleware"]
    THE_EYE_COLLECTOR_URL = "https://eye.example.org"   # or "local" inside The Eye itself
    THE_EYE_SERVER_KEY = "tes_…"                       # printed by `manage.py create_site`

Each request becomes a `server/request` event with what the seed recorded — username, path, user
agent, IP, UTC time, first-time or returning visitor, method, referrer, view args and kwargs, POST
data — plus the response status, query parameters, uploaded file names and the time the host
took. Every value under a sensitive key is replaced by "[redacted]" first (the_eye_client.redaction).
Building the event costs tens of microseconds; delivering it is the background sender's job
(the_eye_client.sender). Nothing here can fail the host's request: every step is wrapped, and a failure
is logged and the request goes on untouched.

Visitors are told apart by a first-party cookie (`the_eye_vid`, 6 months, as the seed did): no
cookie means a first visit. Visits are grouped by a second cookie (`the_eye_sid`) that expires
after 30 minutes without a request. Neither holds anything but a random id.
"""

from __future__ import annotations

import ipaddress
import json
import logging
import re
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import MiddlewareNotUsed
from django.http import HttpRequest, HttpResponse

from the_eye_client import redaction
from the_eye_client.sender import USER_AGENT, BackgroundSender, SenderConfig, get_sender

log = logging.getLogger(__name__)

VISITOR_SECONDS = 183 * 24 * 3600  # "returning" means seen in the previous 6 months
_ID = re.compile(r"^[0-9a-f]{32}$")
_HOST = re.compile(r"^[a-z0-9.-]{1,253}(:\d{1,5})?$")
_JSON_TYPES = ("application/json",)
_BODY_METHODS = ("POST", "PUT", "PATCH")
# The Eye's own collecting endpoints: recording them would record every event twice.
_LOCAL_SKIP = ("/api/events/", "/api/logs/", "/api/event", "/django-rq/")
# Optional parts of an event's data that can grow large, bulkiest (and least needed) first.
_BULKY = ("post", "query", "files", "view_kwargs", "view_args")


def _setting(name: str, default: Any) -> Any:
    return getattr(settings, name, default)


def _url_path(url: str | None) -> str | None:
    if not url:
        return None
    path = urlsplit(str(url)).path or "/"
    return path if path.startswith("/") else "/" + path


def config_from_settings() -> SenderConfig:
    """The background sender's configuration from the host's `THE_EYE_*` settings."""
    return SenderConfig(
        collector_url=str(_setting("THE_EYE_COLLECTOR_URL", "") or "").strip(),
        server_key=str(_setting("THE_EYE_SERVER_KEY", "") or "").strip(),
        batch_size=int(_setting("THE_EYE_BATCH_SIZE", 100)),
        interval=float(_setting("THE_EYE_FLUSH_INTERVAL", 2.0)),
        capacity=int(_setting("THE_EYE_BUFFER_SIZE", 10_000)),
        timeout=float(_setting("THE_EYE_TIMEOUT", 5.0)),
        spool_dir=str(_setting("THE_EYE_SPOOL_DIR", "") or ""),
    )


def default_skip_paths() -> list[str]:
    """Paths never recorded unless the host says otherwise: files, admin, health checks.

    Static and media prefixes come from `STATIC_URL` / `MEDIA_URL`; the admin's from its URL
    name when the admin is installed.
    """
    paths = ["/admin/", "/health", "/healthz", "/favicon.ico", "/robots.txt", "/__debug__/"]
    for name in ("STATIC_URL", "MEDIA_URL"):
        path = _url_path(_setting(name, None))
        if path and path != "/":
            paths.append(path)
    try:
        from django.urls import reverse

        paths.append(reverse("admin:index"))
    except Exception:  # no admin, or the URLconf is not loadable yet: "/admin/" stays
        pass
    return paths


class SkipList:
    """Prefix matching on whole path segments: `/health` skips `/health` and `/health/db`, not `/healthy`."""

    def __init__(self, paths: list[str]) -> None:
        clean = {p if p.startswith("/") else "/" + p for p in paths if p}
        self.exact = frozenset(p.rstrip("/") or "/" for p in clean)
        self.prefixes = tuple(sorted({p if p.endswith("/") else p + "/" for p in clean}))

    def __contains__(self, path: str) -> bool:
        return path in self.exact or path.startswith(self.prefixes)


def client_ip(request: HttpRequest, *, proxies: int) -> str | None:
    """The visitor's address: behind `proxies` trusted proxies, from X-Forwarded-For; else REMOTE_ADDR."""
    candidate = request.META.get("REMOTE_ADDR") or ""
    if proxies:
        forwarded = [p.strip() for p in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if p.strip()]
        if len(forwarded) >= proxies:
            candidate = forwarded[-proxies]
    try:
        return str(ipaddress.ip_address(candidate.split("%")[0]))
    except ValueError:
        return None


def json_safe(value: Any) -> Any:
    """View arguments as JSON: path converters may hand views ints, UUIDs or model instances."""
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    if value is None or isinstance(value, (str, bool, int, float)):
        return value
    return str(value)


class TheEyeMiddleware:
    """Sends one `server/request` event per request to The Eye through the background sender."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        collector = str(_setting("THE_EYE_COLLECTOR_URL", "") or "").strip()
        server_key = str(_setting("THE_EYE_SERVER_KEY", "") or "").strip()
        if not collector:
            raise MiddlewareNotUsed("THE_EYE_COLLECTOR_URL is not set; requests are not recorded")
        if collector != "local" and not server_key:
            log.error("THE_EYE_SERVER_KEY is not set; requests are not recorded")
            raise MiddlewareNotUsed("THE_EYE_SERVER_KEY is not set")
        try:
            self.sender: BackgroundSender = get_sender(config=config_from_settings())
        except RuntimeError as error:  # "local" outside The Eye
            log.error("%s; requests are not recorded", error)
            raise MiddlewareNotUsed(str(error)) from None
        extra_skips = list(_setting("THE_EYE_SKIP_PATHS", []))
        self._skip_paths = extra_skips + (list(_LOCAL_SKIP) if collector == "local" else [])
        self._skip: SkipList | None = None  # built on the first request, once the URLconf loads
        self.patterns = redaction.DEFAULT_SENSITIVE_KEYS + tuple(_setting("THE_EYE_REDACT_KEYS", ()))
        self.visitor_cookie = _setting("THE_EYE_VISITOR_COOKIE", "the_eye_vid")
        self.session_cookie = _setting("THE_EYE_SESSION_COOKIE", "the_eye_sid")
        self.session_seconds = int(_setting("THE_EYE_SESSION_SECONDS", 30 * 60))
        self.proxies = int(_setting("THE_EYE_TRUSTED_PROXY_COUNT", 0))
        self.max_data_bytes = int(_setting("THE_EYE_MAX_DATA_BYTES", 12_000))

    def __call__(self, request: HttpRequest) -> HttpResponse:
        started = None
        try:
            if self._skip is None:
                self._skip = SkipList(default_skip_paths() + self._skip_paths)
            if request.path not in self._skip and request.META.get("HTTP_USER_AGENT") != USER_AGENT:
                started = (time.perf_counter(), datetime.now(UTC))
        except Exception:
            log.exception("The Eye could not inspect a request")
        response = self.get_response(request)
        if started is not None:
            try:
                self.record(request=request, response=response, started=started)
            except Exception:
                log.exception("The Eye could not record %s %s", request.method, request.path)
        return response

    def process_view(
        self, request: HttpRequest, view_func: Callable[..., Any], view_args: tuple, view_kwargs: dict
    ) -> None:
        # Keep references only; they are read after the view has run, off the hot path's start.
        request._the_eye_view = (view_func, view_args, view_kwargs)  # type: ignore[attr-defined]

    def record(self, *, request: HttpRequest, response: HttpResponse, started: tuple[float, datetime]) -> None:
        """Build this request's event, set the visitor and visit cookies, and queue the event.

        Never touches the network. Raises only on bugs, which `__call__` logs and swallows.
        """
        visitor = request.COOKIES.get(self.visitor_cookie, "")
        first_visit = not _ID.match(visitor)
        if first_visit:
            visitor = uuid.uuid4().hex
        session = request.COOKIES.get(self.session_cookie, "")
        if not _ID.match(session):
            session = uuid.uuid4().hex

        data = self._request_data(request, response, started[0])
        data["first_visit"] = first_visit
        event: dict[str, Any] = {
            "id": str(uuid.uuid4()),
            "category": "server",
            "name": "request",
            "timestamp": started[1].isoformat(),
            "session_id": session,
            "visitor_id": visitor,
            "user": self._username(request),
            "user_agent": request.META.get("HTTP_USER_AGENT", "")[:1024],
            # HTTP_REFERER, spelled as the HTTP standard spells it (the seed's "HTTP_REFERRER" never matched).
            "referrer": redaction.redact_url(request.META.get("HTTP_REFERER", ""), patterns=self.patterns)[:4096],
            "data": data,
        }
        ip = client_ip(request, proxies=self.proxies)
        if ip:
            event["ip"] = ip

        secure = request.is_secure()
        if first_visit:
            response.set_cookie(
                self.visitor_cookie, visitor, max_age=VISITOR_SECONDS, httponly=True, samesite="Lax", secure=secure
            )
        # Sliding expiry: the visit lasts while requests keep coming.
        response.set_cookie(
            self.session_cookie, session, max_age=self.session_seconds, httponly=True, samesite="Lax", secure=secure
        )
        self.sender.submit(event)

    @staticmethod
    def _username(request: HttpRequest) -> str:
        user = getattr(request, "user", None)
        if user is not None and getattr(user, "is_authenticated", False):
            return str(user.get_username())[:150]
        return ""

    @staticmethod
    def _host(request: HttpRequest) -> str:
        try:
            host = request.get_host()
        except Exception:  # DisallowedHost: the host already answered 400; still count it
            host = request.META.get("SERVER_NAME", "")
        host = host.lower()
        return host if _HOST.match(host) else "unknown.invalid"

    def _request_data(self, request: HttpRequest, response: HttpResponse, started: float) -> dict[str, Any]:
        patterns = self.patterns
        path = request.path
        data: dict[str, Any] = {
            "host": self._host(request),
            "path": path,
            "method": (request.method or "GET")[:16],
            "status": response.status_code,
        }
        view = getattr(request, "_the_eye_view", None)
        if view is not None:
            view_func, view_args, view_kwargs = view
            # A class-based view's function is a closure named "as_view.<locals>.view": name the class.
            named = getattr(view_func, "view_class", view_func)
            data["view"] = f"{getattr(named, '__module__', '')}.{getattr(named, '__qualname__', named)}"
            match = getattr(request, "resolver_match", None)
            if match is not None and match.url_name:
                data["url_name"] = match.view_name  # with its namespace, as reverse() takes it
            if view_args:
                data["view_args"] = redaction.redact(json_safe(list(view_args)), patterns=patterns)
            if view_kwargs:
                data["view_kwargs"] = redaction.redact(json_safe(view_kwargs), patterns=patterns)
                # A secret in the URL itself (a password-reset token) must not survive in the path.
                for key, value in view_kwargs.items():
                    text = str(value)
                    if text and redaction.is_sensitive(key, patterns=patterns) and text in path:
                        path = path.replace(text, redaction.REDACTED)
        data["path"] = path[:2048]
        if request.GET:
            data["query"] = redaction.redact_query_dict(request.GET.lists(), patterns=patterns)
        if request.method in _BODY_METHODS:
            self._add_body(request, data)
        data["duration_ms"] = round((time.perf_counter() - started) * 1000, 3)
        if any(part in data for part in _BULKY):  # without these the data is small
            self._fit(data)
        return data

    def _add_body(self, request: HttpRequest, data: dict[str, Any]) -> None:
        content_type = (request.content_type or "").lower()
        if content_type in _JSON_TYPES:
            try:
                body = request.body
            except Exception:  # the view read the stream itself: the body is gone
                return
            if body and len(body) <= 64 * 1024:
                try:
                    data["post"] = redaction.redact(json.loads(body), patterns=self.patterns)
                except ValueError:
                    data["post"] = "[not JSON]"
            return
        try:
            post, files = request.POST, request.FILES
        except Exception:  # malformed multipart, too many fields: the host answered it already
            return
        if post:
            data["post"] = redaction.redact_query_dict(post.lists(), patterns=self.patterns)
        if files:
            # Never the contents: only which fields carried which file names.
            data["files"] = {field: [f.name for f in files.getlist(field)] for field in files}

    def _fit(self, data: dict[str, Any]) -> None:
        # The collector refuses an event whose data is over its limit (16 KB by default); drop the
        # bulkiest optional parts rather than lose the whole event.
        for part in _BULKY:
            if len(json.dumps(data, separators=(",", ":"))) <= self.max_data_bytes:
                return
            if part in data:
                data[part] = f"[omitted: more than {self.max_data_bytes} bytes]"
