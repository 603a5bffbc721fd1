"""HTTP views of The Eye's event format: `POST /api/events/` to collect, `GET` to read."""

from __future__ import annotations

from typing import Any

from django.http import Http404
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import generics, status
from rest_framework.exceptions import NotFound
from rest_framework.pagination import PageNumberPagination
from rest_framework.request import Request
from rest_framework.response import Response

from events import cors, ingest
from events.api import doors
from events.api.access import OpenToSendersMixin
from events.api.filters import EventFilter
from events.api.serializers import AcceptedSerializer, ErrorSerializer, EventInSerializer, EventSerializer
from events.models import Event
from events.validation import EventValidationError
from the_eye.api_errors import ApiError


class EventPagination(PageNumberPagination):
    page_size = 10
    page_size_query_param = "page_size"
    max_page_size = 1000


def accept_or_raise(*, request: Request, payload: Any, source: str) -> ingest.Accepted:
    """Hand a decoded body to the write path; map its errors to 4xx answers."""
    site, trusted = doors.find_site(request, payload)
    cors.check_origin(request=request, site=site)
    sender = ingest.sender_for_request(request, source=source, trusted=trusted)
    try:
        return ingest.accept(site=site, payload=payload, sender=sender)
    except EventValidationError as error:
        raise ApiError(
            status_code=400, code=error.code, detail=error.as_body()["detail"], errors=error.as_body()["errors"]
        ) from None


READ_ERRORS = {
    401: OpenApiResponse(ErrorSerializer, description="wrong credentials"),
    403: OpenApiResponse(ErrorSerializer, description="not logged in, or not staff"),
}


@extend_schema_view(
    get=extend_schema(
        responses={
            200: EventSerializer(many=True),
            400: OpenApiResponse(ErrorSerializer, description="an unparsable filter value, named in `errors`"),
            404: OpenApiResponse(ErrorSerializer, description="a page past the end"),
            **READ_ERRORS,
        },
        description="Stored events, newest first, 10 to a page (page_size up to 1000). Staff only.",
    )
)
class EventCollection(OpenToSendersMixin, generics.ListAPIView):
    """`GET`: staff read stored events, newest first. `POST`: anyone with a site id sends events."""

    serializer_class = EventSerializer
    filterset_class = EventFilter
    pagination_class = EventPagination
    queryset = Event.objects.select_related("site").order_by("-timestamp", "-id")

    @extend_schema(
        request=EventInSerializer(many=True),
        responses={
            202: AcceptedSerializer,
            400: OpenApiResponse(ErrorSerializer, description="a rule was broken; nothing stored"),
            401: OpenApiResponse(ErrorSerializer, description="wrong server key"),
            403: OpenApiResponse(ErrorSerializer, description="a browser sent from an origin the site does not list"),
            413: OpenApiResponse(ErrorSerializer, description="body over the size limit"),
            415: OpenApiResponse(ErrorSerializer, description="not JSON"),
        },
        description=(
            "One event object or an array of up to 1,000. All or nothing: if any event breaks a "
            "rule, the answer lists each (index, field, rule) and nothing is stored. Accepted "
            "events are queued as one job and stored idempotently on their id."
        ),
    )
    def post(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        payload = doors.read_json_body(request._request)
        if doors.visitor_opted_out(request, payload):
            return Response({"accepted": 0, "ids": [], "ignored": "do_not_track"}, status=status.HTTP_202_ACCEPTED)
        accepted = accept_or_raise(request=request, payload=payload, source="api")
        return Response({"accepted": accepted.count, "ids": accepted.ids}, status=status.HTTP_202_ACCEPTED)


@extend_schema_view(
    get=extend_schema(
        responses={
            200: EventSerializer,
            404: OpenApiResponse(ErrorSerializer, description="no event has this id"),
            **READ_ERRORS,
        },
    )
)
class EventDetail(generics.RetrieveAPIView):
    """One stored event (staff)."""

    serializer_class = EventSerializer
    queryset = Event.objects.select_related("site")

    def get_object(self) -> Event:
        # DRF's own NotFound (rather than Django's Http404) keeps the `not_found` code in the body.
        try:
            return super().get_object()
        except Http404:
            raise NotFound("No event has this id.") from None
