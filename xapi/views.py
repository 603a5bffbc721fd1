"""A minimal xAPI learning record store: `/xapi/about` and `/xapi/statements` (POST, PUT, GET).

Every answer carries `X-Experience-API-Version: 1.0.3`; requests to the statements resource must
send that header (any 1.0.x). Credentials are per site, HTTP Basic: the site's public id as the
user name and its server key as the password (`manage.py create_site`, or *Rotate the server key*
in admin). Errors are The Eye's JSON shape, naming the field and the rule.
"""

from __future__ import annotations

import base64
import binascii
from datetime import UTC, datetime
from typing import Any, TypeVar
from urllib.parse import urlencode

from django.conf import settings
from django.http import HttpResponse, HttpResponseBase, JsonResponse
from django.utils.http import http_date
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import permissions
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from events.api import doors
from events.api.serializers import ErrorSerializer
from events.models import Site
from xapi import state, statements
from xapi.statements import XapiError

HEADER = "X-Experience-API-Version"


def _error(status: int, field: str, rule: str, code: str = "invalid_statement") -> JsonResponse:
    response = JsonResponse({"error": code, "detail": f"{field} {rule}", "errors": [{"field": field, "rule": rule}]})
    response.status_code = status
    return response


AnyResponse = TypeVar("AnyResponse", bound=HttpResponseBase)


def _versioned(response: AnyResponse) -> AnyResponse:
    response[HEADER] = statements.VERSION
    return response


def _site(request: Request) -> Site | None:
    header = request.META.get("HTTP_AUTHORIZATION", "")
    if not header.lower().startswith("basic "):
        return None
    try:
        user, _, password = base64.b64decode(header[6:].strip()).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return None
    site = Site.objects.by_server_key(password) if password else None
    return site if site is not None and site.site_id == user else None


class About(APIView):
    authentication_classes: list[Any] = []
    permission_classes = [permissions.AllowAny]

    @extend_schema(operation_id="xapi_about", responses={200: OpenApiTypes.OBJECT})
    def get(self, request: Request) -> HttpResponse:
        """The xAPI versions this LRS speaks (no credentials needed)."""
        return _versioned(JsonResponse({"version": [statements.VERSION]}))


STATEMENT_ERRORS = {
    400: OpenApiResponse(ErrorSerializer, description="a rule of the specification was broken (named)"),
    401: OpenApiResponse(ErrorSerializer, description="no or wrong Basic credentials (site id : server key)"),
    409: OpenApiResponse(ErrorSerializer, description="a statement id already stored with other content"),
}


class LrsView(APIView):
    """A resource that needs a site's credentials and the version header, answered in xAPI's terms."""

    authentication_classes: list[Any] = []
    permission_classes = [permissions.AllowAny]
    site: Site

    def dispatch(self, request: Any, *args: Any, **kwargs: Any) -> HttpResponseBase:
        # The specification's own rules come before the view's: credentials, then the version.
        site = _site(request)
        if site is None:
            response = _error(401, "Authorization", "must be Basic credentials: site id and server key", "unauthorized")
            response["WWW-Authenticate"] = 'Basic realm="xAPI"'
            return _versioned(response)
        version = request.META.get("HTTP_X_EXPERIENCE_API_VERSION", "")
        if not version.startswith("1.0"):
            return _versioned(_error(400, HEADER, "is required: 1.0.3", "missing_version"))
        self.site = site
        try:
            return _versioned(super().dispatch(request, *args, **kwargs))
        except XapiError as error:
            return _versioned(_error(error.status, error.field, error.rule))

    def handle_exception(self, exc: Exception) -> Response:
        if isinstance(exc, XapiError):
            raise exc  # answered by dispatch in the specification's terms
        return super().handle_exception(exc)


class Statements(LrsView):
    @extend_schema(
        operation_id="xapi_statements_store",
        request=OpenApiTypes.OBJECT,
        responses={200: OpenApiTypes.OBJECT, **STATEMENT_ERRORS},
    )
    def post(self, request: Request) -> HttpResponse:
        """One statement or a list; answers the list of their ids."""
        ids = statements.store(site=self.site, payload=doors.read_json_body(request._request))
        return JsonResponse(ids, safe=False)

    @extend_schema(
        operation_id="xapi_statements_put",
        parameters=[OpenApiParameter("statementId", str, required=True)],
        request=OpenApiTypes.OBJECT,
        responses={204: None, **STATEMENT_ERRORS},
    )
    def put(self, request: Request) -> HttpResponse:
        """One statement under the id the `statementId` parameter gives."""
        statement_id = request.query_params.get("statementId")
        if not statement_id:
            raise XapiError("statementId", "is required")
        payload = doors.read_json_body(request._request)
        if isinstance(payload, list):
            raise XapiError("statement", "must be one statement")
        statements.store(site=self.site, payload=payload, statement_id=statements._uuid(statement_id, "statementId"))
        return HttpResponse(status=204)

    @extend_schema(
        operation_id="xapi_statements_read",
        parameters=[
            OpenApiParameter(name, str)
            for name in (
                "statementId",
                "voidedStatementId",
                "agent",
                "verb",
                "activity",
                "registration",
                "since",
                "until",
                "limit",
                "ascending",
            )
        ],
        responses={200: OpenApiTypes.OBJECT, 404: OpenApiResponse(ErrorSerializer), **STATEMENT_ERRORS},
    )
    def get(self, request: Request) -> HttpResponse:
        """One statement by id, or a page of them by filters, with a `more` link to the next page."""
        params = request.query_params
        now = datetime.now(UTC).isoformat().replace("+00:00", "Z")
        single = [name for name in ("statementId", "voidedStatementId") if params.get(name)]
        if single:
            if len(single) > 1 or any(params.get(n) for n in ("agent", "verb", "activity", "since", "until")):
                raise XapiError(single[0], "may not be combined with other filters")
            found = statements.get_one(
                site=self.site, statement_id=params[single[0]], voided=single[0] == "voidedStatementId"
            )
            response = JsonResponse(found)
        else:
            query = statements.parse_query(params)
            found_many, more = statements.find(site=self.site, query=query)
            link = ""
            if more:
                rest = {k: v for k, v in params.items() if k != "offset"}
                link = f"{request.path}?{urlencode({**rest, 'offset': query.offset + query.limit})}"
            response = JsonResponse({"statements": found_many, "more": link})
        response["X-Experience-API-Consistent-Through"] = now
        return response


def _body(request: Request) -> bytes:
    limit = settings.EVENTS_MAX_BODY_BYTES
    body = request._request.body
    if len(body) > limit:
        raise XapiError("body", f"must be at most {limit} bytes", status=413)
    return body


STATE_PARAMETERS = [
    OpenApiParameter("activityId", str, required=True),
    OpenApiParameter("agent", str, required=True, description="an Agent as JSON"),
    OpenApiParameter("registration", str),
    OpenApiParameter("stateId", str),
]


class State(LrsView):
    """`/xapi/activities/state`: one document per (activity, agent, registration, stateId)."""

    def _conditions(self, request: Request) -> dict[str, str]:
        return {
            "if_match": request.META.get("HTTP_IF_MATCH", ""),
            "if_none_match": request.META.get("HTTP_IF_NONE_MATCH", ""),
        }

    def _save(self, request: Request, *, merge: bool) -> HttpResponse:
        state.save(
            site=self.site,
            key=state.parse_key(request.query_params),
            state_id=request.query_params.get("stateId", ""),
            content=_body(request),
            content_type=request.META.get("CONTENT_TYPE", ""),
            merge=merge,
            **self._conditions(request),
        )
        return HttpResponse(status=204)

    @extend_schema(
        operation_id="xapi_state_put",
        parameters=STATE_PARAMETERS,
        request=OpenApiTypes.BINARY,
        responses={204: None, **STATEMENT_ERRORS},
    )
    def put(self, request: Request) -> HttpResponse:
        """Store the document, replacing any stored one."""
        return self._save(request, merge=False)

    @extend_schema(
        operation_id="xapi_state_post",
        parameters=STATE_PARAMETERS,
        request=OpenApiTypes.OBJECT,
        responses={204: None, **STATEMENT_ERRORS},
    )
    def post(self, request: Request) -> HttpResponse:
        """Merge a JSON object into the stored JSON document (or store it)."""
        return self._save(request, merge=True)

    @extend_schema(
        operation_id="xapi_state_read",
        parameters=[*STATE_PARAMETERS, OpenApiParameter("since", str)],
        responses={200: OpenApiTypes.BINARY, 404: OpenApiResponse(ErrorSerializer), **STATEMENT_ERRORS},
    )
    def get(self, request: Request) -> HttpResponse:
        """One document, or without stateId the list of the documents' ids."""
        key = state.parse_key(request.query_params)
        state_id = request.query_params.get("stateId")
        if not state_id:
            return JsonResponse(state.ids(site=self.site, key=key, since=request.query_params.get("since")), safe=False)
        document = state.read(site=self.site, key=key, state_id=state_id)
        response = HttpResponse(bytes(document.content), content_type=document.content_type)
        response["ETag"] = f'"{document.etag}"'
        response["Last-Modified"] = http_date(document.updated.timestamp())
        return response

    @extend_schema(
        operation_id="xapi_state_delete", parameters=STATE_PARAMETERS, responses={204: None, **STATEMENT_ERRORS}
    )
    def delete(self, request: Request) -> HttpResponse:
        """Delete one document, or without stateId all of them for the activity and agent."""
        state.delete(
            site=self.site,
            key=state.parse_key(request.query_params),
            state_id=request.query_params.get("stateId") or None,
            if_match=request.META.get("HTTP_IF_MATCH", ""),
        )
        return HttpResponse(status=204)
