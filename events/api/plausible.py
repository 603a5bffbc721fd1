"""`POST /api/event`: Plausible's Events API, so sites keep the Plausible tracker they run.

Answers as Plausible does — 202 with the body `ok` — and, unlike Plausible, says why it refuses a
body: 400 with The Eye's error shape, naming Plausible's field (`name`, `url`, `domain`, `props.url`…).
"""

from __future__ import annotations

from typing import Any

from django.db import DatabaseError
from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema
from rest_framework import permissions, serializers
from rest_framework.request import Request
from rest_framework.views import APIView

from events import cors, ingest, plausible
from events.api import doors
from events.api.serializers import ErrorSerializer
from events.models import Site
from events.validation import EventValidationError
from the_eye.api_errors import ApiError


class PlausibleEventSerializer(serializers.Serializer):
    """Plausible's body; its script sends the short keys (n, u, d, r, p, $, i, h)."""

    name = serializers.CharField(help_text="n: `pageview`, `Outbound Link: Click`, `File Download`, or any name")
    url = serializers.URLField(help_text="u: the page's absolute URL")
    domain = serializers.CharField(help_text="d: a domain a site lists; comma-separated for several sites")
    referrer = serializers.CharField(required=False, allow_null=True, help_text="r")
    props = serializers.JSONField(required=False, help_text="p: custom properties (object, or a JSON string of one)")
    revenue = serializers.JSONField(required=False, help_text="$: {amount, currency}")
    interactive = serializers.BooleanField(required=False, help_text="i")


def _opted_out(request: Request, site: Site) -> bool:
    """A browser asking not to be tracked (DNT or GPC), for a site that respects that."""
    asks = request.META.get("HTTP_DNT") == "1" or request.META.get("HTTP_SEC_GPC") == "1"
    return asks and bool(request.META.get("HTTP_ORIGIN")) and site.respect_dnt


class PlausibleEvent(APIView):
    authentication_classes: list[Any] = []
    permission_classes = [permissions.AllowAny]

    @extend_schema(
        operation_id="plausible_event",
        request={"text/plain": PlausibleEventSerializer, "application/json": PlausibleEventSerializer},
        responses={
            202: OpenApiResponse(OpenApiTypes.STR, description="accepted: the body is `ok`, as Plausible answers"),
            400: OpenApiResponse(ErrorSerializer, description="a rule was broken, named by Plausible's field"),
            403: OpenApiResponse(ErrorSerializer, description="a browser origin the site does not list"),
            413: OpenApiResponse(ErrorSerializer, description="body over the size limit"),
            415: OpenApiResponse(ErrorSerializer, description="not JSON"),
            503: OpenApiResponse(ErrorSerializer, description="storage unreachable; nothing stored, send again"),
        },
        examples=[
            OpenApiExample(
                "A page view as Plausible's script sends it",
                value={"n": "pageview", "u": "https://example.org/courses/", "d": "example.org", "r": None},
                request_only=True,
            )
        ],
        description=(
            "Plausible's Events API. `domain` picks the site by the domains it lists. The visitor is "
            "the request's IP (X-Forwarded-For only from TRUSTED_PROXY_COUNT proxies) and User-Agent. "
            "pageview → page view; Outbound Link: Click → exit link; File Download → download; "
            "engagement → engaged time; other names → custom events with their props."
        ),
    )
    def post(self, request: Request) -> HttpResponse:
        body = doors.read_json_body(request._request)
        sender = ingest.Sender(
            ip=ingest.request_ip(request),
            user_agent=request.META.get("HTTP_USER_AGENT", "")[:1024],
            source="plausible",
            visitor=True,  # Plausible reads the visitor from the request, also when a server relays it
        )
        try:
            translated = plausible.translate(body=body, ip=sender.ip, user_agent=sender.user_agent)
        except plausible.PlausibleError as error:
            raise ApiError(
                status_code=400,
                code=error.code,
                detail=f"Nothing was stored: {error.field} {error.rule}.",
                errors=[{"field": error.field, "rule": error.rule}],
            ) from None
        except DatabaseError:
            raise ApiError(
                status_code=503, code="unavailable", detail="Storage is unreachable; nothing was stored, send again."
            ) from None
        for item in translated:
            cors.check_origin(request=request, site=item.site)
        wanted = [item for item in translated if not _opted_out(request, item.site)]
        try:
            plausible.accept(translated=wanted, sender=sender)
        except EventValidationError as error:
            raise ApiError(
                status_code=400,
                code=error.code,
                detail=error.as_body()["detail"],
                errors=plausible.plausible_fields(error),
            ) from None
        return HttpResponse("ok", status=202, content_type="text/plain; charset=utf-8")
