"""How the OpenAPI schema (drf-spectacular) describes The Eye's own API classes."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from drf_spectacular.authentication import BasicScheme


class HardenedBasicScheme(BasicScheme):
    """`the_eye.api_input.BasicAuthentication` is plain Basic auth to a client."""

    target_class = "the_eye.api_input.BasicAuthentication"


def describe_batches(result: dict[str, Any], generator: Any, request: Any, public: bool) -> dict[str, Any]:
    """Collecting bodies hold 1 to `EVENTS_MAX_BATCH` items; `POST /api/events/` also takes one
    event on its own. drf-spectacular writes a bare array for `many=True`, which would call `[]`
    valid although the door answers it 400."""
    limit = settings.EVENTS_MAX_BATCH
    for path, single in (("/api/events/", True), ("/api/logs/", False)):
        operation = result["paths"].get(path, {}).get("post")
        if not operation:
            continue
        content = operation["requestBody"]["content"]["application/json"]
        array = {**content["schema"], "minItems": 1, "maxItems": limit}
        content["schema"] = {"oneOf": [array["items"], array]} if single else array
    return result


def describe_rate_limits(result: dict[str, Any], generator: Any, request: Any, public: bool) -> dict[str, Any]:
    """Answers every API operation may give: 429 with `Retry-After` (Basic-auth failures are limited
    per address on every one of them, collecting requests per address and site: `the_eye.throttles`),
    and 405 when a path parameter's value names another route of the same prefix (a tutorial id
    of `heartbeat` reaches the POST-only heartbeat view)."""
    too_many = {
        "description": "too many requests (wrong passwords, or collecting too fast); wait `Retry-After` seconds",
        "headers": {"Retry-After": {"schema": {"type": "integer"}, "description": "seconds to wait"}},
        "content": {"application/json": {"schema": {"type": "object"}}},
    }
    not_allowed = {
        "description": "the path names a route that does not take this method",
        "content": {"application/json": {"schema": {"type": "object"}}},
    }
    for path, operations in result["paths"].items():
        if not path.startswith("/api/"):
            continue
        for operation in operations.values():
            if isinstance(operation, dict) and "responses" in operation:
                operation["responses"].setdefault("429", too_many)
                if "{" in path:
                    operation["responses"].setdefault("405", not_allowed)
    return result
