"""Staff endpoints for subject requests: export one subject's data, erase it, follow the erasure."""

from __future__ import annotations

from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from events.api.serializers import ErrorSerializer
from events.erasure import KINDS, Subject
from privacy import requests
from privacy.models import SubjectRequest
from the_eye.api_errors import ApiError


def subject_from(data) -> Subject:
    """The one subject named by `user`, `visitor` or `session`; ApiError (400) otherwise."""
    named = [(kind, str(data.get(kind, "")).strip()) for kind in KINDS if str(data.get(kind, "")).strip()]
    if len(named) != 1:
        raise ApiError(
            status_code=400,
            code="invalid_subject",
            detail="name exactly one of user, visitor, session",
            errors=[{"field": "user", "rule": "exactly one of user, visitor or session is required"}],
        )
    kind, value = named[0]
    try:
        return Subject(kind=kind, value=value)
    except ValueError as error:
        raise ApiError(
            status_code=400, code="invalid_subject", detail=str(error), errors=[{"field": kind, "rule": str(error)}]
        ) from None


ERRORS = {
    400: OpenApiResponse(ErrorSerializer, description="no subject, or more than one, named in `errors`"),
    401: OpenApiResponse(ErrorSerializer, description="wrong credentials"),
    403: OpenApiResponse(ErrorSerializer, description="not logged in, or not staff"),
}
SUBJECT_PARAMETERS = [
    OpenApiParameter(kind, OpenApiTypes.STR, description=f"the subject's {label}")
    for kind, label in (("user", "user name"), ("visitor", "visitor id"), ("session", "session id as sent"))
]


class SubjectRequestSerializer(serializers.ModelSerializer):
    class Meta:
        model = SubjectRequest
        fields = [
            "id",
            "action",
            "subject_kind",
            "requested_by",
            "requested_at",
            "started_at",
            "finished_at",
            "status",
            "events",
            "visits",
            "visitors",
            "progress_rows",
            "error",
        ]
        read_only_fields = fields


class SubjectInSerializer(serializers.Serializer):
    user = serializers.CharField(required=False, help_text="the subject's user name")
    visitor = serializers.CharField(required=False, help_text="a visitor id (cookie or cookieless hash)")
    session = serializers.CharField(required=False, help_text="a session id as the client sent it")


class ExportView(APIView):
    """Everything held about one subject, as a ZIP of JSON and CSV files (staff only)."""

    @extend_schema(
        parameters=SUBJECT_PARAMETERS,
        responses={
            (200, "application/zip"): OpenApiResponse(OpenApiTypes.BINARY, description="a ZIP archive"),
            **ERRORS,
        },
    )
    def get(self, request: Request) -> HttpResponse:
        subject = subject_from(request.query_params)
        archive = requests.export_archive(subject=subject, requested_by=request.user.get_username())
        response = HttpResponse(archive, content_type="application/zip")
        response["Content-Disposition"] = f'attachment; filename="the-eye-{subject.kind}-export.zip"'
        return response


class ErasureView(APIView):
    """Queue the erasure of one subject's events, visits, visitor rows and progress (staff only)."""

    @extend_schema(request=SubjectInSerializer, responses={202: SubjectRequestSerializer, **ERRORS})
    def post(self, request: Request) -> Response:
        data = request.data if isinstance(request.data, dict) else {}
        subject = subject_from(data)
        record = requests.request_erasure(subject=subject, requested_by=request.user.get_username())
        return Response(SubjectRequestSerializer(record).data, status=status.HTTP_202_ACCEPTED)


class ErasureStatusView(APIView):
    """How far one erasure has got, and what it removed (staff only)."""

    @extend_schema(
        responses={
            200: SubjectRequestSerializer,
            401: ERRORS[401],
            403: ERRORS[403],
            404: OpenApiResponse(ErrorSerializer, description="no such request"),
        }
    )
    def get(self, request: Request, pk: int) -> Response:
        record = SubjectRequest.objects.filter(pk=pk).first()
        if record is None:
            raise ApiError(status_code=404, code="not_found", detail="no such request")
        return Response(SubjectRequestSerializer(record).data)
