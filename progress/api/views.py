"""The learner's progress API: heartbeats and marks from the watch page, and their own progress.

Session authentication only, so every write needs the CSRF token; the learner is always the
session's user, never a field of the body. Another learner's progress answers 404, as if it did
not exist.
"""

from __future__ import annotations

from typing import Any

from django.http import Http404
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import generics, permissions
from rest_framework.authentication import SessionAuthentication
from rest_framework.exceptions import NotFound
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from events.api.serializers import ErrorSerializer
from progress import tracking, video_events
from progress.api.serializers import HeartbeatIn, MarkIn, ProgressOut, StateOut
from progress.models import Progress
from progress.queries import state_for


class LearnerAPIView(APIView):
    authentication_classes = [SessionAuthentication]
    permission_classes = [permissions.IsAuthenticated]


ERRORS = {
    400: OpenApiResponse(ErrorSerializer, description="a field broke a rule; nothing changed"),
    403: OpenApiResponse(ErrorSerializer, description="not logged in, or no CSRF token"),
    415: OpenApiResponse(ErrorSerializer, description="not JSON"),
}
READ_ERRORS = {
    400: OpenApiResponse(ErrorSerializer, description="an unparsable filter value, named in `errors`"),
    403: OpenApiResponse(ErrorSerializer, description="not logged in"),
}


ERRORS_404 = OpenApiResponse(ErrorSerializer, description="not yours, or no such progress")


class HeartbeatView(LearnerAPIView):
    """`POST /api/progress/heartbeat/`: merge what the player played; answer the new state."""

    @extend_schema(request=HeartbeatIn, responses={200: StateOut, **ERRORS})
    def post(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        data = HeartbeatIn(data=request.data)
        data.is_valid(raise_exception=True)
        clean = data.validated_data
        heartbeat = tracking.Heartbeat(
            id=clean["id"],
            position=clean["position"],
            at=clean["at"],
            segments=clean["segments"],
            duration=clean.get("duration"),
            reason=clean["reason"],
        )
        state = tracking.record_heartbeat(
            learner=request.user,
            video=clean["video"],
            heartbeat=heartbeat,
            context=video_events.context_for(
                request=request,
                video=clean["video"],
                session_id=clean.get("session_id"),
                visitor_id=clean.get("visitor_id"),
            ),
        )
        return Response(state.as_dict())


class MarkView(LearnerAPIView):
    """`POST /api/progress/mark/`: the learner marks a tutorial complete or incomplete."""

    @extend_schema(request=MarkIn, responses={200: StateOut, **ERRORS})
    def post(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        data = MarkIn(data=request.data)
        data.is_valid(raise_exception=True)
        video = data.validated_data["video"]
        tracking.set_completed(
            learner=request.user,
            tutorial=video.tutorial,
            language=video.language,
            completed=data.validated_data["completed"],
        )
        return Response(state_for(learner=request.user, video=video).as_dict())


@extend_schema_view(get=extend_schema(responses={200: ProgressOut(many=True), **READ_ERRORS}))
class MyProgressList(generics.ListAPIView):
    """`GET /api/progress/`: the learner's own progress, most recent first."""

    authentication_classes = [SessionAuthentication]
    permission_classes = [permissions.IsAuthenticated]
    serializer_class = ProgressOut
    filterset_fields = ["language", "completed"]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation has no learner
            return Progress.objects.none()
        return Progress.objects.for_learner(self.request.user).select_related("tutorial__course")


class MyProgressDetail(MyProgressList, generics.RetrieveAPIView):
    """`GET /api/progress/<id>/`: one of the learner's own progress rows; anyone else's is 404."""

    @extend_schema(operation_id="progress_retrieve", responses={200: ProgressOut, 404: ERRORS_404, **READ_ERRORS})
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return self.retrieve(request, *args, **kwargs)

    def get_object(self) -> Progress:
        # DRF's NotFound (not Django's Http404) keeps the `not_found` code in the JSON body; the
        # answer is the same whether the row is another learner's or does not exist at all.
        try:
            return super().get_object()
        except Http404:
            raise NotFound("No progress of yours has this id.") from None
