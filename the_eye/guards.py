"""Input no view should ever see: refused before it can reach a view, a query or the database.

- `RequestGuardMiddleware` answers 400 for a NUL character in the query string, the path or a
  header (PostgreSQL refuses NUL in any text, so a filter, a site id or a session cookie holding
  one would otherwise end in a 500), and 405 with `Allow` for a method a DRF view does not
  define (TRACE, PUT, …), before authentication could answer 403 for it.
- `the_eye.api_input` holds the same guards for DRF: a NUL in Basic-auth credentials, a body
  nested too deeply to decode.

APIs get the JSON error body of `the_eye.api_errors`; HTML pages get the styled `400.html`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.urls import Resolver404, resolve
from rest_framework.views import APIView

from events.validation import NUL_RULE, printable, text_rule
from the_eye.api_errors import wants_json


def _first_unstorable(request: HttpRequest) -> tuple[str, str] | None:
    """(field, rule) of the first place of the request a store could not keep, or None."""
    if "\x00" in request.path:
        return "path", NUL_RULE
    for name, values in request.GET.lists():
        for value in (name, *values):
            rule = text_rule(value)
            if rule:
                return name, rule
    for key, value in request.META.items():
        if key.startswith("HTTP_") and isinstance(value, str) and "\x00" in value:
            return key[5:].replace("_", "-").title(), NUL_RULE
    return None


def _view_class(request: HttpRequest) -> type | None:
    try:
        match = resolve(request.path_info)
    except Resolver404:
        return None
    return getattr(match.func, "cls", None)  # set by DRF's as_view()


def error_response(
    view_class: type | None, *, status: int, code: str, detail: str, field: str, rule: str
) -> JsonResponse:
    """An API error in the shape of the view that would have answered.

    The Eye's shape `{error, detail, errors: [{field, rule}]}`, unless the view speaks another
    format and says so with an `error_body(code=, field=, rule=)` static method.
    """
    shape = getattr(view_class, "error_body", None)
    if shape is not None:
        return JsonResponse(shape(code=code, field=field, rule=rule), status=status)
    return JsonResponse({"error": code, "detail": detail, "errors": [{"field": field, "rule": rule}]}, status=status)


def bad_request(request: HttpRequest, *, field: str, rule: str) -> HttpResponse:
    """The 400 answer for one broken rule: JSON for APIs, the styled page for HTML."""
    field = printable(field)
    if wants_json(request):
        return error_response(
            _view_class(request), status=400, code="invalid_value", detail=f"{field}: {rule}", field=field, rule=rule
        )
    return render(request, "400.html", {"field": field, "rule": rule}, status=400)


class RequestGuardMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        broken = _first_unstorable(request)
        if broken:
            return bad_request(request, field=broken[0], rule=broken[1])
        return self.get_response(request)

    def process_view(
        self, request: HttpRequest, view_func: Any, view_args: Any, view_kwargs: Any
    ) -> HttpResponse | None:
        view_class = getattr(view_func, "cls", None)
        if not (isinstance(view_class, type) and issubclass(view_class, APIView)):
            return None
        allowed = [
            m.upper()
            for m in view_class.http_method_names
            if hasattr(view_class, m) or (m == "head" and hasattr(view_class, "get"))
        ]
        if request.method in allowed:
            return None
        response = error_response(
            view_class,
            status=405,
            code="method_not_allowed",
            detail=f"Method {request.method} is not allowed here.",
            field="method",
            rule=f"must be one of {', '.join(allowed)}",
        )
        response["Allow"] = ", ".join(allowed)
        return response
