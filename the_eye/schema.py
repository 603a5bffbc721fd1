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
