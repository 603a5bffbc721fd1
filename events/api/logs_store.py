"""HTTP views of the Logs Store format: `POST /api/logs/` to collect, `GET /api/logs/` to read.

Every answer speaks the format's own shape: 200 `{"success": true}` or a list of logs, and for
any error `{"success": false, "code": CODE}` (plus `field` and `rule` when one is to blame) —
also for a malformed body, a wrong content type, a body too large or a missing login.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from events import cors, ingest, logs_store
from events.api import doors
from events.api.access import OpenToSendersMixin
from events.models import Site
from events.validation import query_moment
from the_eye.api_errors import ApiError
from the_eye.api_errors import exception_handler as eye_exception_handler

# Codes of the shared door helpers, in the format's upper-case style; an empty body has no logs.
DOOR_CODES = {"empty_body": "NO_LOGS_PROVIDED"}


def logs_store_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """Render any error of these views as `{"success": false, "code": CODE, ...}`."""
    if isinstance(exc, logs_store.LogsStoreError):
        return Response(exc.as_body(), status=exc.status)
    response = eye_exception_handler(exc, context)
    if response is None:
        return None
    eye_body = response.data
    code = eye_body.get("error") if isinstance(eye_body.get("error"), str) else "error"
    body: dict[str, Any] = {"success": False, "code": DOOR_CODES.get(code, code.upper())}
    if eye_body.get("errors"):
        body.update(field=eye_body["errors"][0].get("field", ""), rule=eye_body["errors"][0].get("rule", ""))
    body["detail"] = eye_body.get("detail", "")
    response.data = body
    return response


class ActionSerializer(serializers.Serializer):
    time = serializers.DateTimeField(help_text="ISO 8601 with a UTC offset, e.g. 2018-10-18T21:37:28-06:00")
    type = serializers.ChoiceField(choices=logs_store.TYPES)
    properties = serializers.JSONField(
        help_text="CLICK: {locationX, locationY} (numbers); VIEW: {viewedId}; NAVIGATE: {pageFrom, pageTo}"
    )


class LogSerializer(serializers.Serializer):
    # camelCase: the format's own field names.
    userId = serializers.CharField(max_length=150)
    sessionId = serializers.CharField(max_length=128)
    actions = ActionSerializer(many=True)


class SuccessSerializer(serializers.Serializer):
    success = serializers.BooleanField()


class LogsErrorSerializer(serializers.Serializer):
    success = serializers.BooleanField(default=False)
    code = serializers.CharField(help_text="NO_LOGS_PROVIDED, MISSING_USERID, INVALID_TIME_FORMAT, …")
    field = serializers.CharField(required=False, help_text="where the broken rule is, e.g. [0].actions[1].time")
    rule = serializers.CharField(required=False)
    detail = serializers.CharField(required=False)


ERRORS = {
    400: OpenApiResponse(LogsErrorSerializer, description="a rule was broken; nothing stored"),
}


def _bound(value: str | None, *, end: bool) -> datetime | None:
    if not value:
        return None
    try:
        moment = query_moment(value)
    except ValueError as error:
        raise logs_store.LogsStoreError("INVALID_TIME_FORMAT", field="to" if end else "from", rule=str(error)) from None
    if isinstance(moment, datetime):
        return moment
    # A date alone: from its first moment, or to its last (the whole day is included).
    midnight = datetime.combine(moment, time.min, tzinfo=UTC)
    return midnight + timedelta(days=1, microseconds=-1) if end else midnight


class LogCollection(OpenToSendersMixin, APIView):
    """`POST`: anyone sends Logs Store logs for a site. `GET`: staff read them back as logs."""

    def get_exception_handler(self):
        return logs_store_exception_handler

    @staticmethod
    def error_body(*, code: str, field: str, rule: str) -> dict[str, Any]:
        """The format's shape for errors answered before the view runs (`the_eye.guards`)."""
        return logs_store.LogsStoreError(code.upper(), field=field, rule=rule).as_body()

    @extend_schema(
        operation_id="logs_create",
        request=LogSerializer(many=True),
        responses={
            200: SuccessSerializer,
            **ERRORS,
            401: OpenApiResponse(LogsErrorSerializer, description="wrong server key (BAD_SERVER_KEY)"),
            403: OpenApiResponse(LogsErrorSerializer, description="a browser origin the site does not list"),
            413: OpenApiResponse(LogsErrorSerializer, description="body over the size limit (BODY_TOO_LARGE)"),
            415: OpenApiResponse(LogsErrorSerializer, description="not JSON (UNSUPPORTED_MEDIA_TYPE)"),
        },
        description=(
            "The Logs Store format: an array of logs, each action one event (category logs_store, "
            "name = its type). All or nothing: the first broken rule is answered with its code and "
            "nothing is stored. The site comes from X-Site-Id, a server key, or the default site."
        ),
    )
    def post(self, request: Request) -> Response:
        try:
            payload = doors.read_json_body(request._request)
        except ApiError as error:
            if error.body["error"] != "empty_body":
                raise
            payload = None  # an empty body holds no logs: the format's own code says so
        site, trusted = doors.find_site(request, payload if isinstance(payload, list) else None)
        cors.check_origin(request=request, site=site)
        sender = ingest.sender_for_request(request, source="logs_store", trusted=trusted)
        logs_store.accept_logs(site=site, payload=payload, sender=sender)
        return Response({"success": True})

    @extend_schema(
        operation_id="logs_list",
        parameters=[
            OpenApiParameter("userId", OpenApiTypes.STR, description="only this user's logs"),
            OpenApiParameter("from", OpenApiTypes.STR, description="actions at or after this moment (ISO 8601, date)"),
            OpenApiParameter(
                "to", OpenApiTypes.STR, description="actions at or before this moment (a date: all of it)"
            ),
            OpenApiParameter("types", OpenApiTypes.STR, description="comma list of CLICK, VIEW, NAVIGATE"),
            OpenApiParameter("site", OpenApiTypes.STR, description="public site id (default: all sites)"),
        ],
        responses={
            200: LogSerializer(many=True),
            **ERRORS,
            401: OpenApiResponse(LogsErrorSerializer, description="not logged in"),
            403: OpenApiResponse(LogsErrorSerializer, description="not staff"),
        },
        description="Stored Logs Store actions grouped into logs by userId and sessionId (staff only).",
    )
    def get(self, request: Request) -> Response:
        params = request.query_params
        site = None
        if params.get("site"):
            site = Site.objects.by_public_id(params["site"])
            if site is None:
                raise logs_store.LogsStoreError("UNKNOWN_SITE", field="site", rule="must be the public id of a site")
        query = logs_store.LogQuery(
            user_id=params.get("userId") or None,
            start=_bound(params.get("from"), end=False),
            end=_bound(params.get("to"), end=True),
            types=logs_store.parse_types(params.get("types")),
            site=site,
        )
        return Response(logs_store.find_logs(query=query))
