"""One shape for every API error: `{"error": code, "detail": text, "errors": [{field, rule}]}`.

Views raise `ApiError` (or DRF's own exceptions); `exception_handler` renders both the same way,
and `json_404` / `json_500` keep HTML error pages away from `/api/` clients.
"""

from __future__ import annotations

import logging
from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.db import InterfaceError, OperationalError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.views import defaults
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from events.validation import printable

log = logging.getLogger(__name__)

RETRY_AFTER_SECONDS = 30


class ApiError(exceptions.APIException):
    """An error with a status, a code and an optional list of broken field rules."""

    def __init__(
        self,
        *,
        status_code: int,
        code: str,
        detail: str,
        errors: list[dict[str, Any]] | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(detail=detail, code=code)
        self.status_code = status_code
        self.body = {"error": code, "detail": detail, "errors": errors or [], **(extra or {})}
        # 503 and 429 tell the client when to come back (the body's `retry_after`, in seconds).
        self.wait = (extra or {}).get("retry_after")


def _flatten(data: Any, prefix: str = "") -> list[dict[str, Any]]:
    if isinstance(data, dict):
        out: list[dict[str, Any]] = []
        for key, value in data.items():
            name = f"{prefix}.{key}" if prefix else str(key)
            out.extend(_flatten(value, "" if key == "non_field_errors" else name))
        return out
    if isinstance(data, list):
        return [item for value in data for item in _flatten(value, prefix)]
    # A rule may quote the input ("\ud800" is not a valid choice); echoed raw, a lone surrogate
    # would make the JSON renderer itself fail.
    return [{"field": printable(prefix), "rule": printable(str(data))}]


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    # Django's own exceptions, as DRF's handler would map them, so they get DRF's codes too.
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    if isinstance(exc, (OperationalError, InterfaceError)):
        # The database cannot be reached (and, on a collecting door, neither can the queue).
        log.warning("database unreachable: %s", exc)
        exc = ApiError(
            status_code=503,
            code="unavailable",
            detail="The service is briefly unavailable; nothing of the request was stored. Retry later.",
            extra={"retry_after": RETRY_AFTER_SECONDS},
        )
    if isinstance(exc, ApiError):
        headers = {"Retry-After": str(exc.wait)} if exc.wait else None
        return Response(exc.body, status=exc.status_code, headers=headers)
    response = drf_exception_handler(exc, context)
    if response is None:
        log.exception("unhandled error in API view", exc_info=exc)
        return Response(
            {"error": "server_error", "detail": "The server failed; nothing of the request was stored.", "errors": []},
            status=status.HTTP_500_INTERNAL_SERVER_ERROR,
        )
    if isinstance(exc, exceptions.ValidationError):
        body = {"error": "invalid", "detail": "The request broke the listed rules.", "errors": _flatten(exc.detail)}
    else:
        detail = exc.detail if isinstance(exc, exceptions.APIException) else str(exc)
        code = exc.get_codes() if isinstance(exc, exceptions.APIException) else "error"
        body = {"error": code if isinstance(code, str) else "error", "detail": printable(str(detail)), "errors": []}
    response.data = body
    return response


def wants_json(request: HttpRequest) -> bool:
    return request.path.startswith(("/api/", "/xapi/", "/health"))


def json_404(request: HttpRequest, exception: Exception) -> HttpResponse:
    if wants_json(request):
        return JsonResponse({"error": "not_found", "detail": "No such resource.", "errors": []}, status=404)
    return defaults.page_not_found(request, exception)


def json_500(request: HttpRequest) -> HttpResponse:
    if wants_json(request):
        return JsonResponse(
            {"error": "server_error", "detail": "The server failed; nothing of the request was stored.", "errors": []},
            status=500,
        )
    return defaults.server_error(request)
